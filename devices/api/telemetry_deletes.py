"""``DELETE /api/plugins/telemetry/{entityType}/{entityId}/timeseries/delete``: ThingsBoard's
time-series removal, ``?keys&deleteAllDataForKeys&startTs&endTs&deleteLatest&rewriteLatestIfDeleted``.
Answers an empty 200, as ThingsBoard does."""

from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from devices.api.telemetry import TelemetryView, keys_param
from devices.telemetry.deletion import delete_series

__all__ = ["TimeseriesDeleteView"]


def _flag(params, name: str, default: bool) -> bool:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() not in ("true", "false"):
        raise ValidationError(f"Parameter '{name}' must be true or false, got '{raw:.32}'")
    return raw.lower() == "true"


def _ts(params, name: str) -> int:
    raw = params.get(name)
    if raw is None or raw == "":
        raise ValidationError(f"Required request parameter '{name}' is not present "
                              "(or set deleteAllDataForKeys=true)")
    if not (raw.isascii() and raw.lstrip("-").isdigit()):
        raise ValidationError(f"Parameter '{name}' must be an integer (ms), got '{raw:.32}'")
    return int(raw)


class TimeseriesDeleteView(TelemetryView):
    def delete(self, request, entity_type, entity_id):
        entity = self.entity(entity_type, entity_id)
        params = request.query_params
        keys = keys_param(params, required=True)
        delete_all = _flag(params, "deleteAllDataForKeys", False)
        start_ts = end_ts = 0
        if not delete_all:
            start_ts, end_ts = _ts(params, "startTs"), _ts(params, "endTs")
            if end_ts < start_ts:
                raise ValidationError("'endTs' must not be before 'startTs'")
        delete_series(entity.pk, keys, start_ts=start_ts, end_ts=end_ts, delete_all=delete_all,
                      delete_latest=_flag(params, "deleteLatest", True),
                      rewrite_latest=_flag(params, "rewriteLatestIfDeleted", False))
        return Response(status=200)
