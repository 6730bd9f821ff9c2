"""Google's Gemini generateContent, through the Gemini API (an API key) or Vertex AI (a service account).

    POST {base}/models/{model}:generateContent                       x-goog-api-key (Gemini API)
    POST {vertex}/projects/{p}/locations/{l}/publishers/google/models/{model}:generateContent   Bearer token
         {"contents": [{"role": "user"|"model", "parts": [{"text"}]}], "systemInstruction": {"parts": [...]},
          "generationConfig": {"temperature", ..., "responseMimeType", "responseSchema"}}
    -> {"candidates": [{"content": {"parts": [{"text": "..."}]}}]}

Vertex AI's token: a JWT signed (RS256) with the service account's private key, exchanged at its
``token_uri`` (OAuth 2.0 JWT bearer grant); kept until a minute before it expires.
"""

import hashlib
import json
import re
import threading
import time
import urllib.parse

import jwt

from ai import conf
from ai.providers.base import COMMON, AiError, Provider, param

__all__ = ["GeminiProvider", "VertexAiProvider", "load_service_account"]

SAMPLING = (param("temperature", float, low=0, high=2), param("topP", float, low=0, high=1),
            param("topK", int, low=1), param("frequencyPenalty", float, low=-2, high=2),
            param("presencePenalty", float, low=-2, high=2), param("maxOutputTokens", int, low=1), *COMMON)
SCOPE = "https://www.googleapis.com/auth/cloud-platform"
_NAME = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")


class _Gemini(Provider):
    params = SAMPLING

    def body(self, configuration, request) -> dict:
        roles = {"user": "user", "assistant": "model"}
        body = {"contents": [{"role": roles[role], "parts": [{"text": text}]} for role, text in request.messages]}
        if request.system:
            body["systemInstruction"] = {"parts": [{"text": request.system}]}
        generation = self.options(configuration, {"temperature": "temperature", "topP": "topP", "topK": "topK",
                                                  "frequencyPenalty": "frequencyPenalty",
                                                  "presencePenalty": "presencePenalty",
                                                  "maxOutputTokens": "maxOutputTokens"})
        if request.response_format:
            generation["responseMimeType"] = "application/json"
            if request.json_schema is not None:
                generation["responseSchema"] = request.json_schema
        if generation:
            body["generationConfig"] = generation
        return body

    def text_of(self, answer: dict) -> str:
        candidates = answer.get("candidates")
        if not isinstance(candidates, list) or not candidates or not isinstance(candidates[0], dict):
            blocked = (answer.get("promptFeedback") or {}).get("blockReason") if isinstance(
                answer.get("promptFeedback"), dict) else None
            raise AiError(f"{self.label} answered no candidate" + (f" (blocked: {blocked})" if blocked else ""),
                          permanent=True)
        content = candidates[0].get("content")
        return self.texts(content.get("parts") if isinstance(content, dict) else None)


class GeminiProvider(_Gemini):
    kind, label = "GOOGLE_AI_GEMINI", "Google AI Gemini"
    fields = {"apiKey": True}
    secret_fields = ("providerConfig.apiKey",)

    def chat(self, configuration, request, transport) -> str:
        model = urllib.parse.quote(configuration["modelId"], safe="")
        url = f"{conf.api_url('GEMINI')}/models/{model}:generateContent"
        headers = {"x-goog-api-key": configuration["providerConfig"]["apiKey"]}
        return self.text_of(transport.post(url, headers, self.body(configuration, request), guarded=False))


def load_service_account(text) -> dict:
    """The service account key file's JSON (client_email, private_key, token_uri); ValueError if it is not one."""
    try:
        key = json.loads(text) if isinstance(text, str) else None
    except ValueError:
        key = None
    if not isinstance(key, dict) or not all(isinstance(key.get(k), str) and key[k] for k in
                                            ("client_email", "private_key")):
        raise ValueError("providerConfig.serviceAccountKey must be a service account key file (JSON with "
                         "client_email and private_key)")
    return key


_tokens: dict[str, tuple[str, float]] = {}
_lock = threading.Lock()


class VertexAiProvider(_Gemini):
    kind, label = "GOOGLE_VERTEX_AI_GEMINI", "Google Vertex AI Gemini"
    fields = {"fileName": False, "projectId": True, "location": True, "serviceAccountKey": True}
    secret_fields = ("providerConfig.serviceAccountKey",)

    @classmethod
    def check(cls, configuration) -> None:
        provider = configuration["providerConfig"]
        for name in ("projectId", "location"):
            if not _NAME.fullmatch(provider[name]):
                raise ValueError(f"providerConfig.{name} must be a Google Cloud {name} (lowercase letters, digits, -)")
        key = provider["serviceAccountKey"]
        if "${secret:" not in key and key != "******":
            load_service_account(key)

    def token(self, key: dict, transport) -> str:
        cache_key = hashlib.sha256(key["private_key"].encode()).hexdigest() + key["client_email"]
        with _lock:
            kept = _tokens.get(cache_key)
        if kept and kept[1] > time.time() + 60:
            return kept[0]
        token_uri = key.get("token_uri") or "https://oauth2.googleapis.com/token"
        now = int(time.time())
        try:
            assertion = jwt.encode({"iss": key["client_email"], "scope": SCOPE, "aud": token_uri, "iat": now,
                                    "exp": now + 3600}, key["private_key"], algorithm="RS256")
        except (ValueError, TypeError, jwt.PyJWTError) as e:
            raise AiError(f"the service account's private key cannot sign: {type(e).__name__}",
                          permanent=True) from None
        form = urllib.parse.urlencode({"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer",
                                       "assertion": assertion}).encode()
        answer = transport.post(token_uri, {"Content-Type": "application/x-www-form-urlencoded"}, form, guarded=True)
        token = answer.get("access_token")
        if not isinstance(token, str) or not token:
            raise AiError("Google's token endpoint answered no access_token", permanent=True)
        with _lock:
            _tokens[cache_key] = (token, time.time() + float(answer.get("expires_in") or 3600))
        return token

    def chat(self, configuration, request, transport) -> str:
        provider = configuration["providerConfig"]
        try:
            key = load_service_account(provider["serviceAccountKey"])
        except ValueError as e:
            raise AiError(str(e), permanent=True) from None
        project, location = provider["projectId"], provider["location"]
        model = urllib.parse.quote(configuration["modelId"], safe="")
        base = conf.api_url("VERTEX").replace("{location}", location)
        url = f"{base}/projects/{project}/locations/{location}/publishers/google/models/{model}:generateContent"
        headers = {"Authorization": f"Bearer {self.token(key, transport)}"}
        return self.text_of(transport.post(url, headers, self.body(configuration, request), guarded=False))
