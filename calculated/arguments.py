"""The values of a field's arguments for the entities it is computed for, a few queries per field.

    values = load(field, entity_ids, now)   # {entity_id: {name: ArgValue}}; a missing argument is absent

Rolling arguments are read in one query per key for all the entities at once; a computation run
(calculated/compute.py) passes a :class:`RollingCache` filled for all its fields first (prefetch), so
that each distinct (source entity, key) is read once per run.
"""

import uuid
from dataclasses import dataclass

from calculated.choices import ArgumentType
from devices.attributes import attribute_values
from devices.telemetry import history_many, latest_many

__all__ = ["ArgValue", "RollingCache", "load", "single_value", "rolling_value", "default_of"]


@dataclass(frozen=True, slots=True)
class ArgValue:
    """One argument's value: ``ts`` and ``value`` (single), or ``points`` [(ts, value)] and the window."""

    ts: int | None
    value: object = None
    points: tuple = ()
    start_ts: int | None = None
    end_ts: int | None = None
    telemetry: bool = False

    @property
    def rolling(self) -> bool:
        return self.start_ts is not None


def default_of(argument):
    """An argument's defaultValue as a value: a numeric text as a number (ThingsBoard keeps it as text)."""
    default = argument.default
    if isinstance(default, str):
        try:
            number = float(default)
        except ValueError:
            return default
        return int(number) if number.is_integer() and "." not in default and "e" not in default.lower() else number
    return default


def _source(argument, entity_id):
    return argument.ref_entity_id or entity_id


class RollingCache:
    """The rolling arguments' points of one run: {(source entity, key): [(ts, value)] newest first}."""

    def __init__(self, now: int):
        self.now = now
        self.points: dict = {}

    def prefetch(self, work) -> None:
        """Read what ``work`` ([(field, entity_ids)]) needs in one query per key: per (source, key) the
        widest window and the largest limit of the arguments reading it, unless read already."""
        needs: dict = {}
        for field, entity_ids in work:
            for a in field.spec.arguments.values():
                if a.kind != ArgumentType.TS_ROLLING:
                    continue
                for e in entity_ids:
                    source = _uuid(_source(a, e))
                    if (source, a.key) in self.points:
                        continue
                    window, limit = needs.get((source, a.key), (0, 0))
                    needs[(source, a.key)] = (max(window, a.time_window), max(limit, a.limit))
        by_key: dict = {}
        for (source, key), (window, limit) in needs.items():
            sources, widest, most = by_key.get(key, (set(), 0, 0))
            sources.add(source)
            by_key[key] = (sources, max(widest, window), max(most, limit))
        for key, (sources, window, limit) in by_key.items():
            found = history_many(sources, [key], self.now - window, self.now + 1, limit=limit)
            for source in sources:
                self.points[(source, key)] = found.get((source, key), [])

    def rolling(self, argument, source, extra=None) -> "ArgValue":
        start = self.now - argument.time_window
        stored = self.points.get((_uuid(source), argument.key), ())
        if extra is not None:  # a value not stored (the rule node's): in the window as if it were
            stored = sorted([p for p in stored if p[0] != extra[0]] + [extra], reverse=True)
        newest = [p for p in stored if p[0] >= start][:argument.limit]
        points = tuple(reversed(newest))
        return ArgValue(points[-1][0] if points else None, None, points, start, self.now, telemetry=True)


def index_trigger(argument) -> tuple[str, str, str | None]:
    """(kind, key, scope) of what writes an argument ("TS" for latest and rolling telemetry)."""
    return ("ATTRIBUTE", argument.key, argument.scope) if argument.kind == ArgumentType.ATTRIBUTE \
        else ("TS", argument.key, None)


def _uuid(value) -> uuid.UUID:
    return value if value.__class__ is uuid.UUID else uuid.UUID(str(value))


def load(field, entity_ids, now: int, rolling: RollingCache | None = None, overrides: dict | None = None) -> dict:
    """{entity_id: {argument name: ArgValue}} for ``field``'s arguments; defaults fill missing ones.
    ``rolling``: the run's cache of rolling points (one made for this call when None). ``overrides``:
    values not stored, newer than the stored ones ({(entity_id, "TS"|"ATTRIBUTE", key, scope): (ts, value)}:
    the "calculated fields" rule node's message)."""
    arguments = list(field.spec.arguments.values())
    if rolling is None:
        rolling = RollingCache(now)
    if any(a.kind == ArgumentType.TS_ROLLING for a in arguments):
        rolling.prefetch([(field, entity_ids)])
    sources = {(a.name, e): _source(a, e) for a in arguments for e in entity_ids}
    latest_args = [a for a in arguments if a.kind == ArgumentType.TS_LATEST]
    latest = latest_many({sources[(a.name, e)] for a in latest_args for e in entity_ids},
                         {a.key for a in latest_args}) if latest_args else {}
    attributes: dict = {}
    for scope in {a.scope for a in arguments if a.kind == ArgumentType.ATTRIBUTE}:
        scoped = [a for a in arguments if a.kind == ArgumentType.ATTRIBUTE and a.scope == scope]
        found = attribute_values({sources[(a.name, e)] for a in scoped for e in entity_ids}, scope,
                                 {a.key for a in scoped})
        attributes.update({(scope, eid, key): hit for (eid, key), hit in found.items()})
    result = {}
    for entity_id in entity_ids:
        values = {}
        for a in arguments:
            source = sources[(a.name, entity_id)]
            extra = overrides.get((_uuid(source), *index_trigger(a))) if overrides else None
            if a.kind == ArgumentType.TS_ROLLING:
                values[a.name] = rolling.rolling(a, source, extra)
                continue
            hit = latest.get((source, a.key)) if a.kind == ArgumentType.TS_LATEST \
                else attributes.get((a.scope, source, a.key))
            if extra is not None and (hit is None or extra[0] >= (hit[0] or 0)):
                hit = extra
            if hit is not None:
                values[a.name] = ArgValue(hit[0], hit[1], telemetry=a.kind == ArgumentType.TS_LATEST)
            elif a.default is not None:
                values[a.name] = ArgValue(None, default_of(a))
        result[entity_id] = values
    return result


def single_value(arg: ArgValue) -> dict:
    return {"ts": arg.ts, "value": arg.value}


def _double(value):
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    try:
        number = float(value)
    except (TypeError, ValueError):
        return "NaN"
    return number if number == number and number not in (float("inf"), float("-inf")) else "NaN"


def rolling_value(arg: ArgValue) -> dict:
    """ThingsBoard's rolling argument: values as doubles, "NaN" where a value is not a number."""
    return {"timeWindow": {"startTs": arg.start_ts, "endTs": arg.end_ts},
            "values": [{"ts": ts, "value": _double(v)} for ts, v in arg.points]}
