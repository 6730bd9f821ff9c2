"""Ollama's chat API, on a server the tenant names (a private address only with AI_ALLOW_PRIVATE_URLS).

    POST {baseUrl}/api/chat  {"model", "messages": [{"role", "content"}], "stream": false,
                              "options": {"temperature", "top_p", "top_k", "num_ctx", "num_predict"},
                              "format": "json" | {schema}}
    -> {"message": {"role": "assistant", "content": "..."}, "done": true}

Authentication (ThingsBoard's OllamaAuth): {"type": "NONE"}, {"type": "BASIC", "username", "password"} or
{"type": "TOKEN", "token"} (a bearer token, as a proxy in front of Ollama expects).
"""

import base64

from ai.providers.base import COMMON, AiError, Provider, param

__all__ = ["OllamaProvider", "AUTH_FIELDS"]

#: auth type -> its required fields
AUTH_FIELDS = {"NONE": (), "BASIC": ("username", "password"), "TOKEN": ("token",)}


class OllamaProvider(Provider):
    kind, label = "OLLAMA", "Ollama"
    fields = {"baseUrl": True}
    secret_fields = ("providerConfig.auth.password", "providerConfig.auth.token")
    params = (param("temperature", float, low=0, high=2), param("topP", float, low=0, high=1),
              param("topK", int, low=1), param("contextLength", int, low=1), param("maxOutputTokens", int, low=1),
              *COMMON)

    @classmethod
    def check(cls, configuration) -> None:
        auth = configuration["providerConfig"].get("auth")
        if auth is None:
            configuration["providerConfig"]["auth"] = {"type": "NONE"}
            return
        kind = auth.get("type") if isinstance(auth, dict) else None
        if kind not in AUTH_FIELDS:
            raise ValueError("providerConfig.auth.type must be one of NONE, BASIC, TOKEN")
        for name in AUTH_FIELDS[kind]:
            if not isinstance(auth.get(name), str) or not auth[name]:
                raise ValueError(f"providerConfig.auth.{name} is required for {kind} authentication")
        configuration["providerConfig"]["auth"] = {"type": kind, **{n: auth[n] for n in AUTH_FIELDS[kind]}}

    def chat(self, configuration, request, transport) -> str:
        provider = configuration["providerConfig"]
        messages = [{"role": "system", "content": request.system}] if request.system else []
        body = {"model": configuration["modelId"], "stream": False,
                "messages": messages + [{"role": role, "content": text} for role, text in request.messages]}
        options = self.options(configuration, {"temperature": "temperature", "topP": "top_p", "topK": "top_k",
                                               "contextLength": "num_ctx", "maxOutputTokens": "num_predict"})
        if options:
            body["options"] = options
        if request.response_format:
            body["format"] = request.json_schema if request.json_schema is not None else "json"
        auth = provider.get("auth") or {}
        headers = {}
        if auth.get("type") == "BASIC":
            token = base64.b64encode(f"{auth['username']}:{auth['password']}".encode()).decode()
            headers["Authorization"] = f"Basic {token}"
        elif auth.get("type") == "TOKEN":
            headers["Authorization"] = f"Bearer {auth['token']}"
        answer = transport.post(f"{provider['baseUrl'].strip().rstrip('/')}/api/chat", headers, body, guarded=True)
        message = answer.get("message")
        if not isinstance(message, dict) or not isinstance(message.get("content"), str):
            raise AiError("Ollama answered no message content", permanent=True)
        return message["content"]
