"""Writing time series and attributes, and deleting attributes.

Bodies are JSON, sent as application/json or (by ThingsBoard's generated client) text/plain.
A body is checked whole before anything is stored, so a refused request writes nothing.
Saves answer 200 with an empty body, as ThingsBoard does.

Not here: DELETE .../timeseries/delete, which needs a range delete in devices.telemetry.
"""

import json
import math

from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from devices import services
from devices.api.telemetry import MAX_KEY_LENGTH, TelemetryView, attribute_scope, keys_param
from devices.attributes import delete_attributes, save_attributes
from devices.choices import AttributeScope
from devices.telemetry import Point, write_points
from tbproject.clock import now_ms

__all__ = ["TelemetrySaveView", "EntityAttributesView", "DeviceAttributesView", "parse_telemetry",
           "parse_attributes", "writable_scope", "valid_ttl"]

#: 9999-12-31T23:59:59.999Z. Every write creates the partition its ts falls in, so far-out values are refused.
_TS_MAX = 253_402_300_799_999
#: the largest integer a double holds (an integer past a long is stored as a double)
_DOUBLE_MAX = int(1.7976931348623157e308)


def _values(values, what: str) -> dict:
    """A flat {key: value} map; values may be any JSON but null (objects and arrays are JSON values)."""
    if not isinstance(values, dict):
        raise ValidationError(f"{what} must be a JSON object of key/value pairs")
    for key, value in values.items():
        if not key.strip():
            raise ValidationError("Key must not be empty")
        if len(key) > MAX_KEY_LENGTH:
            raise ValidationError(f"Key '{_shown(key)}...' is longer than {MAX_KEY_LENGTH} characters")
        if value is None:
            raise ValidationError(f"Value of key '{_shown(key)}' must not be null")
        _check_storable(key, value)
    return values


def _shown(key: str) -> str:
    """A key for an error message: cut short, and renderable even if it is not valid Unicode."""
    return key[:64].encode("utf-8", "backslashreplace").decode()


def _check_storable(key: str, value) -> None:
    """Refuse what the database or the JSON renderer would fail on later (a 500 instead of a 400)."""
    # PostgreSQL text cannot hold NUL; nested JSON is stored escaped, so only keys and strings.
    if "\x00" in key or (isinstance(value, str) and "\x00" in value):
        raise ValidationError(f"Key '{_shown(key)}' or its value contains a NUL character")
    if value.__class__ is int and not -_DOUBLE_MAX <= value <= _DOUBLE_MAX:  # stored as a double past a long
        raise ValidationError(f"Value of key '{_shown(key)}': Big integer values are not supported!")
    try:
        # Lone surrogates ("\ud800") are not UTF-8; a number beyond double range parses as infinity.
        json.dumps({key: value}, ensure_ascii=False, allow_nan=False).encode()
    except ValueError:
        raise ValidationError(f"Key '{_shown(key)}' or its value is not valid Unicode or not a finite number") from None


def _ts(raw) -> int:
    """A timestamp in ms: an integer, an integral number, or a string of digits."""
    if isinstance(raw, float) and math.isfinite(raw) and raw.is_integer():
        raw = int(raw)
    elif isinstance(raw, str) and raw.strip().isascii() and raw.strip().isdigit():
        raw = int(raw)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 0 <= raw <= _TS_MAX:
        raise ValidationError(f"Invalid 'ts': {raw!r:.32}; expected milliseconds since the epoch, "
                              f"at most {_TS_MAX}")
    return raw


def parse_telemetry(body, now: int) -> list[tuple[int, dict]]:
    """[(ts, {key: value})] from ThingsBoard's three body shapes.

    ``{"temperature": 26}`` (stamped ``now``), ``{"ts": ms, "values": {...}}``, or a list of either.
    """
    if not isinstance(body, (dict, list)):
        raise ValidationError("Request body must be a JSON object or array")
    entries = []
    for item in body if isinstance(body, list) else [body]:
        if not isinstance(item, dict):
            raise ValidationError("Each element of the array must be a JSON object")
        if "ts" in item and "values" in item:
            entries.append((_ts(item["ts"]), _values(item["values"], "'values'")))
        else:
            entries.append((now, _values(item, "Telemetry")))
    if not any(values for _, values in entries):
        raise ValidationError("No timeseries data found in request body!")
    return entries


def parse_attributes(body) -> dict:
    values = _values(body, "Request body")
    if not values:
        raise ValidationError("No attributes data found in request body!")
    return values


def valid_ttl(ttl: str | None) -> None:
    """A 400 unless ``ttl`` (the path's, if any) is an integer."""
    if ttl is not None and not (ttl.isascii() and ttl.lstrip("-").isdigit()):
        raise ValidationError(f"Parameter 'ttl' must be an integer, got '{ttl:.32}'")


def writable_scope(entity_type: str, scope: str) -> str:
    """``scope`` if attributes of an ``entity_type`` may be saved in it through the API, else a 400."""
    scope = attribute_scope(scope)
    if scope == AttributeScope.CLIENT_SCOPE:
        raise ValidationError("CLIENT_SCOPE attributes are reported by the device and can't be saved here")
    if scope == AttributeScope.SHARED_SCOPE and entity_type != "DEVICE":
        raise ValidationError(f"SHARED_SCOPE attributes are supported for devices only, not {entity_type}")
    return scope


class TelemetrySaveView(TelemetryView):
    """POST {entityType}/{entityId}/timeseries/{scope}[/{ttl}].

    ThingsBoard ignores ``scope`` ("reserved for backward compatibility", clients send ANY) and
    honours ``ttl`` only on Cassandra; here too both are accepted and ignored: retention is the
    storage-wide TELEMETRY_TTL_DAYS.
    """

    def post(self, request, entity_type, entity_id, scope, ttl=None):
        # devices/api/lean_app.py answers the same POSTs (JWT-authenticated) ahead of Django: keep in step
        entity = self.entity(entity_type, entity_id)
        valid_ttl(ttl)
        entries = parse_telemetry(request.data, now_ms())
        write_points((Point(entity.pk, key, ts, value) for ts, values in entries for key, value in values.items()),
                     tenant_id=entity.tenant_id)
        return Response(status=200)


class _AttributeWriteView(TelemetryView):

    def save(self, entity, scope: str):
        # devices/api/lean_app.py answers the same POSTs (JWT-authenticated) ahead of Django: keep in step
        scope = writable_scope(entity.entity_type, scope)
        values = parse_attributes(self.request.data)
        save_attributes(entity.pk, scope, values, tenant_id=entity.tenant_id)
        services.on_attributes_saved(entity, scope, values)
        return Response(status=200)

    def delete_keys(self, entity, scope: str):
        scope = attribute_scope(scope)
        delete_attributes(entity.pk, scope, keys_param(self.request.query_params, required=True))
        return Response(status=200)


class EntityAttributesView(_AttributeWriteView):
    """POST {entityType}/{entityId}/attributes/{scope}, and the older {entityType}/{entityId}/{scope}
    (POST saves, DELETE ?keys= deletes).

    SERVER_SCOPE is writable on every entity, SHARED_SCOPE on devices; CLIENT_SCOPE belongs to the device.
    """

    def post(self, request, entity_type, entity_id, scope):
        return self.save(self.entity(entity_type, entity_id), scope)

    def delete(self, request, entity_type, entity_id, scope):
        return self.delete_keys(self.entity(entity_type, entity_id), scope)


class DeviceAttributesView(_AttributeWriteView):
    """POST/DELETE {deviceId}/{scope}: the device-only form of the above."""

    def post(self, request, device_id, scope):
        return self.save(self.device(device_id), scope)

    def delete(self, request, device_id, scope):
        return self.delete_keys(self.device(device_id), scope)
