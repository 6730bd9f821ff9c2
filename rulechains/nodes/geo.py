"""GPS geofencing: ThingsBoard's "gps geofencing filter" (geo.TbGpsGeofencingFilterNode) and "gps
geofencing events" (geo.TbGpsGeofencingActionNode) nodes.

Both read the latitude and longitude from the message data (else its metadata) by key, and a
perimeter: from the configuration, or from the metadata when ``fetchPerimeterInfoFromMessageMetadata``
(the key ``perimeterKeyName``, e.g. ``ss_perimeter`` added by an attributes node; without a key
name, ThingsBoard 2.x's ``perimeter`` or ``centerLatitude``/``centerLongitude``/``range``/``rangeUnit``).
Distances and polygons are computed as ThingsBoard's GeoUtil does (spatial4j's haversine on its
mean Earth radius; JTS polygons with x = latitude, y = longitude, no wrapping at the antimeridian).
"""

import json

from devices.attributes import attribute_values, save_attributes_many
from devices.choices import AttributeScope
from rulechains.messages import FALSE, SUCCESS, TRUE
from rulechains.nodes.base import (
    BaseNode,
    ConfigError,
    NodeError,
    Out,
    bool_option,
    fail,
    field,
    int_option,
    text_option,
)
from rulechains.nodes.geometry import RANGE_UNITS, contains, distance, java_double, parse_polygons

__all__ = ["GpsGeofencingFilterNode", "GpsGeofencingActionNode", "PERIMETER_TYPES", "TIME_UNITS", "ENTERED", "LEFT",
           "INSIDE", "OUTSIDE"]

# --- the nodes -----------------------------------------------------------------------------------

PERIMETER_TYPES = ("POLYGON", "CIRCLE")
#: java.util.concurrent.TimeUnit: milliseconds per unit (NANOSECONDS and MICROSECONDS divide)
TIME_UNITS = {"NANOSECONDS": 1e-6, "MICROSECONDS": 1e-3, "MILLISECONDS": 1, "SECONDS": 1000, "MINUTES": 60_000,
              "HOURS": 3_600_000, "DAYS": 86_400_000}
ENTERED, LEFT, INSIDE, OUTSIDE = "Entered", "Left", "Inside", "Outside"
MISSING = "Missing perimeter definition!"
NOT_AN_OBJECT = "Incoming Message is not a valid JSON object!"

_FILTER_DEFAULTS = {"latitudeKeyName": "latitude", "longitudeKeyName": "longitude", "perimeterType": "POLYGON",
                    "fetchPerimeterInfoFromMessageMetadata": True, "perimeterKeyName": "ss_perimeter"}
_FIELDS = (field("latitudeKeyName", label="Latitude key name"), field("longitudeKeyName", label="Longitude key name"),
           field("perimeterType", "select", "Perimeter type", choices=PERIMETER_TYPES),
           field("fetchPerimeterInfoFromMessageMetadata", "bool", "Perimeter from the message metadata"),
           field("perimeterKeyName", label="Perimeter key name (metadata)"),
           field("polygonsDefinition", label="Polygons", help="[[lat, lon], ...] or [[[lat, lon], ...], ...]"),
           field("centerLatitude", "number", "Center latitude"), field("centerLongitude", "number", "Center longitude"),
           field("range", "number", "Range"), field("rangeUnit", "select", "Range unit", choices=tuple(RANGE_UNITS)))


def _number(configuration: dict, key: str):
    value = configuration.get(key)
    if value is None or isinstance(value, bool):
        raise ConfigError(f"{key} must be a number")
    try:
        return java_double(value)
    except ValueError:
        raise ConfigError(f"{key} must be a number, got {str(value)[:40]!r}") from None


def _choice(configuration: dict, key: str, choices, default):
    value = configuration.get(key)
    if value is None:
        return default
    if value not in choices:
        raise ConfigError(f"{key} must be one of {', '.join(choices)}, got {str(value)[:40]!r}")
    return value


def _configured_perimeter(configuration: dict, kind: str):
    """The perimeter of the configuration itself (``fetchPerimeterInfoFromMessageMetadata`` false)."""
    if kind == "POLYGON":
        text = text_option(configuration, "polygonsDefinition", "")
        try:
            return "POLYGON", parse_polygons(text)
        except ValueError as e:
            raise ConfigError(f"polygonsDefinition: {e}") from None
    unit = _choice(configuration, "rangeUnit", tuple(RANGE_UNITS), None)
    if unit is None:
        raise ConfigError(f"rangeUnit must be one of {', '.join(RANGE_UNITS)}")
    center = (_number(configuration, "centerLatitude"), _number(configuration, "centerLongitude"))
    return "CIRCLE", (*center, _number(configuration, "range"), unit)


def clean_geofence(configuration: dict) -> dict:
    """The options both geofencing nodes share; ConfigError naming a bad key. Missing key names
    are ThingsBoard's defaults."""
    kind = _choice(configuration, "perimeterType", PERIMETER_TYPES, "POLYGON")
    from_metadata = bool_option(configuration, "fetchPerimeterInfoFromMessageMetadata")
    return {"latitudeKeyName": text_option(configuration, "latitudeKeyName") or "latitude",
            "longitudeKeyName": text_option(configuration, "longitudeKeyName") or "longitude",
            "perimeterType": kind, "perimeterKeyName": text_option(configuration, "perimeterKeyName", ""),
            "perimeter": None if from_metadata else _configured_perimeter(configuration, kind)}


def _coordinate(msg, key: str) -> float:
    """ThingsBoard reads a coordinate from the data when it is a value there, else from the metadata."""
    value = msg.data.get(key)
    if value is None or isinstance(value, (dict, list)):
        value = msg.metadata.get(key)
        if not value:
            raise NodeError(f"Incoming Message has no {key} in data or metadata!")
    try:
        return java_double(value)
    except ValueError as e:
        raise NodeError(str(e)) from None


def _meta_number(msg, key: str) -> float:
    if not msg.metadata.get(key):
        raise NodeError(f"Incoming Message has no {key} in metadata!")
    try:
        return java_double(msg.metadata.get(key))
    except ValueError as e:
        raise NodeError(f"{key}: {e}") from None


def _meta_unit(value) -> str:
    if not isinstance(value, str) or value not in RANGE_UNITS:
        raise NodeError(f"No enum constant RangeUnit.{value}")
    return value


class _Geofence(BaseNode):
    """What both nodes share: the configuration, the perimeter of a message and the check."""

    group = "FILTER"
    fields = _FIELDS

    def __init__(self, row):
        super().__init__(row)
        self._polygons: dict = {}  # perimeter text -> parsed, for the batch

    @classmethod
    def clean_config(cls, configuration):
        return clean_geofence(configuration)

    def inside(self, msg) -> bool:
        """True when the message's coordinates are inside the perimeter; NodeError with
        ThingsBoard's text when a coordinate or the perimeter is missing or malformed."""
        if not isinstance(msg.data, dict):
            raise NodeError(NOT_AN_OBJECT)
        lat, lon = _coordinate(msg, self.config["latitudeKeyName"]), _coordinate(msg, self.config["longitudeKeyName"])
        kind, perimeter = self.config["perimeter"] or self._from_metadata(msg)
        try:
            if kind == "CIRCLE":
                center_lat, center_lon, radius, unit = perimeter
                return radius > distance(lat, lon, center_lat, center_lon, unit)
            return contains(perimeter, lat, lon)
        except ValueError as e:
            raise NodeError(str(e)) from None

    def _from_metadata(self, msg) -> tuple:
        key, meta = self.config["perimeterKeyName"], msg.metadata
        if not key:  # a configuration from before perimeterKeyName (ThingsBoard 2.x)
            if meta.get("perimeter"):
                return "POLYGON", self._parsed(meta["perimeter"])
            if meta.get("centerLatitude"):
                return "CIRCLE", (_meta_number(msg, "centerLatitude"), _meta_number(msg, "centerLongitude"),
                                  _meta_number(msg, "range"), _meta_unit(meta.get("rangeUnit")))
            raise NodeError(MISSING)
        if not meta.get(key):
            raise NodeError(MISSING)
        if self.config["perimeterType"] == "POLYGON":
            return "POLYGON", self._parsed(meta[key])
        return "CIRCLE", _circle(meta[key])

    def _parsed(self, text: str):
        if text not in self._polygons:
            try:
                self._polygons[text] = parse_polygons(text)
            except ValueError as e:
                raise NodeError(str(e)) from None
        return self._polygons[text]


def _circle(text: str) -> tuple:
    """A circle perimeter as the map widgets save it: {"latitude", "longitude", "radius", "radiusUnit"}."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        raise NodeError(f"The circle perimeter is not valid JSON: {text[:80]}") from None
    if not isinstance(value, dict) or any(value.get(k) is None for k in ("latitude", "longitude", "radius")):
        raise NodeError("The circle perimeter must be an object with latitude, longitude and radius")
    numbers = []
    for key in ("latitude", "longitude", "radius"):
        try:
            numbers.append(java_double(value[key]))
        except ValueError:
            numbers.append(0.0)  # Jackson's asDouble() reads what is not a number as 0
    return (*numbers, _meta_unit(value.get("radiusUnit", "METER")))


class GpsGeofencingFilterNode(_Geofence):
    """ThingsBoard's "gps geofencing filter": True when the message's coordinates are inside the
    perimeter (a circle: closer to its center than ``range`` in ``rangeUnit``; polygons: strictly
    inside, a point on an edge is outside), else False; Failure when a coordinate or the perimeter
    is missing or malformed."""

    label = "gps geofencing filter"
    relations = (TRUE, FALSE, "Failure")
    defaults = _FILTER_DEFAULTS

    def process(self, ctx, msg):
        return [Out(TRUE if self.inside(msg) else FALSE, msg)]


class GpsGeofencingActionNode(_Geofence):
    """ThingsBoard's "gps geofencing events". Per originator it keeps whether it was last inside,
    since when, and whether it has been reported as staying. A message whose position differs from
    that state (or the first one) switches it and goes by Entered or Left. Otherwise, with
    ``reportPresenceStatusOnEachMessage`` it goes by Inside or Outside; without, it goes by Inside
    or Outside once, when it has stayed longer than ``minInsideDuration`` (``minOutsideDuration``)
    since the switch, and by Success before and after that. Durations are measured on the time
    the node runs, as ThingsBoard measures them (its clock, not the message's ``ts``).

    As ThingsBoard does, the state is a server-scope attribute of the originator, the JSON text
    ``{"inside", "stateSwitchTime", "stayed"}``, read once per batch and written when it changes;
    its key is the rule node's id (ThingsBoard's key is its service id, shared by every
    geofencing node of a server)."""

    label = "gps geofencing events"
    group = "ACTION"
    relations = (SUCCESS, ENTERED, LEFT, INSIDE, OUTSIDE, "Failure")
    side_effects = True  # a test run must not move the presence state
    defaults = {**_FILTER_DEFAULTS, "minInsideDurationTimeUnit": "MINUTES", "minOutsideDurationTimeUnit": "MINUTES",
                "minInsideDuration": 1, "minOutsideDuration": 1, "reportPresenceStatusOnEachMessage": True}
    fields = (*_FIELDS, field("minInsideDuration", "number", "Minimal inside duration"),
              field("minInsideDurationTimeUnit", "select", "Inside duration unit", choices=tuple(TIME_UNITS)),
              field("minOutsideDuration", "number", "Minimal outside duration"),
              field("minOutsideDurationTimeUnit", "select", "Outside duration unit", choices=tuple(TIME_UNITS)),
              field("reportPresenceStatusOnEachMessage", "bool", "Report presence status on each message"))

    @classmethod
    def clean_config(cls, configuration):
        unit = {side: _choice(configuration, f"min{side}DurationTimeUnit", tuple(TIME_UNITS), "MINUTES")
                for side in ("Inside", "Outside")}
        least = {side: int(int_option(configuration, f"min{side}Duration", 0, truncate=True) * TIME_UNITS[unit[side]])
                 for side in unit}
        return {**clean_geofence(configuration), "minInside": least["Inside"], "minOutside": least["Outside"],
                # ThingsBoard's upgrade of a node saved before the option existed sets it false
                "eachMessage": bool_option(configuration, "reportPresenceStatusOnEachMessage")}

    @property
    def state_key(self) -> str:
        return str(self.id)

    def process_batch(self, ctx, msgs):
        key = self.state_key
        # the state lives on the originator, the tenant's: the engine admits no other (rulechains/originators.py)
        stored = attribute_values({m.originator_id for m in msgs}, AttributeScope.SERVER_SCOPE, [key])
        states = {entity_id: _state(value) for (entity_id, _), (_, value) in stored.items()}
        changed, outs = set(), []
        for msg in msgs:
            try:
                matches = self.inside(msg)
            except NodeError as e:
                outs.append(fail(msg, e))
                continue
            state = states.setdefault(msg.originator_id, {"inside": False, "stateSwitchTime": 0, "stayed": False})
            relation = self._next(state, matches, ctx.now)
            if relation in (ENTERED, LEFT) or (relation in (INSIDE, OUTSIDE) and not self.config["eachMessage"]):
                changed.add(msg.originator_id)
            outs.append([Out(relation, msg)])
        save_attributes_many([(entity_id, AttributeScope.SERVER_SCOPE, key,
                               json.dumps(states[entity_id], separators=(",", ":")), ctx.now)
                              for entity_id in changed], keep_newer=False, tenant_id=ctx.tenant_id)
        return outs

    def _next(self, state: dict, matches: bool, now: int) -> str:
        """The relation of one message, changing ``state`` as ThingsBoard does."""
        if state["stateSwitchTime"] == 0 or state["inside"] != matches:
            state.update(inside=matches, stateSwitchTime=now, stayed=False)
            return ENTERED if matches else LEFT
        if self.config["eachMessage"]:
            return INSIDE if state["inside"] else OUTSIDE
        if state["stayed"]:
            return SUCCESS
        least = self.config["minInside"] if state["inside"] else self.config["minOutside"]
        if now - state["stateSwitchTime"] > least:
            state["stayed"] = True
            return INSIDE if state["inside"] else OUTSIDE
        return SUCCESS


def _state(value) -> dict:
    """A stored presence state; one that cannot be read starts over (as if none was stored)."""
    try:
        loaded = json.loads(value) if isinstance(value, str) else value
        return {"inside": bool(loaded["inside"]), "stateSwitchTime": int(loaded["stateSwitchTime"]),
                "stayed": bool(loaded["stayed"])}
    except (ValueError, TypeError, KeyError):
        return {"inside": False, "stateSwitchTime": 0, "stayed": False}
