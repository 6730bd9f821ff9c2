"""The contract of an AI provider: how its configuration looks, and one chat call over its wire format.

A provider is one class, listed by ThingsBoard's provider name in ai.providers.PROVIDERS. It declares the
fields of its ``providerConfig`` (``fields``: name -> required), which of them are secrets
(``secret_fields``, paths inside the model's configuration: write-only in the API), the optional model
parameters it takes (``params``) and whether it has a JSON mode (``json_mode``; ThingsBoard: not Anthropic,
Amazon Bedrock or GitHub Models). :meth:`Provider.chat` sends one request through a :class:`Transport`,
which is the only way out (tbproject/outbound.py's guard, the timeout, the size cap), and answers the text.
"""

import http.client
import json
import time
from dataclasses import dataclass, field

from tbproject import outbound

__all__ = ["AiError", "ChatRequest", "Transport", "Provider", "param", "USER", "ASSISTANT"]

USER, ASSISTANT = "user", "assistant"


class AiError(Exception):
    """A chat that did not answer. ``permanent``: the request itself is wrong (4xx, refused URL), so a retry
    cannot help; otherwise (timeout, 5xx, 429, unreachable) it may."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.message, self.permanent = message, permanent


@dataclass(frozen=True)
class ChatRequest:
    """One chat turn: an optional system prompt, the conversation so far ((role, text), the last one the
    user's), and the response format: None (text), {"type": "JSON"} or {"type": "JSON_SCHEMA", "schema": {}}."""

    system: str | None
    messages: list = field(default_factory=list)
    response_format: dict | None = None

    @property
    def json_schema(self):
        fmt = self.response_format or {}
        return fmt.get("schema") if fmt.get("type") == "JSON_SCHEMA" else None


class Transport:
    """POSTs JSON for a provider: ``guarded`` URLs (a tenant typed them) must name a public address unless
    ``allow_private``; answers larger than ``limit`` bytes, non-JSON answers and HTTP errors are AiErrors
    whose text never holds the request (keys travel in headers only)."""

    def __init__(self, label: str, *, timeout: float, limit: int, allow_private: bool, deadline: float | None = None):
        self.label, self.timeout, self.limit, self.allow_private = label, timeout, limit, allow_private
        self.deadline = deadline  # time.monotonic() by which every call must have answered (a total budget)

    def post(self, url: str, headers: dict, payload, *, guarded: bool = True) -> dict:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        headers = {"Content-Type": "application/json", "Accept": "application/json", **headers}
        now = time.monotonic()  # the whole call within the timeout, however slowly the answer drips
        allowed = self.timeout if self.deadline is None else max(0.0, min(self.timeout, self.deadline - now))
        try:
            if allowed <= 0:
                raise TimeoutError
            status, body = outbound.request("POST", url, data, headers, timeout=allowed,
                                            allow_private=self.allow_private or not guarded, limit=self.limit + 1,
                                            deadline=now + allowed)
        except outbound.UnsafeURL as e:
            raise AiError(f"{self.label}: {e}", permanent=True) from None
        except TimeoutError:
            raise AiError(f"{self.label} timed out: did not answer within {max(round(allowed, 1), 0.1):g} s") from None
        except (OSError, http.client.HTTPException) as e:
            raise AiError(f"{self.label} cannot be reached: {type(e).__name__}: {str(e)[:200]}") from None
        if len(body) > self.limit:
            raise AiError(f"{self.label} answered more than {self.limit} bytes", permanent=True)
        try:
            answer = json.loads(body.decode("utf-8")) if body.strip() else {}
        except ValueError:
            answer = None
        if status >= 300:
            detail = error_text(answer) or body[:300].decode("utf-8", "replace")
            raise AiError(f"{self.label} answered HTTP {status}: {detail}", permanent=status < 500 and status != 429)
        if not isinstance(answer, dict):
            raise AiError(f"{self.label} answered something that is not a JSON object", permanent=True)
        return answer


def error_text(answer) -> str:
    """The message of a provider's error body (OpenAI, Anthropic, Gemini: error.message; Ollama: error;
    Bedrock: message)."""
    if not isinstance(answer, dict):
        return ""
    error = answer.get("error")
    if isinstance(error, dict):
        error = error.get("message") or error.get("code")
    text = error if isinstance(error, str) else answer.get("message") or answer.get("Message")
    return str(text)[:500] if text else ""


def param(name: str, kind: type, *, low=None, high=None) -> tuple:
    """An optional model parameter: its name, int or float, and its bounds."""
    return (name, kind, low, high)


#: the parameters every chat model of ThingsBoard has
COMMON = (param("timeoutSeconds", int, low=1, high=600), param("maxRetries", int, low=0, high=100))


class Provider:
    """One provider: its ``kind`` (ThingsBoard's name), ``label``, ``fields`` of ``providerConfig`` (name ->
    required), ``secret_fields``, ``params``, ``json_mode``; :meth:`chat` implements the wire format."""

    kind = ""
    label = ""
    fields: dict[str, bool] = {}
    secret_fields: tuple[str, ...] = ()
    params: tuple = ()
    json_mode = True

    @classmethod
    def check(cls, configuration: dict) -> None:
        """Provider-specific checks beyond field presence and types; ValueError naming the problem."""

    def chat(self, configuration: dict, request: ChatRequest, transport: Transport) -> str:
        raise NotImplementedError

    @staticmethod
    def texts(parts, key: str = "text") -> str:
        """The texts of a list of content parts, joined."""
        if not isinstance(parts, list):
            return ""
        return "".join(str(p.get(key) or "") for p in parts if isinstance(p, dict))

    @staticmethod
    def options(configuration: dict, names: dict) -> dict:
        """{wire name: value} of the model parameters set in ``configuration`` (names: ours -> theirs)."""
        return {wire: configuration[ours] for ours, wire in names.items() if configuration.get(ours) is not None}
