"""OpenAI's chat completions wire format, and the providers that speak it: OpenAI (and any OpenAI-compatible
server at a custom base URL), Azure OpenAI, Mistral AI and GitHub Models.

    POST {base}/chat/completions  {"model", "messages": [{"role", "content"}], "temperature", ...,
                                   "response_format": {"type": "json_object"} | {"type": "json_schema", ...}}
    -> {"choices": [{"message": {"content": "..."}}]}
"""

import urllib.parse

from ai import conf
from ai.providers.base import COMMON, AiError, ChatRequest, Provider, Transport, param

__all__ = ["OpenAiProvider", "AzureOpenAiProvider", "MistralAiProvider", "GitHubModelsProvider"]

SAMPLING = (param("temperature", float, low=0, high=2), param("topP", float, low=0, high=1),
            param("frequencyPenalty", float, low=-2, high=2), param("presencePenalty", float, low=-2, high=2),
            param("maxOutputTokens", int, low=1))
AZURE_API_VERSION = "2024-10-21"


class ChatCompletions(Provider):
    """The body and the answer of a chat completions call; subclasses give the URL and the headers."""

    params = (*SAMPLING, *COMMON)
    max_tokens_key = "max_tokens"
    sends_model = True

    def body(self, configuration: dict, request: ChatRequest) -> dict:
        messages = [{"role": "system", "content": request.system}] if request.system else []
        messages += [{"role": role, "content": text} for role, text in request.messages]
        body = {"model": configuration["modelId"]} if self.sends_model else {}
        body["messages"] = messages
        body.update(self.options(configuration, {"temperature": "temperature", "topP": "top_p",
                                                 "frequencyPenalty": "frequency_penalty",
                                                 "presencePenalty": "presence_penalty",
                                                 "maxOutputTokens": self.max_tokens_key}))
        fmt = (request.response_format or {}).get("type")
        if fmt == "JSON":
            body["response_format"] = {"type": "json_object"}
        elif fmt == "JSON_SCHEMA":
            body["response_format"] = {"type": "json_schema",
                                       "json_schema": {"name": "response", "schema": request.json_schema}}
        return body

    def endpoint(self, configuration: dict) -> tuple[str, dict, bool]:
        """(URL, auth headers, whether the URL is the tenant's and so guarded)."""
        raise NotImplementedError

    def chat(self, configuration, request, transport: Transport) -> str:
        url, headers, guarded = self.endpoint(configuration)
        answer = transport.post(url, headers, self.body(configuration, request), guarded=guarded)
        choices = answer.get("choices")
        message = choices[0].get("message") if isinstance(choices, list) and choices and isinstance(
            choices[0], dict) else None
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            raise AiError(f"{self.label} answered no message content", permanent=True)
        return message["content"]


def _bearer(token) -> dict:
    return {"Authorization": f"Bearer {token}"} if token else {}


class OpenAiProvider(ChatCompletions):
    kind, label = "OPENAI", "OpenAI"
    fields = {"baseUrl": False, "apiKey": False}  # a custom base URL: an OpenAI-compatible server
    secret_fields = ("providerConfig.apiKey",)
    max_tokens_key = "max_completion_tokens"

    def endpoint(self, configuration):
        provider = configuration["providerConfig"]
        base = (provider.get("baseUrl") or "").strip().rstrip("/")
        url = f"{base or conf.api_url('OPENAI')}/chat/completions"
        return url, _bearer(provider.get("apiKey")), bool(base)


class AzureOpenAiProvider(ChatCompletions):
    """``modelId`` is the deployment's name; ``serviceVersion`` the api-version (AZURE_API_VERSION)."""

    kind, label = "AZURE_OPENAI", "Azure OpenAI"
    fields = {"endpoint": True, "serviceVersion": False, "apiKey": True}
    secret_fields = ("providerConfig.apiKey",)
    sends_model = False

    def endpoint(self, configuration):
        provider = configuration["providerConfig"]
        deployment = urllib.parse.quote(configuration["modelId"], safe="")
        version = urllib.parse.quote(provider.get("serviceVersion") or AZURE_API_VERSION, safe="")
        url = f"{provider['endpoint'].strip().rstrip('/')}/openai/deployments/{deployment}/chat/completions"
        return f"{url}?api-version={version}", {"api-key": provider["apiKey"]}, True


class MistralAiProvider(ChatCompletions):
    kind, label = "MISTRAL_AI", "Mistral AI"
    fields = {"apiKey": True}
    secret_fields = ("providerConfig.apiKey",)

    def endpoint(self, configuration):
        return f"{conf.api_url('MISTRAL')}/chat/completions", _bearer(configuration["providerConfig"]["apiKey"]), False


class GitHubModelsProvider(ChatCompletions):
    kind, label = "GITHUB_MODELS", "GitHub Models"
    fields = {"personalAccessToken": True}
    secret_fields = ("providerConfig.personalAccessToken",)
    json_mode = False

    def endpoint(self, configuration):
        token = configuration["providerConfig"]["personalAccessToken"]
        return f"{conf.api_url('GITHUB_MODELS')}/chat/completions", _bearer(token), False
