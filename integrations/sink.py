"""What the listener host gives each running listener: the UplinkSink of types/base.py.

- ``await sink(uplinks)`` hands a batch to ``integrations.queue.accept_many`` in a thread (the
  database or broker call must not block the event loop) and returns once it is queued.
- ``sink.report(connected=..., error=..., method=...)`` writes the status columns: "connected"
  and the last error; a new connection clears the error. A changed error also becomes an ERROR
  event whose ``method`` says what failed (connect, subscribe, queue).
- ``await sink.admit(n)`` returns how many of ``n`` uplinks the tenant profile's rate limits let
  through now (at least 1), waiting until one may pass: the batcher calls it before handing a
  batch on, so a listener over its limit stops acknowledging and consuming instead of dropping
  (integrations/throttle.py; SUSPENDED and ACTIVATED lifecycle events say when).
- ``sink.dropped(metadata, payload, reason)`` records a message the listener refused as a
  failed DEBUG_INTEGRATION event (debug policy and hourly cap apply) and counts it as an error.

Status and event writes go through the host's single control thread, in order, fire and forget.
"""

import asyncio
import logging
from concurrent.futures import Executor

from django.db import close_old_connections

from converters.events import write_events
from integrations import events, queue, stats, throttle
from integrations.messages import RawUplink
from integrations.models import Integration
from tbproject.clock import now_ms
from tenants import limits

__all__ = ["RunnerSink", "write_status", "record_lifecycle", "record_dropped", "with_connection"]

log = logging.getLogger(__name__)


def with_connection(func, *args, **kwargs):
    """Call ``func`` in a thread of the host, whose database connection outlives calls."""
    close_old_connections()  # drop a broken or expired connection first, as requests do
    return func(*args, **kwargs)


def _logged(func, *args, **kwargs):
    try:
        with_connection(func, *args, **kwargs)
    except Exception:
        log.exception("listener host: %s failed", getattr(func, "__name__", func))


def write_status(integration_id, *, connected: bool | None = None, error: str | None = None,
                 service_id: str | None = None) -> None:
    """One UPDATE of the status columns (never ``save()``: that would bump the version)."""
    changes: dict = {}
    if connected is not None:
        changes["connected"] = connected
    if error is not None:
        changes["last_error"] = error
        if error:
            changes["last_error_ts"] = now_ms()
    if service_id is not None:
        changes["service_id"] = service_id
    if changes:
        Integration.objects.filter(pk=integration_id).update(**changes)


def record_lifecycle(integration, event: str, *, error: str | None = None, connected: bool | None = None,
                     service_id: str | None = None) -> None:
    """An LC_EVENT plus the matching status columns (a failure also sets last_error)."""
    if not Integration.objects.filter(pk=integration.pk).exists():
        return  # deleted: its events went with it
    events.lifecycle(integration, event, error=error)
    write_status(integration.pk, connected=connected, error=error, service_id=service_id)


class RunnerSink:
    """The UplinkSink of one running integration; ``integration`` is refreshed by the host."""

    def __init__(self, integration, *, loop, uplink_executor: Executor, control_executor: Executor):
        self.integration = integration
        self.loop, self.uplink_executor, self.control_executor = loop, uplink_executor, control_executor
        self._last_error: str | None = None

    async def __call__(self, uplinks: list[RawUplink]) -> None:
        await self.loop.run_in_executor(self.uplink_executor, with_connection, queue.accept_many, uplinks)

    async def admit(self, n: int) -> int:
        integration = self.integration
        while True:
            tenant_limits = limits.cached(integration.tenant_id)
            if tenant_limits is None:
                tenant_limits = await self.loop.run_in_executor(self.uplink_executor, with_connection,
                                                                limits.limits_of, integration.tenant_id)
            if not tenant_limits.limits_uplinks:
                return n
            granted, wait_ms, key = throttle.take_uplinks(tenant_limits, integration.pk, n, partial=True)
            if granted:
                throttle.EPISODES.passed(integration.pk, integration.tenant_id)
                return granted
            throttle.EPISODES.refused(integration.pk, integration.tenant_id,
                                      throttle.describe_refusal(tenant_limits, key))
            await asyncio.sleep(min(wait_ms / 1000, 1.0))  # a changed profile is seen within a second

    def control(self, func, *args, **kwargs) -> None:
        """Run ``func`` in the control thread, after what was submitted before; don't wait."""
        try:
            self.control_executor.submit(_logged, func, *args, **kwargs)
        except RuntimeError:  # the host is shutting down
            pass

    def report(self, *, connected: bool | None = None, error: str | None = None, method: str = "connect") -> None:
        if error and error != self._last_error:
            self.control(events.error_event, self.integration, method, error)
        if error is not None:
            self._last_error = error or None
        self.control(write_status, self.integration.pk, connected=connected, error=error)

    def dropped(self, metadata: dict[str, str], payload: bytes, reason: str) -> None:
        log.warning("integration %s dropped a message (%s): %s", self.integration.pk, metadata.get("topic", ""), reason)
        self.control(record_dropped, self.integration, payload, reason)


def record_dropped(integration, payload: bytes, reason: str) -> None:
    """A message a listener refused: a failed DEBUG_INTEGRATION event (policy and cap apply), one error."""
    now = now_ms()
    event = events.uplink_event(integration, payload, None, error=reason, now=now)
    already = stats.add(integration.pk, processed=0, errors=1, debug_events=1 if event else 0, now=now)
    if event is not None:
        write_events(events.capped(integration, [event], already=already, now=now))
