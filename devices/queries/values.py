"""Latest values (time series and attributes) of many entities, and their text as ThingsBoard
sends it in EntityData: ``{"ts", "value"}`` with the value a string, ``{"ts": 0, "value": ""}``
when the entity has none.

One query per key family and chunk of entities (:data:`CHUNK` ids per query keeps the statement
within every database's parameter limit). An entity view's time series are read through it, by
the rules of devices/entity_views.py (its viewed entity, its listed keys, inside its window); its
attributes are its own rows.
"""

import math
import re
from decimal import Decimal

from devices import telemetry
from devices.entity_views import VIEWED_TYPES, clip, timeseries_of, viewed_keys, viewed_latest
from devices.models import Attribute
from devices.queries.spec import ATTRIBUTE_TYPES, Key
from devices.values import COLUMNS, as_text, decode

__all__ = ["load_latest", "load_latest_of", "value_text", "MISSING", "timeseries_keys", "timeseries_keys_of",
           "attribute_keys", "CHUNK"]

CHUNK = 900
VIEW = "ENTITY_VIEW"
_FOREVER = 2**63 - 1
MISSING = {"ts": 0, "value": ""}
_LONG = re.compile(r"[+-]?\d+")
_DOUBLE = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?[dDfF]?\s*")


def _chunks(ids: list):
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def load_latest(entity_ids, keys) -> dict[tuple[Key, object], tuple[int, object]]:
    """{(key, entity_id): (ts, value)} of the stored latest values of ``keys`` (TIME_SERIES or an
    attribute key type; ATTRIBUTE reads the newest value of any scope)."""
    ids, keys = list(entity_ids), list(dict.fromkeys(keys))
    found: dict = {}
    series = [k for k in keys if k.type == "TIME_SERIES"]
    if series and ids:
        names = sorted({k.key for k in series})
        for part in _chunks(ids):
            for (entity_id, name), value in telemetry.latest_many(part, names).items():
                found[(Key("TIME_SERIES", name), entity_id)] = value
    attributes = [k for k in keys if k.type in ATTRIBUTE_TYPES]
    if attributes and ids:
        names = sorted({k.key for k in attributes})
        scopes = sorted({s for k in attributes for s in ATTRIBUTE_TYPES[k.type]})
        by_scope: dict = {}
        for part in _chunks(ids):
            rows = (Attribute.objects.filter(entity_id__in=part, key__in=names, scope__in=scopes)
                    .values_list("entity_id", "key", "scope", "last_update_ts", *COLUMNS))
            for entity_id, name, scope, ts, *vals in rows:
                by_scope[(entity_id, name, scope)] = (ts, decode(*vals))
        for key in attributes:
            for entity_id in ids:
                stored = [by_scope[(entity_id, key.key, s)] for s in ATTRIBUTE_TYPES[key.type]
                          if (entity_id, key.key, s) in by_scope]
                if stored:
                    found[(key, entity_id)] = max(stored, key=lambda tv: tv[0])
    return found


def load_latest_of(items, keys) -> dict[tuple[Key, object], tuple[int, object]]:
    """:func:`load_latest` of ``items`` ([(entity_type, row)]), entity views read through."""
    keys = list(dict.fromkeys(keys))
    views = [row for kind, row in items if kind == VIEW]
    found = load_latest([row.pk for kind, row in items if kind != VIEW], keys)
    if views:
        found.update(load_latest([view.pk for view in views], [k for k in keys if k.type != "TIME_SERIES"]))
        found.update(_viewed_series(views, sorted({k.key for k in keys if k.type == "TIME_SERIES"})))
    return found


def _mark_own_targets(views) -> None:
    """Tell each view whether it shows a device or asset of its own tenant (one query per type),
    so that entity_views.viewed_latest() need not ask again per view."""
    for kind, model in VIEWED_TYPES.items():
        ids = [view.entity_id for view in views if view.entity_type == kind]
        own = set()
        for part in _chunks(ids):
            own.update(model.objects.filter(pk__in=part).values_list("pk", "tenant_id"))
        for view in views:
            if view.entity_type == kind:
                view._own_target = (view.entity_id, view.tenant_id) in own
    for view in views:
        if view.entity_type not in VIEWED_TYPES:
            view._own_target = False


def _viewed_series(views, names) -> dict:
    """Latest time series of ``names`` through each view: one read of the viewed entities' latest
    values; a value newer than a view's window end falls back to the last point inside it."""
    if not names:
        return {}
    _mark_own_targets(views)
    views = [view for view in views if view._own_target]
    stored: dict = {}
    for part in _chunks(sorted({view.entity_id for view in views}, key=str)):
        stored.update(telemetry.latest_many(part, names))
    found: dict = {}
    for view in views:
        listed = timeseries_of(view)
        start, end = clip(view, 0, _FOREVER)
        if start >= end:
            continue
        late = []
        for name in names:
            value = stored.get((view.entity_id, name)) if not listed or name in listed else None
            if value is not None and value[0] >= end:
                late.append(name)
            elif value is not None and value[0] >= start:
                found[(Key("TIME_SERIES", name), view.pk)] = value
        for name, value in (viewed_latest(view, late).items() if late else ()):
            found[(Key("TIME_SERIES", name), view.pk)] = value
    return found


def _java_double(number: float) -> str:
    """Java's Double.toString, which ThingsBoard applies to every numeric-looking value."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    if number == 0:
        return "-0.0" if str(number).startswith("-") else "0.0"
    if 1e-3 <= abs(number) < 1e7:
        text = repr(number)
        return text if "." in text else f"{text}.0"
    sign, digits, exponent = Decimal(repr(number)).normalize().as_tuple()
    text = "".join(map(str, digits))
    return f"{'-' if sign else ''}{text[0]}.{text[1:] or '0'}E{len(text) - 1 + exponent}"


def value_text(value) -> str:
    """A latest value as ThingsBoard's entity queries render it: the stored value as text, then
    a whole number as its digits ("007" -> "7") and any other number through Java's double
    rendering ("1.50" -> "1.5", 1e20 -> "1.0E20"); booleans "true"/"false", JSON as JSON."""
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e15:
            return str(int(value))  # the database renders an integral double without ".0"
        return _java_double(value)
    text = as_text(value)
    if _LONG.fullmatch(text):
        try:
            number = int(text)
            if -(2**63) <= number < 2**63:
                return str(number)
        except ValueError:
            pass
    if _DOUBLE.fullmatch(text):
        number = float(text.strip().rstrip("dDfF"))
        if number not in (float("inf"), float("-inf")):
            return _java_double(number)
    return text


def timeseries_keys(entity_ids) -> list[str]:
    keys: set = set()
    for part in _chunks(list(entity_ids)):
        keys.update(telemetry.timeseries_keys_many(part))
    return sorted(keys)


def timeseries_keys_of(items) -> list[str]:
    """:func:`timeseries_keys` of ``items`` ([(entity_type, row)]); a view's are its listed keys
    with a value inside its window."""
    keys = set(timeseries_keys([row.pk for kind, row in items if kind != VIEW]))
    for kind, row in items:
        if kind == VIEW:
            keys.update(viewed_keys(row))
    return sorted(keys)


def attribute_keys(entity_ids, scope: str | None) -> list[str]:
    keys: set = set()
    for part in _chunks(list(entity_ids)):
        rows = Attribute.objects.filter(entity_id__in=part)
        if scope:
            rows = rows.filter(scope=scope)
        keys.update(rows.values_list("key", flat=True).distinct())
    return sorted(keys)
