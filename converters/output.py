"""Normalise and validate what uplink converter scripts return (reference section 4.1, 4.3, 4.4);
encoders' results are converters/downlink_payload.py's.

Uplink (converterVersion 1): one object or an array of objects, each describing one entity:

- ``deviceName`` (+ ``deviceType``) or ``assetName`` (+ ``assetType``), never both. A missing or
  empty type becomes ``"default"``, the profile every tenant has (ThingsBoard's own default
  device type); the name is required.
- optional ``customerName``, ``groupName``, ``deviceLabel`` / ``assetLabel``,
  ``contentAwareAttributeKeys`` (list of attribute keys, 4.4 templates).
- ``attributes``: a map of key/values.
- ``telemetry``: a map (server timestamp), ``{ts, values}``, or a list of those; as in
  ThingsBoard, an object is ``{ts, values}`` only when it has both keys, and a list element
  without them is a map of values at the server timestamp.
- ``ts``: milliseconds as a number or a numeric string (as ThingsBoard's ``getAsLong``), or,
  beyond ThingsBoard, an ISO-8601 text with a UTC offset (``2024-11-10T12:51:50.5+00:00``, ``Z``).

Values are strings, numbers, booleans, and objects or arrays, which are stored as JSON values
(ThingsBoard's JSON data type); ``null`` values are skipped (a decoder writes ``x ?? null``;
JSON.stringify has already dropped ``undefined``, functions and NaN became null). Names given as
numbers or booleans become strings (ThingsBoard reads them with ``getAsString``). A ``null`` or
empty-array result means "nothing to store" (the HTTP integration then answers 204).

Every error is an ``OutputError`` naming the field, e.g.
``telemetry[2].ts: must be a timestamp in milliseconds or ISO-8601 text, not 'soon'``. Given a
``notes`` list, the normalisers also say there what they changed (a default profile, a converted
timestamp, skipped nulls): the test endpoints show these beside the script's output.
"""

import json
import json.scanner
import re
from dataclasses import dataclass, field, fields
from datetime import datetime

__all__ = [
    "EntityUpdate", "OutputError", "converter_output", "normalise_uplink", "normalise_uplink_v2",
    "kind_name", "parse_converter_output", "parse_output", "slot_constructor",
]

DEFAULT_PROFILE = "default"
MAX_NAME = 255
_INT64 = 2**63 - 1
_INT_MIN = -_INT64 - 1

Scalar = str | int | float | bool
Value = Scalar | dict | list


class OutputError(ValueError):
    """Converter output that cannot be stored; the message names the offending field."""


@dataclass(frozen=True, slots=True)
class EntityUpdate:
    """One device or asset and the data a converter produced for it.

    ``telemetry`` is a list of (ts in ms, {key: value}); ts is the caller's ``server_ts`` for
    telemetry given without a timestamp (None if the caller gave none)."""

    entity_type: str  # "DEVICE" | "ASSET"
    name: str
    profile: str
    label: str | None = None
    customer: str | None = None
    group: str | None = None
    attributes: dict[str, Value] = field(default_factory=dict)
    telemetry: list[tuple[int | None, dict[str, Value]]] = field(default_factory=list)
    content_aware_keys: tuple[str, ...] = ()


def slot_constructor(cls):
    """A constructor of a frozen slots dataclass taking every field, positionally, that sets each
    slot directly: the generated ``__init__`` costs about twice as much (a frozen class sets every
    field through ``object.__setattr__``). For the classes the pipeline makes one of per message
    (EntityUpdate here, integrations.messages.RawUplink). Generated with one statement per slot,
    as dataclasses generates ``__init__``: a loop over the setters cost twice as much again."""
    names = [f.name for f in fields(cls)]
    namespace = {"_new": object.__new__, "_cls": cls}
    namespace.update({f"_set_{name}": cls.__dict__[name].__set__ for name in names})
    sets = "".join(f"    _set_{name}(_instance, {name})\n" for name in names)
    exec(f"def make({', '.join(names)}):\n    _instance = _new(_cls)\n{sets}    return _instance\n", namespace)
    make = namespace["make"]
    make.__qualname__ = f"slot_constructor.<{cls.__name__}>"
    return make


_entity_update = slot_constructor(EntityUpdate)
#: the C scanner json.loads ends in, called directly for a script's output (no whitespace around
#: it): json.loads's wrappers cost as much again for a small object
_scan = json.scanner.make_scanner(json.JSONDecoder())


def parse_output(output_json: str):
    """The JSON text a script result came back as, parsed."""
    if output_json.__class__ is str:
        try:
            value, end = _scan(output_json, 0)
        except (StopIteration, ValueError, RecursionError):
            pass  # json.loads below says what is wrong
        else:
            if end == len(output_json):
                return value
    try:
        return json.loads(output_json)
    except (TypeError, ValueError) as e:
        raise OutputError(f"the converter output is not valid JSON: {e}") from None
    except RecursionError:  # JS stringifies deeper nesting than Python's parser accepts
        raise OutputError("the converter output is nested too deeply") from None


def normalise_uplink(output, *, server_ts: int | None = None, notes: list | None = None) -> list[EntityUpdate]:
    """Decoder output (parsed JSON, or its JSON text) -> entity updates, in order."""
    if isinstance(output, str):
        output = parse_output(output)
    if output is None or output == []:
        if notes is not None:
            notes.append("the output is empty: nothing is stored for this message")
        return []
    if isinstance(output, dict):
        return [_entity(output, "", server_ts, notes)]
    if isinstance(output, list):
        return [_entity(item, f"[{i}]", server_ts, notes) for i, item in enumerate(output)]
    raise OutputError(f"the decoder must return an object or an array of objects, not {kind_name(output)}")


def _entity(obj, path: str, server_ts, notes) -> EntityUpdate:
    where = path or "output"
    if not isinstance(obj, dict):
        raise OutputError(f"{where}: must be an object with deviceName or assetName, not {kind_name(obj)}")
    device, asset = obj.get("deviceName"), obj.get("assetName")
    if device is not None and asset is not None:
        raise OutputError(f"{where}: has both deviceName and assetName; one object describes one entity")
    if device is None and asset is None:
        raise OutputError(f"{where}: deviceName or assetName is required")
    if device is not None:
        prefix, entity_type, keys = "device", "DEVICE", _DEVICE_KEYS
    else:
        prefix, entity_type, keys = "asset", "ASSET", _ASSET_KEYS
    name = _text(obj, keys[0], path, required=True)
    profile = _text(obj, keys[1], path)
    if profile is None:
        profile = DEFAULT_PROFILE
        if notes is not None:
            notes.append(f"{_join(path, prefix + 'Type')}: not given; a new {prefix} gets the profile "
                         f"'{DEFAULT_PROFILE}'")
    # Absent fields (most of them, most of the time) cost no path text: it is only for errors.
    attributes, telemetry, aware = obj.get("attributes"), obj.get("telemetry"), obj.get("contentAwareAttributeKeys")
    return _entity_update(
        entity_type, name, profile, _text(obj, keys[2], path), _text(obj, "customerName", path),
        _text(obj, "groupName", path),
        {} if attributes is None else _flat(attributes, _join(path, "attributes"), notes),
        [] if telemetry is None else _telemetry(telemetry, _join(path, "telemetry"), server_ts, notes),
        () if aware is None else _keys(aware, _join(path, "contentAwareAttributeKeys")),
    )


_DEVICE_KEYS = ("deviceName", "deviceType", "deviceLabel")
_ASSET_KEYS = ("assetName", "assetType", "assetLabel")


def _text(obj: dict, key: str, path: str, *, required: bool = False) -> str | None:
    value = obj.get(key)
    if value.__class__ is str and value and len(value) <= MAX_NAME:  # the common case, checked first
        return value
    if value is None and not required:  # the other common case: not given
        return None
    where = _join(path, key)
    if isinstance(value, bool):
        value = "true" if value else "false"
    elif isinstance(value, int | float):
        value = json.dumps(value)
    elif value is not None and not isinstance(value, str):
        raise OutputError(f"{where}: must be a string, not {kind_name(value)}")
    if value is None or value == "":
        if required:
            raise OutputError(f"{where}: must not be empty")
        return None
    if len(value) > MAX_NAME:
        raise OutputError(f"{where}: longer than {MAX_NAME} characters")
    return value


#: value types stored as they are (bool before int: an int check would also take it); objects
#: and arrays are JSON values, as in ThingsBoard
_PLAIN = frozenset({str, float, bool, dict, list})


def _flat(values, path: str, notes=None, suffix: str = "") -> dict[str, Value]:
    """``values`` checked; ``path + suffix`` names them in errors and notes (joined only then)."""
    if values is None:
        return {}
    if not isinstance(values, dict):
        raise OutputError(f"{path}{suffix}: must be an object of key/value pairs, not {kind_name(values)}")
    flat = {}
    plain = _PLAIN
    for key, value in values.items():
        cls = value.__class__
        # the common cases: no further checks (ints within 64 bits stay ints)
        if key != "" and (cls in plain or (cls is int and _INT_MIN <= value <= _INT64)):
            flat[key] = value
            continue
        if key == "":
            raise OutputError(f"{path}{suffix}: empty key")
        if value is None:
            if notes is not None:
                notes.append(f"{path}{suffix}.{key}: null, not stored")
            continue
        if isinstance(value, int) and not isinstance(value, bool) and not -_INT64 - 1 <= value <= _INT64:
            value = float(value)
        flat[key] = value
    return flat


def _telemetry(telemetry, path: str, server_ts, notes=None) -> list[tuple[int | None, dict]]:
    if telemetry is None:
        return []
    if isinstance(telemetry, list):
        points = []
        for i, item in enumerate(telemetry):
            if not isinstance(item, dict):
                raise OutputError(f"{path}[{i}]: must be an object, not {kind_name(item)}")
            points.append(_point(item, f"{path}[{i}]", server_ts, notes))
        return points
    if isinstance(telemetry, dict):
        return [_point(telemetry, path, server_ts, notes)]
    raise OutputError(f"{path}: must be an object or an array, not {kind_name(telemetry)}")


def _point(item: dict, path: str, server_ts, notes) -> tuple[int | None, dict]:
    if "ts" in item and "values" in item:
        ts = item["ts"]
        if ts.__class__ is not int or not 0 <= ts <= _INT64:  # the common case needs no path text
            ts = _ts(ts, f"{path}.ts", notes)
        return ts, _flat(item["values"], path, notes, ".values")
    return server_ts, _flat(item, path, notes)


_NUMERIC = re.compile(r"\s*-?\d+(\.\d*)?\s*")


def _ts(value, path: str, notes=None) -> int:
    """Milliseconds from a number, a numeric string or ISO-8601 text with a UTC offset."""
    if value.__class__ is int and 0 <= value <= _INT64:
        return value
    given = value
    if isinstance(value, str):
        if _NUMERIC.fullmatch(value):
            value = float(value)
        else:
            value = _iso_ms(value, path)
            if notes is not None:
                notes.append(f"{path}: {given!r} stored as {value} (milliseconds since 1970, UTC)")
            return value
    if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
        raise OutputError(f"{path}: must be a timestamp in milliseconds or ISO-8601 text, not {kind_name(value)}")
    if not 0 <= value <= _INT64:
        raise OutputError(f"{path}: {given} is not a timestamp in milliseconds")
    return int(value)


def _iso_ms(text: str, path: str) -> int:
    shown = text if len(text) <= 40 else text[:40] + "..."
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise OutputError(f"{path}: {shown!r} is neither a timestamp in milliseconds nor ISO-8601 text "
                          f"such as 2024-11-10T12:51:50Z") from None
    if moment.tzinfo is None:
        raise OutputError(f"{path}: {shown!r} has no UTC offset: add Z or +hh:mm so the time is not guessed")
    ms = round(moment.timestamp() * 1000)
    if ms < 0:
        raise OutputError(f"{path}: {shown!r} is before 1970")
    return ms


def _keys(values, path: str) -> tuple[str, ...]:
    if values is None:
        return ()
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise OutputError(f"{path}: must be an array of key names")
    return tuple(values)


def normalise_uplink_v2(output, config: dict, metadata: dict, *, server_ts: int | None = None,
                        notes: list | None = None) -> EntityUpdate:
    """Typed converter output (converterVersion 2, reference 4.3).

    The entity comes from the converter configuration (``type`` DEVICE/ASSET, ``name`` pattern
    such as ``Device $eui``, ``profile``, ``label``, ``customer``, ``group``), with ``$key``
    replaced from `metadata`; the script may override with ``name``, ``type``, ``profile``,
    ``label``, ``customer``, ``group`` and returns ``attributes`` and ``telemetry``. The
    configuration's ``attributes`` / ``telemetry`` key lists add those `metadata` keys (the
    unwrapped network fields) as attributes / one telemetry point at ``metadata.ts``."""
    if isinstance(output, str):
        output = parse_output(output)
    if not isinstance(output, dict):
        raise OutputError(f"the decoder must return an object, not {kind_name(output)}")

    def pick(key, default=None):
        own = _text(output, key, "")
        if own is not None:
            return own
        pattern = config.get(key) or default
        return _substitute(pattern, metadata) if isinstance(pattern, str) else pattern

    entity_type = (pick("type", "DEVICE") or "DEVICE").upper()
    if entity_type not in ("DEVICE", "ASSET"):
        raise OutputError(f"type: must be DEVICE or ASSET, not {entity_type!r}")
    name = pick("name", "Device $eui")
    if not name:
        raise OutputError("name: must not be empty")
    # The key lists pick unwrapped network fields (eui, fPort, rssi...) to store; what the
    # script returned is always stored and wins over a field of the same name.
    attributes = _listed(metadata, config.get("attributes"))
    attributes.update(_flat(output.get("attributes"), "attributes", notes))
    telemetry = _telemetry(output.get("telemetry"), "telemetry", server_ts, notes)
    network = _listed(metadata, config.get("telemetry"))
    if network:
        telemetry.append((_metadata_ts(metadata, server_ts), network))
    return EntityUpdate(
        entity_type=entity_type, name=name, profile=pick("profile") or DEFAULT_PROFILE,
        label=pick("label") or None, customer=pick("customer") or None, group=pick("group") or None,
        attributes=attributes, telemetry=telemetry,
    )


def _listed(metadata: dict, keys) -> dict:
    if not isinstance(keys, list):
        return {}
    return {k: metadata[k] for k in keys if isinstance(k, str) and isinstance(metadata.get(k), Scalar)}


def _metadata_ts(metadata: dict, server_ts):
    value = metadata.get("ts")
    try:
        return _ts(value, "metadata.ts") if value is not None else server_ts
    except OutputError:
        return server_ts


def converter_output(update: EntityUpdate) -> dict:
    """ThingsBoard's "Converter output" of a typed converter (reference 4.3, library result.json):
    ``{entityType, name, profile, label?, customer?, group?, telemetry, attributes}``."""
    out = {"entityType": update.entity_type, "name": update.name, "profile": update.profile}
    for key in ("label", "customer", "group"):
        if getattr(update, key):
            out[key] = getattr(update, key)
    # Values without a timestamp of their own (stored at the server's time) show as one flat
    # object, as ThingsBoard prints them; timestamped points as {ts, values}.
    flat = {k: v for ts, values in update.telemetry if ts is None for k, v in values.items()}
    points = [{"ts": ts, "values": values} for ts, values in update.telemetry if ts is not None]
    out["telemetry"] = flat if not points else ([flat] if flat else []) + points
    out["attributes"] = dict(update.attributes)
    return out


def parse_converter_output(output) -> EntityUpdate:
    """The inverse of :func:`converter_output` (a library sample's expected result)."""
    if isinstance(output, str):
        output = parse_output(output)
    if not isinstance(output, dict) or not output.get("name"):
        raise OutputError("a converter output must be an object with entityType and name")
    return EntityUpdate(
        entity_type=str(output.get("entityType") or "DEVICE").upper(), name=_text(output, "name", "", required=True),
        profile=_text(output, "profile", "") or DEFAULT_PROFILE, label=_text(output, "label", ""),
        customer=_text(output, "customer", ""), group=_text(output, "group", ""),
        attributes=_flat(output.get("attributes"), "attributes"),
        telemetry=_telemetry(output.get("telemetry"), "telemetry", None))


def _substitute(pattern: str, metadata: dict) -> str:
    return re.sub(r"\$(\w+)", lambda m: str(metadata.get(m.group(1), m.group(0))), pattern)


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def kind_name(value) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, int | float) else type(value).__name__)
