"""Firing due scheduler events: each one sends one message to its tenant's root rule chain.

    run_due(now=None) -> int     # the periodic job's body (scheduler.tasks.fire_due_events)

The message is ThingsBoard's: type ``configuration.msgType`` (else the event's ``type``), data
``configuration.msgBody`` (``{}`` when absent), metadata ``configuration.metadata`` (values as
text), originator the event's originator (the tenant when it names none). For
RPC_CALL_FROM_SERVER_TO_DEVICE a ``requestUUID`` is added, and ``expirationTime`` = the firing
time + ``timeout`` (ms) when the metadata has a timeout and no expirationTime, as the RPC API makes it.

Claiming: rows are read ``select_for_update(skip_locked=True)`` (PostgreSQL: a row another beat
or worker process holds is skipped, never waited for) and each is then taken by a conditional
UPDATE of ``next_fire_ms`` from the value read, which must change exactly one row; only then is
its message made. So two processes never fire one event twice, on either database. The messages
are queued after the claims commit: a process that dies in between loses that firing (at most
once, never twice).

Catch-up: an event whose fire times passed while nothing ran fires once, and its next fire time
is then the first one after now (our rule: ThingsBoard does not document what it does). A firing
whose originator is gone (deleted, or no longer the tenant's) sends nothing: the event keeps the
error in ``last_error`` and the log says it; the event still moves on to its next fire time. The
events of a tenant being deleted (tenants/deletion.py) do not fire.
"""

import json
import logging
import uuid

from django.db import transaction

from rulechains import originators, services
from rulechains.messages import RPC_CALL_FROM_SERVER_TO_DEVICE, Msg
from rulechains.nodes.base import normal_name
from scheduler import schedule as sched
from scheduler.models import SchedulerEvent
from scheduler.services import spec_of
from tbproject.clock import now_ms

__all__ = ["run_due", "message_of", "BATCH"]

log = logging.getLogger(__name__)

#: events claimed per transaction
BATCH = 200
NO_SCHEDULE = "The schedule cannot be read"


def _text(value) -> str:
    """A metadata value as text, as the engine writes them (JSON for objects, lists and booleans)."""
    if isinstance(value, str):
        return value
    if value is None:
        return ""
    return json.dumps(value, separators=(",", ":")) if isinstance(value, (dict, list, bool)) else str(value)


def message_of(event: SchedulerEvent, now: int) -> Msg:
    """The rule-engine message ``event`` sends when it fires at ``now``."""
    config = event.configuration if isinstance(event.configuration, dict) else {}
    msg_type = config.get("msgType") if isinstance(config.get("msgType"), str) and config.get("msgType") else event.type
    data = config.get("msgBody", {})
    raw_meta = config.get("metadata") if isinstance(config.get("metadata"), dict) else {}
    metadata = {str(k): _text(v) for k, v in raw_meta.items()}
    if msg_type == RPC_CALL_FROM_SERVER_TO_DEVICE:
        metadata.setdefault("requestUUID", str(uuid.uuid4()))
        timeout = metadata.get("timeout", "")
        if "expirationTime" not in metadata and timeout.isascii() and timeout.isdigit() and len(timeout) < 13:
            metadata["expirationTime"] = str(now + int(timeout))
    kind, pk = (event.originator_type, event.originator_id) if event.originator_id else ("TENANT", event.tenant_id)
    return Msg(msg_type, event.tenant_id, kind, pk, data, metadata)


def _claim(event: SchedulerEvent, now: int) -> tuple[bool, int | None]:
    spec = spec_of(event)
    following = None if spec is None else sched.next_fire(spec, now)
    taken = SchedulerEvent.objects.filter(pk=event.pk, next_fire_ms=event.next_fire_ms).update(
        next_fire_ms=following, last_fire_ms=now, last_error="" if spec is not None else NO_SCHEDULE)
    return taken == 1 and spec is not None, following


def _fire_batch(now: int) -> tuple[int, list[Msg]]:
    """Claim up to BATCH due events; returns how many were claimed and the messages to send."""
    with transaction.atomic():
        # of=self: the tenant row the filter joins is read, never locked (jobs must not queue on it)
        due = list(SchedulerEvent.objects.select_for_update(skip_locked=True, of=("self",))
                   .filter(enabled=True, next_fire_ms__isnull=False, next_fire_ms__lte=now,
                           tenant__deleting_ts__isnull=True)
                   .order_by("next_fire_ms")[:BATCH])
        messages = []
        for event in due:
            fire, _ = _claim(event, now)
            if fire:
                messages.append((event, message_of(event, now)))
        lost = originators.missing({(e.tenant_id, m.originator_type, m.originator_id) for e, m in messages})
        kept = []
        for event, msg in messages:
            if (event.tenant_id, msg.originator_type, msg.originator_id) in lost:
                error = f"{normal_name(msg.originator_type)} with id [{msg.originator_id}] is not found"
                SchedulerEvent.objects.filter(pk=event.pk).update(last_error=error)
                log.warning("scheduler event %s (%s) of tenant %s not fired: %s", event.pk, event.name,
                            event.tenant_id, error)
            else:
                kept.append(msg)
    return len(due), kept


def run_due(now: int | None = None) -> int:
    """Fire every enabled event whose next fire time is at or before ``now``; returns how many fired."""
    fired = 0
    now = now_ms() if now is None else now
    while True:
        claimed, messages = _fire_batch(now)
        if messages:
            # after the claims committed (a message is never sent for a claim rolled back)
            services.submit(messages)
        fired += len(messages)
        if claimed < BATCH:
            return fired
