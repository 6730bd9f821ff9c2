"""Rate limits of integration uplinks, and the lifecycle events that say when they bite.

- :func:`take_uplinks` takes tokens of the tenant's ``integrationMsgsPerIntegrationRateLimit``
  (this integration) and ``integrationMsgsPerTenantRateLimit`` (all of the tenant's integrations).
  Over a limit the HTTP ingress answers 429 with ``Retry-After``; a listener stops consuming until
  tokens are there again (integrations/listeners/batching.py), so that nothing it acknowledged is lost.
- :data:`EPISODES` turns refusals into ThingsBoard lifecycle events of the integration: SUSPENDED
  (status Failure, the limit in ``error``) at the first refusal, ACTIVATED once a message passes
  again after QUIET_SECONDS without refusals. An integration that stays over its limit gets one
  event, not one per message. Events are written from one background thread, in order.
"""

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

from django.db import close_old_connections, connection

from integrations import events
from integrations.models import Integration
from tenants import limits

__all__ = ["take_uplinks", "Episodes", "EPISODES", "QUIET_SECONDS", "SUSPENDED", "ACTIVATED"]

log = logging.getLogger(__name__)

#: ThingsBoard's ComponentLifecycleEvent names
SUSPENDED, ACTIVATED = "SUSPENDED", "ACTIVATED"
QUIET_SECONDS = 1.0


def take_uplinks(tenant_limits: limits.TenantLimits, integration_id, n: int = 1, *,
                 partial: bool = False) -> tuple[int, int, str]:
    """(granted, wait ms, the key of the limit that refused): the uplink limits of one integration.

    The integration's own limit is asked first; tokens it granted and the tenant's limit then
    refused are not given back (a small overcount, only while the tenant is over its limit)."""
    granted, wait = limits.take_with(tenant_limits, limits.UPLINKS_INTEGRATION, integration_id, n, partial=partial)
    if not granted:
        return 0, wait, limits.UPLINKS_INTEGRATION
    granted, wait = limits.take_with(tenant_limits, limits.UPLINKS_TENANT, tenant_limits.tenant_id, granted,
                                     partial=partial)
    return granted, wait, limits.UPLINKS_TENANT if not granted else ""


def describe_refusal(tenant_limits: limits.TenantLimits, key: str) -> str:
    return f"{key} ({limits.describe(tenant_limits.windows(key))})"


class Episodes:
    """Per integration: whether it is being refused now, and the events that say so."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self._refused: dict[str, float] = {}  # integration id -> last refusal
        self._lock = threading.Lock()
        self._writer: ThreadPoolExecutor | None = None

    def refused(self, integration_id, tenant_id, reason: str) -> None:
        key = str(integration_id)
        with self._lock:
            first = key not in self._refused
            self._refused[key] = self.clock()
        if first:
            self._write(key, tenant_id, SUSPENDED, reason)

    def passed(self, integration_id, tenant_id) -> None:
        if not self._refused:  # the common case: nobody is limited
            return
        key = str(integration_id)
        with self._lock:
            last = self._refused.get(key)
            if last is None or self.clock() - last < QUIET_SECONDS:
                return
            del self._refused[key]
        self._write(key, tenant_id, ACTIVATED, None)

    def is_refused(self, integration_id) -> bool:
        return str(integration_id) in self._refused

    def _write(self, integration_id: str, tenant_id, event: str, reason: str | None) -> None:
        if self._writer is None:
            with self._lock:
                if self._writer is None:
                    self._writer = ThreadPoolExecutor(1, thread_name_prefix="rate-limit-events")
        self._writer.submit(_record, integration_id, tenant_id, event, reason)

    def flush(self, timeout: float = 5.0) -> None:
        """Wait for the events submitted so far (tests)."""
        if self._writer is not None:
            self._writer.submit(lambda: None).result(timeout)

    def reset(self) -> None:
        with self._lock:
            self._refused.clear()


def _record(integration_id: str, tenant_id, event: str, reason: str | None) -> None:
    try:
        close_old_connections()
        if not Integration.objects.filter(pk=integration_id).exists():
            return
        integration = SimpleNamespace(pk=integration_id, tenant_id=tenant_id)
        error = f"Uplinks over the rate limit {reason}" if reason else None
        events.lifecycle(integration, event, error=error)
    except Exception:
        log.exception("could not record the %s event of integration %s", event, integration_id)
    finally:
        connection.close()  # events are rare: no connection is kept open in this thread between them


EPISODES = Episodes()
