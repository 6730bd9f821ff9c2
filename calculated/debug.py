"""Debug events of calculated fields (ThingsBoard's DEBUG_CALCULATED_FIELD).

Recorded under the policy converters and rule nodes follow (converters.events.should_record: every
computation while "all" is on, failures while ``failuresEnabled``), written in one bulk INSERT per
batch of computations, and removed after DEBUG_EVENTS_TTL_DAYS with the other debug events
(calculated/tasks.py). The body has ThingsBoard's CalculatedFieldDebugEvent fields; ThingsBoard's
events API (``/api/events/CALCULATED_FIELD/{id}/DEBUG_CALCULATED_FIELD``, converters/api/events.py)
pages them.
"""

import json

from django.conf import settings

from calculated.models import CalculatedFieldEvent
from converters.events import server_name, should_record, truncate
from tbproject.clock import now_ms

__all__ = ["Recorder", "body", "latest", "prune"]


def _text(value) -> str | None:
    return None if value is None else truncate(json.dumps(value, default=str, allow_nan=True))


def body(field, entity_id, entity_type: str, arguments, result, error: str | None) -> dict:
    return {"entityId": str(entity_id), "entityType": entity_type, "calculatedFieldId": str(field.id),
            "server": server_name(), "msgType": None, "msgId": None, "arguments": _text(arguments),
            "result": _text(result), "error": truncate(error)}


class Recorder:
    """Collects the events the fields' debug settings ask for; writes them when the block ends."""

    def __init__(self):
        self.pending: list[CalculatedFieldEvent] = []

    def add(self, field, entity_id, entity_type, arguments, result, error) -> None:
        if not should_record(field.debug_failures_enabled, field.debug_all_enabled_until, failed=error is not None):
            return
        event_body = body(field, entity_id, entity_type, arguments, result, error)
        self.pending.append(CalculatedFieldEvent(
            tenant_id=field.tenant_id, field_id=field.id, entity_id=field.id, server=event_body["server"],
            is_error=error is not None, body=event_body))

    def flush(self) -> None:
        pending, self.pending = self.pending, []
        if pending:
            CalculatedFieldEvent.objects.bulk_create(pending, batch_size=500)

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc) -> None:
        self.flush()


def latest(field) -> dict | None:
    """The newest event's body (with ``createdTime``), or None."""
    event = field.events.order_by("-created_time").first()
    if event is None:
        return None
    return {**event.body, "createdTime": event.created_time, "isError": event.is_error}


def prune(now: int | None = None) -> int:
    """Delete events older than DEBUG_EVENTS_TTL_DAYS (7 days by default); returns how many."""
    days = int(getattr(settings, "DEBUG_EVENTS_TTL_DAYS", 7))
    cutoff = (now_ms() if now is None else now) - days * 86_400_000
    return CalculatedFieldEvent.objects.filter(created_time__lt=cutoff).delete()[0]
