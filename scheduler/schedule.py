"""ThingsBoard's scheduler ``schedule`` JSON, checked, and the one function that says when an event fires.

    {"timezone": "Europe/Berlin", "startTime": ms,
     "repeat": null                                           # once, at startTime
            | {"type": "DAILY" | "MONTHLY" | "YEARLY", "endsOn": ms or 0}
            | {"type": "WEEKLY", "repeatOn": [0..6], "endsOn": ...}       # 0 = Sunday (JavaScript's getDay)
            | {"type": "TIMER", "repeatInterval": n, "timeUnit": "SECONDS" | "MINUTES" | "HOURS", "endsOn": ...}}

    spec = parse(raw)              # Schedule, or ScheduleError with a message for a 400
    next_fire(spec, after_ms)      # the first fire time strictly after ``after_ms``, or None: no more

Calendar repeats keep the wall-clock time of ``startTime`` in ``timezone`` (zoneinfo): a daily 08:00
stays 08:00 across a DST change. A wall time a spring-forward gap skips fires at the same distance
past the gap (02:30 on the night Berlin goes from 02:00 to 03:00 is 03:30), and an hour the autumn
change repeats fires once, at its first occurrence (both as Java's ZonedDateTime resolves them).
WEEKLY fires on the ``repeatOn`` days only (the start day too when it is one of them; an empty list
means the start's weekday). MONTHLY fires on the start's day of the month and skips months without
that day (the 31st fires in seven months a year), YEARLY on the start's month and day (29 February
only in leap years): our rule, as RFC 5545 recurrences do; ThingsBoard's own rule is not documented.
TIMER counts ``repeatInterval`` units from ``startTime`` in absolute time. ``endsOn`` (0 or absent:
never) is the last instant a repeat may fire at, inclusive.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

__all__ = ["Schedule", "ScheduleError", "parse", "next_fire", "fires_between", "REPEAT_TYPES", "TIME_UNITS",
           "MAX_MS"]

REPEAT_TYPES = ("DAILY", "WEEKLY", "MONTHLY", "YEARLY", "TIMER")
TIME_UNITS = {"SECONDS": 1000, "MINUTES": 60_000, "HOURS": 3_600_000}
#: the last millisecond of year 9999 (UTC): the latest time Python's calendar reaches
MAX_MS = 253_402_300_799_999
_UTC = ZoneInfo("UTC")


class ScheduleError(ValueError):
    """A schedule that cannot be run; the message says which field and why."""


@dataclass(frozen=True)
class Schedule:
    timezone: str
    start_ms: int
    repeat: str | None = None  # None: once
    ends_on: int = 0
    repeat_on: tuple[int, ...] = ()  # WEEKLY: 0 = Sunday .. 6 = Saturday
    interval_ms: int = 0  # TIMER

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _ms(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ScheduleError(f"'{what}' must be an integer number of milliseconds")
    if value < 0 or value > MAX_MS:
        raise ScheduleError(f"'{what}' must be between 0 and {MAX_MS} (ms since the epoch)")
    return value


def _zone(name) -> str:
    if not isinstance(name, str) or not name or len(name) > 64 or "\x00" in name:
        raise ScheduleError("'timezone' must be an IANA time zone name such as 'Europe/Berlin'")
    if name not in _known_zones():
        raise ScheduleError(f"Unknown time zone: {name[:64]!r}")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"Unknown time zone: {name[:64]!r}") from None
    return name


_ZONES: set[str] = set()


def _known_zones() -> set[str]:
    # ZoneInfo also opens relative paths it finds on disk ("../../etc/localtime"): only IANA names count
    if not _ZONES:
        _ZONES.update(available_timezones(), {"UTC"})
    return _ZONES


def parse(raw) -> Schedule:
    """The checked form of a ``schedule`` JSON object; ScheduleError names what is wrong."""
    if not isinstance(raw, dict):
        raise ScheduleError("'schedule' must be a JSON object with 'timezone' and 'startTime'")
    zone = _zone(raw.get("timezone"))
    if raw.get("startTime") is None:
        raise ScheduleError("'schedule.startTime' is required")
    start = _ms(raw.get("startTime"), "startTime")
    repeat = raw.get("repeat")
    if repeat is None:
        return Schedule(zone, start)
    if not isinstance(repeat, dict):
        raise ScheduleError("'schedule.repeat' must be null (once) or a JSON object with 'type'")
    kind = repeat.get("type")
    if kind not in REPEAT_TYPES:
        raise ScheduleError(f"'repeat.type' must be one of {', '.join(REPEAT_TYPES)}")
    ends_on = repeat.get("endsOn")
    ends_on = 0 if ends_on is None else _ms(ends_on, "endsOn")
    if kind == "WEEKLY":
        days = repeat.get("repeatOn")
        days = [] if days is None else days
        if not isinstance(days, list) or len(days) > 7 or any(
                isinstance(d, bool) or not isinstance(d, int) or not 0 <= d <= 6 for d in days):
            raise ScheduleError("'repeat.repeatOn' must be a list of weekdays 0 (Sunday) to 6 (Saturday)")
        return Schedule(zone, start, kind, ends_on, repeat_on=tuple(sorted(set(days))))
    if kind == "TIMER":
        unit = repeat.get("timeUnit")
        if unit not in TIME_UNITS:
            raise ScheduleError(f"'repeat.timeUnit' must be one of {', '.join(TIME_UNITS)}")
        n = repeat.get("repeatInterval")
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= MAX_MS // TIME_UNITS[unit]:
            raise ScheduleError("'repeat.repeatInterval' must be a positive integer")
        return Schedule(zone, start, kind, ends_on, interval_ms=n * TIME_UNITS[unit])
    return Schedule(zone, start, kind, ends_on)


def _local(ms: int, zone: ZoneInfo) -> datetime:
    """The wall-clock time of ``ms`` in ``zone``, to the millisecond (no float rounding)."""
    return (datetime.fromtimestamp(ms // 1000, _UTC) + timedelta(milliseconds=ms % 1000)).astimezone(zone)


def _epoch_ms(local: datetime) -> int:
    """ms of an aware wall time; a time a DST gap skips counts with the offset before the gap (fold=0),
    so it lands as far past the gap as it was into it, and a repeated hour counts its first pass."""
    delta = local - datetime(1970, 1, 1, tzinfo=_UTC)
    return delta.days * 86_400_000 + delta.seconds * 1000 + delta.microseconds // 1000


def _candidates(spec: Schedule, from_day: date):
    """Days on or after ``from_day`` the calendar rule fires on, in order (bounded by year 9999)."""
    zone = spec.zone
    first = _local(spec.start_ms, zone).date()
    day = max(first, from_day)
    if spec.repeat == "DAILY":
        while True:
            yield day
            day += timedelta(days=1)
    elif spec.repeat == "WEEKLY":
        days = set(spec.repeat_on) or {(first.weekday() + 1) % 7}
        while True:
            if (day.weekday() + 1) % 7 in days:
                yield day
            day += timedelta(days=1)
    elif spec.repeat == "MONTHLY":
        year, month = day.year, day.month
        while True:
            try:
                yield date(year, month, first.day)
            except ValueError:
                pass  # this month has no such day: skipped
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    elif spec.repeat == "YEARLY":
        year = day.year
        while True:
            try:
                yield date(year, first.month, first.day)
            except ValueError:
                pass  # 29 February in a common year
            year += 1


def next_fire(spec: Schedule, after_ms: int) -> int | None:
    """The first time ``spec`` fires strictly after ``after_ms`` (ms), or None when it never fires again."""
    start = spec.start_ms
    if spec.repeat is None:
        return start if start > after_ms else None
    if spec.repeat == "TIMER":
        steps = 0 if after_ms < start else (after_ms - start) // spec.interval_ms + 1
        at = start + steps * spec.interval_ms
    else:
        at = _next_calendar(spec, after_ms)
    if at is None or at > MAX_MS or (spec.ends_on and at > spec.ends_on):
        return None
    return at


def _next_calendar(spec: Schedule, after_ms: int) -> int | None:
    zone = spec.zone
    after_ms = max(after_ms, spec.start_ms - 1)
    try:
        wall = _local(spec.start_ms, zone).time()
        # one day back: the local date of ``after_ms`` may be a day past a candidate still ahead of it
        from_day = _local(min(after_ms, MAX_MS), zone).date() - timedelta(days=1)
        for day in _candidates(spec, from_day):
            at = _epoch_ms(datetime.combine(day, wall, tzinfo=zone))
            if at > after_ms:
                return at
    except (OverflowError, ValueError):  # past year 9999
        return None
    return None


def fires_between(spec: Schedule, start_ms: int, end_ms: int, limit: int = 1000) -> list[int]:
    """Fire times in ``[start_ms, end_ms]``, at most ``limit`` of them (ThingsBoard's calendar view)."""
    found, at = [], next_fire(spec, start_ms - 1)
    while at is not None and at <= end_ms and len(found) < limit:
        found.append(at)
        at = next_fire(spec, at)
    return found
