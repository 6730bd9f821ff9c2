"""One chat call to an AI model, from a stored model or an unsaved configuration.

    complete(tenant_id, configuration, request, timeout=None, deadline=None) -> text  # AiError: no answer came
    prepare(tenant_id, configuration).call(request, timeout=None, deadline=None)   # the same in two steps
    with in_flight(tenant_id): ...      # a tenant's interactive calls in this process, capped (Throttled: 429)

The configuration's secret placeholders are resolved first (the tenant's own secrets, in the provider's
``secret_fields`` only); the call goes out through ai.providers.base.Transport (the outbound guard, the
timeout per call, the size cap). Errors that may pass (timeouts, 5xx, 429) are retried ``maxRetries`` times
(capped by AI_MAX_RETRIES), never past ``deadline`` (a time.monotonic() value bounding all the attempts). No
error text carries a credential: each resolved secret value is masked out of it.
"""

import logging
import threading
import time
from contextlib import contextmanager

from rest_framework.exceptions import Throttled

from ai import conf
from ai.configs import MASK, ConfigRefused, secret_keys
from ai.configs import clean as clean_config
from ai.providers import get_provider
from ai.providers.base import AiError, ChatRequest, Transport
from vault.resolution import SecretError, resolve

__all__ = ["complete", "prepare", "Prepared", "AiError", "ChatRequest", "supports", "in_flight"]

log = logging.getLogger(__name__)


_IN_FLIGHT: dict = {}  # tenant id -> its interactive calls running in this process
_IN_FLIGHT_LOCK = threading.Lock()


@contextmanager
def in_flight(tenant_id):
    """Hold one of the tenant's AI_MAX_CALLS_IN_FLIGHT_PER_TENANT slots while the block runs; a 429 (ThingsBoard's
    TOO_MANY_REQUESTS) when all are taken, so slow providers cannot hold every web worker."""
    with _IN_FLIGHT_LOCK:
        if _IN_FLIGHT.get(tenant_id, 0) >= conf.max_in_flight():
            raise Throttled(detail="Too many AI requests in progress")
        _IN_FLIGHT[tenant_id] = _IN_FLIGHT.get(tenant_id, 0) + 1
    try:
        yield
    finally:
        with _IN_FLIGHT_LOCK:
            _IN_FLIGHT[tenant_id] -= 1
            if not _IN_FLIGHT[tenant_id]:
                del _IN_FLIGHT[tenant_id]


def supports(configuration: dict, response_format: dict | None) -> bool:
    """Whether the model's provider has the response format (JSON and JSON_SCHEMA need a JSON mode)."""
    if not response_format or response_format.get("type") == "TEXT":
        return True
    return get_provider(configuration["provider"]).json_mode


def _timeout(configuration: dict, timeout) -> int:
    chosen = timeout or configuration.get("timeoutSeconds") or conf.default_timeout()
    return max(1, min(int(chosen), conf.max_timeout()))


def _scrub(text: str, values) -> str:
    for value in values:
        if isinstance(value, str) and len(value) >= 4:
            text = text.replace(value, MASK)
    return text


class Prepared:
    """A model made ready to call: its provider, the configuration with its secrets in, their values (to mask
    out of errors). Made in the thread that may use the database; called from any thread."""

    def __init__(self, provider, configuration: dict, values: list):
        self.provider, self.configuration, self.values = provider, configuration, values

    def call(self, request: ChatRequest, *, timeout: int | None = None, retries: int | None = None,
             deadline: float | None = None) -> str:
        """The answer to ``request``; ``timeout`` and ``retries`` (the rule node's) win over the model's; no
        attempt runs past ``deadline`` (time.monotonic())."""
        provider, configuration = self.provider, self.configuration
        if not supports(configuration, request.response_format):
            raise AiError(f"{provider.label} models do not support the '{request.response_format['type']}' "
                          "response format", permanent=True)
        transport = Transport(provider.label, timeout=_timeout(configuration, timeout),
                              limit=conf.max_response_bytes(), allow_private=conf.allow_private_urls(),
                              deadline=deadline)
        wanted = (configuration.get("maxRetries") or 0) if retries is None else retries
        attempts = 1 + min(wanted, conf.max_retries())
        for attempt in range(attempts):
            try:
                return provider.chat(configuration, request, transport)
            except (KeyError, TypeError, ValueError, AttributeError) as e:  # an answer of a shape not foreseen
                raise AiError(f"{provider.label} answered unexpectedly ({type(e).__name__})", permanent=True) from None
            except AiError as e:
                e.message = _scrub(e.message, self.values)
                e.args = (e.message,)
                if e.permanent or attempt + 1 == attempts or (deadline is not None and time.monotonic() >= deadline):
                    raise
                log.info("AI model call failed, retrying: %s", e.message)
        raise AssertionError("unreachable")


def prepare(tenant_id, configuration: dict) -> Prepared:
    """Check the configuration and resolve its secret placeholders (the tenant's own); AiError if it cannot run."""
    try:
        configuration = clean_config(configuration)
    except ConfigRefused as e:
        raise AiError(str(e), permanent=True) from None
    provider = get_provider(configuration["provider"])()
    keys = secret_keys(provider)
    try:
        configuration = resolve(tenant_id, configuration, keys)
    except SecretError as e:
        raise AiError(e.message, permanent=True) from None
    values = []
    for path in keys:
        value = configuration
        for key in path:
            value = value.get(key) if isinstance(value, dict) else None
        if value == MASK:
            raise AiError(f"{'.'.join(path[1:])} is masked: enter the credential or a secret placeholder",
                          permanent=True)
        values.append(value)
    return Prepared(provider, configuration, values)


def complete(tenant_id, configuration: dict, request: ChatRequest, *, timeout: int | None = None,
             retries: int | None = None, deadline: float | None = None) -> str:
    """The model's answer to ``request`` (prepare, then call); AiError when none came."""
    return prepare(tenant_id, configuration).call(request, timeout=timeout, retries=retries, deadline=deadline)
