"""Scheduler event workflows: what a save checks and sets, the enable toggle, the calendar view.

    originator_of(tenant_id, event_json)  # (type, id) or (None, None); 404 for an entity not the tenant's
    check_configuration(value)            # the configuration, or ValidationError (400)
    reschedule(event, now)                # next_fire_ms from the schedule (None when disabled or done)
    set_enabled(event, value)             # the enable toggle (PUT /api/schedulerEvent/{id}/enabled/{value})
    timestamps(event, start, end)         # fire times in [start, end] (GET /api/schedulerEvents/startTime/...)
    calendar(events, start, end)          # {event id: timestamps}, at most MAX_TIMESTAMPS in all (else 400)
    register_check(event_type, check); check_event(request, event_type, configuration)   # the apps above

An app above (reports/: ``generateReport``) checks the events of its type as they are saved through the API:
``check(request, configuration)`` raises the DRF error to answer (400, 403, 404).
"""

from rest_framework.exceptions import NotFound, ValidationError

from rulechains import originators
from rulechains.nodes.base import normal_name
from scheduler import schedule as sched
from scheduler.models import SchedulerEvent
from tbproject.api.ids import parse_uuid
from tbproject.clock import now_ms
from tenants.choices import NULL_UUID

__all__ = ["originator_of", "check_configuration", "register_check", "check_event",
           "reschedule", "set_enabled", "timestamps", "spec_of", "check_range",
           "calendar", "MAX_RANGE_MS", "MAX_TIMESTAMPS"]

#: what ``originatorId.entityType`` may name: the entity types a rule-engine message can come from here
ORIGINATOR_TYPES = frozenset({*originators.MODELS, "TENANT"})
#: the longest interval the calendar view answers (ThingsBoard's UI asks for a day, a week or a month)
MAX_RANGE_MS = 366 * 86_400_000
#: the most fire times one calendar answer holds, all events together
MAX_TIMESTAMPS = 10_000


def _entity_ref(raw, what: str):
    if raw is None:
        return None, None
    if not isinstance(raw, dict):
        raise ValidationError(f"'{what}' must be an object {{\"entityType\", \"id\"}}")
    kind, pk = raw.get("entityType"), raw.get("id")
    if pk in (None, "", NULL_UUID) and kind in (None, ""):
        return None, None
    if kind not in ORIGINATOR_TYPES:
        raise ValidationError(f"'{what}.entityType' must be one of {', '.join(sorted(ORIGINATOR_TYPES))}")
    return kind, parse_uuid(pk)


def originator_of(tenant_id, data: dict, current: tuple = (None, None)) -> tuple:
    """The event's originator: ``configuration.originatorId`` (what ThingsBoard's UI writes), else the
    top-level ``originatorId``; ``current`` when the body names neither (an update that leaves it), and
    (None, None) when one is null. An entity that is not the tenant's (another tenant's, or none) is a
    404 with ThingsBoard's "Device with id [...] is not found"."""
    configuration = data.get("configuration")
    if isinstance(configuration, dict) and "originatorId" in configuration:
        raw, what = configuration["originatorId"], "configuration.originatorId"
    elif "originatorId" in data:
        raw, what = data["originatorId"], "originatorId"
    else:
        return current
    kind, pk = _entity_ref(raw, what)
    if kind is None:
        return None, None
    if originators.missing({(tenant_id, kind, pk)}):
        raise NotFound(f"{normal_name(kind)} with id [{pk}] is not found")
    return kind, pk


def check_configuration(value) -> dict:
    """ThingsBoard's event configuration: an object whose ``msgType`` is text and ``metadata`` an object."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ValidationError("'configuration' must be a JSON object (originatorId, msgType, msgBody, metadata)")
    msg_type = value.get("msgType")
    if msg_type is not None and (not isinstance(msg_type, str) or len(msg_type) > 255):
        raise ValidationError("'configuration.msgType' must be a text of at most 255 characters")
    metadata = value.get("metadata")
    if metadata is not None and not isinstance(metadata, dict):
        raise ValidationError("'configuration.metadata' must be a JSON object of text values")
    return value


_checks: dict = {}


def register_check(event_type: str, check) -> None:
    _checks[event_type] = check


def check_event(request, event_type, configuration) -> None:
    """The registered check of ``event_type`` (none: nothing to check) for an event saved by ``request``."""
    check = _checks.get(event_type)
    if check is not None and request is not None:
        check(request, configuration)


def spec_of(event: SchedulerEvent) -> sched.Schedule | None:
    """The event's parsed schedule; None for one stored before it could be checked (the admin's JSON)."""
    try:
        return sched.parse(event.schedule)
    except sched.ScheduleError:
        return None


def reschedule(event: SchedulerEvent, now: int | None = None) -> None:
    """Set ``next_fire_ms``: the first fire time from ``now`` on (a time already past at save is not
    fired), or None when the event is disabled or will not fire again. Does not save."""
    spec = spec_of(event)
    now = now_ms() if now is None else now
    event.next_fire_ms = sched.next_fire(spec, now - 1) if (event.enabled and spec is not None) else None


def set_enabled(event: SchedulerEvent, value: bool) -> SchedulerEvent:
    event.enabled = value
    reschedule(event)
    event.save()
    return event


def timestamps(event: SchedulerEvent, start: int, end: int, limit: int = 1000) -> list[int]:
    spec = spec_of(event)
    return [] if spec is None else sched.fires_between(spec, start, end, limit)


def calendar(events, start: int, end: int) -> dict:
    """``{event id: its fire times in [start, end]}`` (at most 1,000 each); a 400 when they add up to more
    than MAX_TIMESTAMPS: the caller asks for a shorter interval or filters by type."""
    found, left = {}, MAX_TIMESTAMPS
    for event in events:
        stamps = timestamps(event, start, end, min(1000, left + 1))
        left -= len(stamps)
        if left < 0:
            raise ValidationError(f"The events fire more than {MAX_TIMESTAMPS} times between startTime and "
                                  "endTime: ask for a shorter interval, or filter by type or textSearch")
        found[event.pk] = stamps
    return found


def check_range(start, end) -> tuple[int, int]:
    """The ``startTime``/``endTime`` path values of the calendar view, as ms."""
    values = []
    for name, raw in (("startTime", start), ("endTime", end)):
        text = str(raw)
        if not (text.isascii() and text.isdigit()) or len(text) > 15 or int(text) > sched.MAX_MS:
            raise ValidationError(f"'{name}' must be ms since the epoch (0 to {sched.MAX_MS})")
        values.append(int(text))
    if values[0] > values[1]:
        raise ValidationError("'startTime' must not be after 'endTime'")
    if values[1] - values[0] > MAX_RANGE_MS:
        raise ValidationError(f"The interval from startTime to endTime must not be longer than "
                              f"{MAX_RANGE_MS // 86_400_000} days")
    return values[0], values[1]
