"""Events of integrations (reference section 5): DEBUG_INTEGRATION, LC_EVENT, ERROR, and the debug cap.

- ``uplink_event`` builds the DEBUG_INTEGRATION event of one uplink under the integration's debug
  policy (converters.events.should_record: everything while "debug all" is on, failures while
  ``debug_failures_enabled``). Body: ``type`` (Uplink), ``server``, ``messageType``
  (JSON/TEXT/BINARY), ``message`` (the payload as text, base64 for binary), ``status`` (OK or
  ERROR) and ``error``. The pipeline collects these per batch and writes them in one INSERT.
- ``lifecycle`` records an LC_EVENT at once (``event`` STARTED/STOPPED/UPDATED/..., ``status``
  Success or Failure, ``error``); ``error_event`` an ERROR event (``method``, ``error``). They
  are rare and never capped: the listener host and the API call them.
- ``capped`` applies INTEGRATION_DEBUG_EVENTS_PER_HOUR: a noisy device cannot fill the disk.
"""

from django.conf import settings

from converters.choices import EventEntityType, EventType
from converters.events import server_name, should_record, truncate, write_events
from converters.models import DebugEvent
from converters.services import detect_content_type
from tbproject.clock import now_ms

__all__ = ["UPLINK", "DOWNLINK", "OK", "ERROR", "STARTED", "STOPPED", "UPDATED", "CREATED", "FAILED",
           "uplink_event", "lifecycle", "error_event", "capped"]

UPLINK, DOWNLINK = "Uplink", "Downlink"
OK, ERROR = "OK", "ERROR"
#: LC_EVENT ``event`` values (ThingsBoard's ComponentLifecycleEvent names)
CREATED, STARTED, STOPPED, UPDATED, FAILED = "CREATED", "STARTED", "STOPPED", "UPDATED", "FAILED"


def _event(integration, event_type: str, body: dict, *, is_error: bool, now: int) -> DebugEvent:
    return DebugEvent(tenant_id=integration.tenant_id, entity_type=EventEntityType.INTEGRATION,
                      entity_id=integration.pk, event_type=event_type, created_time=now, server=body["server"],
                      is_error=is_error, body=body)


def uplink_event(integration, payload: bytes, content_type: str | None, *, error: str | None = None,
                 status: str | None = None, now: int | None = None) -> DebugEvent | None:
    """The DEBUG_INTEGRATION event of one uplink, or None when the debug policy skips it. Not saved."""
    now = now_ms() if now is None else now
    failed = bool(error)
    if not should_record(integration.debug_failures_enabled, integration.debug_all_enabled_until,
                         failed=failed, now=now):
        return None
    kind, text = detect_content_type(payload, content_type)
    body = {"type": UPLINK, "server": server_name(), "messageType": kind, "message": truncate(text),
            "status": status or (ERROR if failed else OK)}
    if failed:
        body["error"] = truncate(error)
    return _event(integration, EventType.DEBUG_INTEGRATION, body, is_error=failed, now=now)


def lifecycle(integration, event: str, *, error: str | None = None, now: int | None = None,
              server: str | None = None) -> DebugEvent:
    """Record an LC_EVENT now (``status`` Failure when ``error`` is given); ``server``: where it
    happened, this process's host by default (a remote runner's events name the remote)."""
    body = {"server": server or server_name(), "event": event, "status": "Failure" if error else "Success"}
    if error:
        body["error"] = truncate(error)
    row = _event(integration, EventType.LC_EVENT, body, is_error=bool(error), now=now_ms() if now is None else now)
    write_events([row])
    return row


def error_event(integration, method: str, error: str, *, now: int | None = None) -> DebugEvent:
    """Record an ERROR event now: ``method`` says what was being done (e.g. "connect")."""
    body = {"server": server_name(), "method": method, "error": truncate(error)}
    row = _event(integration, EventType.ERROR, body, is_error=True, now=now_ms() if now is None else now)
    write_events([row])
    return row


def capped(integration, events: list[DebugEvent], *, already: int, now: int,
           limit: int | None = None) -> list[DebugEvent]:
    """The events to keep when ``already`` were asked for earlier in this hour.

    Failures are kept before successes. The batch that crosses the limit also gets one event
    saying so, so that a user looking at the debug tab knows why it goes quiet."""
    limit = settings.INTEGRATION_DEBUG_EVENTS_PER_HOUR if limit is None else limit
    room = max(0, limit - already)
    if len(events) <= room:
        return events
    kept = sorted(events, key=lambda e: not e.is_error)[:room]
    if already <= limit:  # the first batch of the hour that is cut; later ones have already > limit
        note = (f"Debug events of this integration are capped at {limit} per hour "
                "(INTEGRATION_DEBUG_EVENTS_PER_HOUR): further events of this hour are not recorded")
        body = {"type": UPLINK, "server": server_name(), "messageType": "TEXT", "message": "", "status": ERROR,
                "error": note}
        kept.append(_event(integration, EventType.DEBUG_INTEGRATION, body, is_error=True, now=now))
    return kept
