"""One-way server-side RPC: ``POST /api/rpc/oneway/{deviceId}`` (and the older
``/api/plugins/rpc/oneway/{deviceId}``), body ``{"method", "params", "timeout"?, "expirationTime"?}``.

The call becomes an RPC_CALL_FROM_SERVER_TO_DEVICE message for the tenant's root chain, whose
integration downlink node takes it to the device. Answers 200 once queued (ThingsBoard answers
after the device got it; here delivery is the integration's, asynchronously). Tenant admins and
customer users of the device's customer may call it; any other device is a 404. Persistent RPC is
not supported (400).
"""

from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from devices.api.telemetry import TelemetryView
from rulechains import services

__all__ = ["OneWayRpcView"]

MIN_TIMEOUT_MS = 5000


def _int(body: dict, name: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"'{name}' must be a non-negative integer (milliseconds)")
    return value


class OneWayRpcView(TelemetryView):
    def post(self, request, device_id):
        device = self.device(device_id)
        body = request.data
        if not isinstance(body, dict):
            raise ValidationError("The RPC request must be a JSON object with 'method' and 'params'")
        method = body.get("method")
        if not isinstance(method, str) or not method.strip():
            raise ValidationError("'method' must be a non-empty string")
        if body.get("persistent") is True:
            raise ValidationError("Persistent RPC is not supported; send it without 'persistent'")
        params = body.get("params", {})
        timeout = max(_int(body, "timeout") or services.RPC_DEFAULT_TIMEOUT_MS, MIN_TIMEOUT_MS)
        services.rpc_to_device(device, method, params, timeout_ms=timeout,
                               expiration_time=_int(body, "expirationTime"),
                               additional_info=body.get("additionalInfo"))
        return Response(status=200)
