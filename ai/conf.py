"""The AI models' settings: Django settings when set there, else the environment.

- AI_ALLOW_PRIVATE_URLS: whether a URL a tenant typed (an OpenAI-compatible or Ollama base URL, an Azure
  endpoint, a Vertex AI token URI) may name a loopback, private, link-local or reserved address (false:
  refused, tbproject/outbound.py; true only for a closed network with a local Ollama, or tests).
- AI_MAX_TIMEOUT_SECONDS: the longest one call to a provider may wait for an answer (600, as ThingsBoard's
  rule node allows); a model's ``timeoutSeconds`` (default AI_DEFAULT_TIMEOUT_SECONDS, 60) is capped to it.
- AI_MAX_RESPONSE_BYTES: the largest answer read from a provider (4 MiB); a larger one is a failure.
- AI_MAX_RETRIES: the cap of a model's ``maxRetries`` (3).
- AI_NODE_BATCH_BUDGET_SECONDS: the longest the AI request rule node holds a rule-engine worker per batch (60;
  the node's ``timeoutSeconds`` if shorter): calls unanswered by then leave by Failure, "timed out".
- AI_INTERACTIVE_BUDGET_SECONDS: the longest a test chat or a chat message waits, retries included (120).
- AI_MAX_CALLS_IN_FLIGHT_PER_TENANT: a tenant's interactive calls at once in one process (4; more: a 429).
- AI_CHAT_HISTORY_MAX_CHARS: the most characters of a chat's earlier messages sent with a new one (200,000).
- AI_OPENAI_API_URL, AI_ANTHROPIC_API_URL, AI_GEMINI_API_URL, AI_VERTEX_API_URL, AI_MISTRAL_API_URL,
  AI_GITHUB_MODELS_API_URL, AI_BEDROCK_API_URL: the providers' public endpoints (the operator's, so not
  guarded; a regional one: ``{region}``/``{location}`` in it). Tests point them at a mocked cloud.
"""

from django.conf import settings

from tbproject.env import env_bool, env_int, env_str

__all__ = ["allow_private_urls", "default_timeout", "max_timeout", "max_response_bytes", "max_retries", "api_url",
           "node_batch_budget", "interactive_budget", "max_in_flight", "history_max_chars"]

_URLS = {
    "OPENAI": "https://api.openai.com/v1",
    "ANTHROPIC": "https://api.anthropic.com/v1",
    "GEMINI": "https://generativelanguage.googleapis.com/v1beta",
    "VERTEX": "https://{location}-aiplatform.googleapis.com/v1",
    "MISTRAL": "https://api.mistral.ai/v1",
    "GITHUB_MODELS": "https://models.github.ai/inference",
    "BEDROCK": "https://bedrock-runtime.{region}.amazonaws.com",
}


def _get(name: str, default):
    value = getattr(settings, name, None)
    return default() if value is None else value


def allow_private_urls() -> bool:
    return bool(_get("AI_ALLOW_PRIVATE_URLS", lambda: env_bool("AI_ALLOW_PRIVATE_URLS", False)))


def default_timeout() -> int:
    return int(_get("AI_DEFAULT_TIMEOUT_SECONDS", lambda: env_int("AI_DEFAULT_TIMEOUT_SECONDS", 60, minimum=1)))


def max_timeout() -> int:
    return int(_get("AI_MAX_TIMEOUT_SECONDS", lambda: env_int("AI_MAX_TIMEOUT_SECONDS", 600, minimum=1)))


def max_response_bytes() -> int:
    return int(_get("AI_MAX_RESPONSE_BYTES", lambda: env_int("AI_MAX_RESPONSE_BYTES", 4 * 1024 * 1024, minimum=1024)))


def max_retries() -> int:
    return int(_get("AI_MAX_RETRIES", lambda: env_int("AI_MAX_RETRIES", 3, minimum=0)))


def node_batch_budget() -> float:
    return float(_get("AI_NODE_BATCH_BUDGET_SECONDS", lambda: env_int("AI_NODE_BATCH_BUDGET_SECONDS", 60, minimum=1)))


def interactive_budget() -> float:
    return float(_get("AI_INTERACTIVE_BUDGET_SECONDS",
                      lambda: env_int("AI_INTERACTIVE_BUDGET_SECONDS", 120, minimum=1)))


def max_in_flight() -> int:
    return int(_get("AI_MAX_CALLS_IN_FLIGHT_PER_TENANT",
                    lambda: env_int("AI_MAX_CALLS_IN_FLIGHT_PER_TENANT", 4, minimum=1)))


def history_max_chars() -> int:
    return int(_get("AI_CHAT_HISTORY_MAX_CHARS", lambda: env_int("AI_CHAT_HISTORY_MAX_CHARS", 200_000, minimum=1)))


def api_url(kind: str) -> str:
    """The endpoint of a provider whose address the model does not carry (no trailing slash)."""
    name = f"AI_{kind}_API_URL"
    return str(_get(name, lambda: env_str(name, _URLS[kind]))).rstrip("/")
