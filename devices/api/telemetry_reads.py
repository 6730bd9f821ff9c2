"""Reading time series and attributes: keys, latest values, history (raw or aggregated).

Values: latest and history answer strings unless ``useStrictDataTypes=true``. The published
ThingsBoard docs show a history example with a bare number, but the parameter's own description
("Conversion is enabled by default") applies to history too, so both reads convert by default.
Attribute values always keep their JSON types, as ThingsBoard's AttributeData does.
"""

from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from devices.api.telemetry import TelemetryView, attribute_scope, keys_param, render_value
from devices.attributes import attribute_keys, get_attributes
from devices.entity_views import viewed_history, viewed_keys, viewed_latest
from devices.telemetry import AGGREGATIONS
from tbproject.api.params import bool_param, choice_param

__all__ = ["TimeseriesKeysView", "LatestTimeseriesView", "TimeseriesHistoryView", "AttributeKeysView",
           "AttributesView", "history_query", "MAX_INTERVALS"]

#: most aggregation buckets one history query may ask for ((endTs - startTs) / interval)
MAX_INTERVALS = 10_000
_INT64 = (-(2**63), 2**63 - 1)
_LIMIT_MAX = 2**31 - 1
#: calendar intervals need time-zone aware buckets, which the storage does not compute
_CALENDAR_INTERVALS = ("WEEK", "WEEK_ISO", "MONTH", "QUARTER")


def _int_param(params, name: str, default=None, *, low=_INT64[0], high=_INT64[1]) -> int | None:
    raw = params.get(name)
    if raw in (None, ""):
        if default is None:
            raise ValidationError(f"Required request parameter '{name}' is not present")
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"Parameter '{name}' must be an integer, got '{raw:.32}'") from None
    if not low <= value <= high:
        raise ValidationError(f"Parameter '{name}' must be between {low} and {high}, got {value}")
    return value


def history_query(params) -> dict:
    """Validated history parameters as keyword arguments for devices.telemetry.history()."""
    start_ts, end_ts = _int_param(params, "startTs"), _int_param(params, "endTs")
    if start_ts > end_ts:
        raise ValidationError(f"startTs ({start_ts}) must not be greater than endTs ({end_ts})")
    interval_type = params.get("intervalType") or "MILLISECONDS"
    if interval_type in _CALENDAR_INTERVALS:
        raise ValidationError(f"intervalType {interval_type} is not supported; use MILLISECONDS")
    if interval_type != "MILLISECONDS":
        raise ValidationError(f"Parameter 'intervalType' must be MILLISECONDS, got '{interval_type:.32}'")
    interval = _int_param(params, "interval", 0, low=0)
    agg = choice_param(params, "agg", AGGREGATIONS, "NONE")
    limit = _int_param(params, "limit", 100, low=1, high=_LIMIT_MAX)
    if interval == 0:
        agg = "NONE"  # ThingsBoard: "If the interval is not specified, 'agg' parameter will use 'NONE' value"
    if agg != "NONE":
        if (end_ts - start_ts) / interval > MAX_INTERVALS:
            raise ValidationError(f"Too many aggregation intervals: ({end_ts} - {start_ts}) / {interval} exceeds "
                                  f"{MAX_INTERVALS}; use a larger 'interval' or a shorter time range")
        limit = MAX_INTERVALS + 1  # 'limit' only applies to raw values; every bucket is answered
    order = choice_param(params, "orderBy", ("ASC", "DESC"), "DESC")
    return {"start_ts": start_ts, "end_ts": end_ts, "limit": limit, "agg": agg, "interval": interval, "order": order}


def _series(points, strict: bool) -> list[dict]:
    return [{"ts": ts, "value": render_value(value, strict)} for ts, value in points]


class TimeseriesKeysView(TelemetryView):
    """GET {entityType}/{entityId}/keys/timeseries -> ["temperature", ...]"""

    def get(self, request, entity_type, entity_id):
        return Response(viewed_keys(self.entity(entity_type, entity_id)))


class TimeseriesHistoryView(TelemetryView):
    """GET {entityType}/{entityId}/values/timeseries/history?keys&startTs&endTs&interval&agg&limit&orderBy"""

    def get(self, request, entity_type, entity_id):
        return self.history(self.entity(entity_type, entity_id))

    def history(self, entity):
        params = self.request.query_params
        query = history_query(params)
        strict = bool_param(params, "useStrictDataTypes", False)
        keys = keys_param(params) or viewed_keys(entity)
        found = viewed_history(entity, keys, **query)
        return Response({key: _series(found[key], strict) for key in keys if key in found})


class LatestTimeseriesView(TimeseriesHistoryView):
    """GET {entityType}/{entityId}/values/timeseries?keys&useStrictDataTypes -> latest values.

    With startTs/endTs it is ThingsBoard's older history call, answered like /history.
    """

    def get(self, request, entity_type, entity_id):
        entity = self.entity(entity_type, entity_id)
        params = request.query_params
        if params.get("startTs") or params.get("endTs"):
            return self.history(entity)
        strict = bool_param(params, "useStrictDataTypes", False)
        keys = keys_param(params)
        found = viewed_latest(entity, keys)
        ordered = keys if keys is not None else sorted(found)
        return Response({key: _series([found[key]], strict) for key in ordered if key in found})


class AttributeKeysView(TelemetryView):
    """GET {entityType}/{entityId}/keys/attributes[/{scope}] -> ["model", ...] (all scopes merged)"""

    def get(self, request, entity_type, entity_id, scope=None):
        entity = self.entity(entity_type, entity_id)
        return Response(attribute_keys(entity.pk, scope and attribute_scope(scope)))


class AttributesView(TelemetryView):
    """GET {entityType}/{entityId}/values/attributes[/{scope}]?keys -> [{key, value, lastUpdateTs}]"""

    def get(self, request, entity_type, entity_id, scope=None):
        entity = self.entity(entity_type, entity_id)
        rows = get_attributes(entity.pk, scope and attribute_scope(scope), keys_param(request.query_params))
        return Response([{"key": r["key"], "value": r["value"], "lastUpdateTs": r["lastUpdateTs"]} for r in rows])

