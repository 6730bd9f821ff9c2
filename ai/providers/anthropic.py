"""Anthropic's Messages API.

    POST {base}/messages  x-api-key, anthropic-version
         {"model", "max_tokens", "system", "messages": [{"role", "content"}], "temperature", "top_p", "top_k"}
    -> {"content": [{"type": "text", "text": "..."}], "stop_reason"}
"""

from ai import conf
from ai.providers.base import COMMON, AiError, Provider, param

__all__ = ["AnthropicProvider", "DEFAULT_MAX_TOKENS"]

API_VERSION = "2023-06-01"
#: the API requires max_tokens; what a model without maxOutputTokens asks for
DEFAULT_MAX_TOKENS = 4096


class AnthropicProvider(Provider):
    kind, label = "ANTHROPIC", "Anthropic"
    fields = {"apiKey": True}
    secret_fields = ("providerConfig.apiKey",)
    params = (param("temperature", float, low=0, high=1), param("topP", float, low=0, high=1),
              param("topK", int, low=1), param("maxOutputTokens", int, low=1), *COMMON)
    json_mode = False

    def chat(self, configuration, request, transport) -> str:
        body = {"model": configuration["modelId"],
                "max_tokens": configuration.get("maxOutputTokens") or DEFAULT_MAX_TOKENS,
                "messages": [{"role": role, "content": text} for role, text in request.messages]}
        if request.system:
            body["system"] = request.system
        body.update(self.options(configuration, {"temperature": "temperature", "topP": "top_p", "topK": "top_k"}))
        headers = {"x-api-key": configuration["providerConfig"]["apiKey"], "anthropic-version": API_VERSION}
        answer = transport.post(f"{conf.api_url('ANTHROPIC')}/messages", headers, body, guarded=False)
        content = answer.get("content")
        if not isinstance(content, list):
            raise AiError("Anthropic answered no content", permanent=True)
        return self.texts([p for p in content if isinstance(p, dict) and p.get("type", "text") == "text"])
