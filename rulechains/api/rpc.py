"""Server-side RPC: ``POST /api/rpc/oneway/{deviceId}`` and ``POST /api/rpc/twoway/{deviceId}`` (and the
older ``/api/plugins/rpc/...``), body ``{"method", "params", "timeout"?, "expirationTime"?,
"persistent"?, "additionalInfo"?}`` (thingsboard.io/docs/user-guide/rpc/).

The call becomes an RPC_CALL_FROM_SERVER_TO_DEVICE message for the tenant's root chain, whose "rpc
call request" node hands it to the device: as a downlink through the integration that serves it, and
to the device's HTTP long poll (rulechains/rpc_calls.py). ``timeout`` is in ms (default 10000, at
least 5000, at most a year); ``expirationTime`` (ms since the epoch, at most a year ahead) overrides
it. ``method``, ``params`` and ``additionalInfo`` must be text a database can hold (no NUL character
or lone surrogate: tbproject/text.py), and together at most RPC_MAX_PARAMS_BYTES as JSON: a call
is kept until the device takes it. Each is a 400 otherwise.

- one-way: 200 once queued (ThingsBoard answers once the device got it; here delivery is asynchronous);
- two-way: waits for the device's reply (``POST /api/v1/{token}/rpc/{id}``), at most 300 s (the one
  rule of every long wait, tbproject/waits.py; the wait holds no thread under the web server):
  200 with the reply as the body, or on timeout ThingsBoard's 504
  (408 on the older ``/api/plugins/rpc/twoway``). A device reached only through an integration
  cannot reply (its answer arrives as an uplink): a two-way call to it times out;
- ``"persistent": true`` (either): the call is stored and answered at once with ``{"rpcId": uuid}``;
  its state is read at ``/api/rpc/persistent/{rpcId}`` (rulechains/api/rpc_persistent.py).

Tenant admins and customer users of the device's customer may call it; any other device is a 404.
Past the process's cap of waiting requests (MAX_WAITING_REQUESTS, MAX_WAITING_REQUESTS_PER_TENANT),
a two-way call is a 429.
"""

import json
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.http import HttpResponse, JsonResponse
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from devices.api.telemetry import TelemetryView
from rulechains import replies, rpc_calls, services
from rulechains.api.rule_engine import too_many
from tbproject.api.exceptions import ErrorCode, ServiceUnavailable, tb_error
from tbproject.clock import now_ms
from tbproject.text import check_json

__all__ = ["OneWayRpcView", "TwoWayRpcView", "TwoWayRpcV1View", "MIN_TIMEOUT_MS"]

log = logging.getLogger(__name__)

MIN_TIMEOUT_MS = 5000


def _int(body: dict, name: str, maximum: int, bound: str) -> int | None:
    value = body.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValidationError(f"'{name}' must be a non-negative integer (milliseconds)")
    if value > maximum:
        raise ValidationError(f"'{name}' must be at most {bound}, got {str(value)[:40]}")
    return value


def _check_storable(body: dict, method: str) -> None:
    for name in ("method", "params", "additionalInfo"):
        try:
            check_json(method if name == "method" else body.get(name))
        except ValueError as e:
            raise ValidationError(f"'{name}': {e}") from None
    size = sum(len(json.dumps(body.get(name), separators=(",", ":")).encode()) for name in ("params", "additionalInfo"))
    if size + len(method.encode()) > settings.RPC_MAX_PARAMS_BYTES:
        raise ValidationError(f"The RPC call is too large: 'method', 'params' and 'additionalInfo' may take "
                              f"{settings.RPC_MAX_PARAMS_BYTES} bytes as JSON (RPC_MAX_PARAMS_BYTES)")


@dataclass(frozen=True)
class Call:
    method: str
    params: object
    timeout_ms: int
    expiration_time: int
    persistent: bool
    additional_info: object


def parse_call(body) -> Call:
    """The RPC request body, or a 400 naming what is wrong."""
    if not isinstance(body, dict):
        raise ValidationError("The RPC request must be a JSON object with 'method' and 'params'")
    method = body.get("method")
    if not isinstance(method, str) or not method.strip():
        raise ValidationError("'method' must be a non-empty string")
    persistent = body.get("persistent", False)
    if not isinstance(persistent, bool):
        raise ValidationError("'persistent' must be true or false")
    _check_storable(body, method)
    now = now_ms()
    timeout = max(_int(body, "timeout", rpc_calls.MAX_AHEAD_MS, f"{rpc_calls.MAX_AHEAD_MS} (a year, in ms)")
                  or services.RPC_DEFAULT_TIMEOUT_MS, MIN_TIMEOUT_MS)
    expiration = _int(body, "expirationTime", rpc_calls.latest_expiration(now), "a year from now (ms since the epoch)")
    return Call(method, body.get("params", {}), timeout, expiration if expiration is not None else now + timeout,
                persistent, body.get("additionalInfo"))


def _queue(device, call: Call, *, oneway: bool, request_id: str) -> None:
    services.rpc_to_device(device, call.method, call.params, timeout_ms=call.timeout_ms,
                           expiration_time=call.expiration_time, oneway=oneway, additional_info=call.additional_info,
                           request_id=request_id, persistent=call.persistent)


def _persist(device, call: Call, *, oneway: bool) -> Response:
    """Store the call (QUEUED), hand it to the rule engine, answer its rpcId."""
    rpc_id = str(uuid.uuid4())
    params = services.params_text_of(call.params)
    rpc_calls.record(device.tenant_id, device.pk, rpc_id, {"method": call.method, "params": params}, oneway=oneway,
                     persistent=True, expiration_time=call.expiration_time, additional_info=call.additional_info)
    _queue(device, call, oneway=oneway, request_id=rpc_id)
    return Response({"rpcId": rpc_id})


class OneWayRpcView(TelemetryView):
    def post(self, request, device_id):
        device = self.device(device_id)
        call = parse_call(request.data)
        if call.persistent:
            return _persist(device, call, oneway=True)
        _queue(device, call, oneway=True, request_id=str(uuid.uuid4()))
        return Response(status=200)


class TwoWayRpcView(TelemetryView):
    #: what ThingsBoard's RpcV2Controller answers when the device did not reply in time
    timeout_status = 504

    def post(self, request, device_id):
        device = self.device(device_id)
        call = parse_call(request.data)
        if call.persistent:
            return _persist(device, call, oneway=False)
        wait_ms = min(call.expiration_time - now_ms(), replies.MAX_TIMEOUT_MS)
        request_id = str(uuid.uuid4())
        try:
            return replies.reply_later(request, device.tenant_id, request_id,
                                       lambda: _queue(device, call, oneway=False, request_id=request_id),
                                       timeout_ms=max(wait_ms, 0), finish=self.answer)
        except replies.TooManyWaiting:
            raise too_many() from None
        except Exception:
            log.exception("rpc: a two-way call of tenant %s could not be handed on", device.tenant_id)
            raise ServiceUnavailable("The rule engine cannot take the request now, try again later") from None

    def answer(self, reply) -> HttpResponse:
        if reply is None:
            return JsonResponse(tb_error(self.timeout_status, "Timeout: the device did not reply to the RPC in time. "
                                         "Is it polling GET /api/v1/{token}/rpc, and does the root chain send 'RPC "
                                         "Request to Device' to an rpc call request node?", ErrorCode.GENERAL),
                                status=self.timeout_status)
        return HttpResponse(reply, content_type="application/json")


class TwoWayRpcV1View(TwoWayRpcView):
    #: ThingsBoard's older RpcV1Controller (/api/plugins/rpc/twoway) answers a timeout with 408
    timeout_status = 408
