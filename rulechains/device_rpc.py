"""RPC in ThingsBoard's device HTTP API (thingsboard.io/docs/reference/http-api/#rpc-api), beside
devices/api/device_http.py (same token check, body reading and error answers):

    GET  /api/v1/{token}/rpc[?timeout=ms]  long poll: {"id": n, "method", "params"}, or 408 (empty) when
                                           no server-side call came within the timeout (0 or none: 60 s,
                                           ThingsBoard's HTTP_REQUEST_TIMEOUT; at most 300 s, its
                                           HTTP_MAX_REQUEST_TIMEOUT: devices/api/device_updates.timeout_ms)
    POST /api/v1/{token}/rpc/{id}          the device's reply (any JSON) to call ``id``: 200
    POST /api/v1/{token}/rpc               client-side RPC {"method", "params"}: a TO_SERVER_RPC_REQUEST
                                           message (metadata requestId, serviceId, sessionId, deviceName,
                                           deviceType) whose "rpc call reply" node's data is the answer
                                           (200), or 408 (empty) after CLIENT_RPC_TIMEOUT_MS

A server-side call reaches the poll through rulechains/rpc_calls.py (the call's row, and a nudge
over tbproject/waits.py); the reply to a two-way call goes back to the REST call waiting for it
the same way. Both waits hold no thread under the web server (tbproject.deferred.answer_when). A reply
to an unknown, expired or already answered id is dropped (200), as ThingsBoard's transport forwards
it without an answer. 401 (empty) for an unknown token, 400 for a bad body or id, 429 over the
tenant profile's transport limits or past the process's caps of waiting requests
(MAX_WAITING_REQUESTS, MAX_WAITING_REQUESTS_PER_TENANT, and MAX_WAITING_REQUESTS_PER_DEVICE RPC polls
of one device). Empty answers carry no Content-Type, as the rest of the device API's do.
"""

import json
import re
import secrets
import uuid

from django.http import HttpResponse, JsonResponse
from django.urls import path
from rest_framework.exceptions import ValidationError

from devices.api import device_limits
from devices.api.device_http import authenticated, empty_response, json_body
from devices.api.device_updates import DEFAULT_TIMEOUT_MS, timeout_ms, too_many
from rulechains import messages, replies, rpc_calls
from rulechains.nodes.rpc_reply import reply_key

__all__ = ["urlpatterns", "TO_SERVER_RPC_REQUEST", "DEFAULT_POLL_TIMEOUT_MS", "CLIENT_RPC_TIMEOUT_MS"]

TO_SERVER_RPC_REQUEST = "TO_SERVER_RPC_REQUEST"
#: ThingsBoard's transport.http.request_timeout: a poll without ``timeout``, and a client-side RPC
DEFAULT_POLL_TIMEOUT_MS = DEFAULT_TIMEOUT_MS
CLIENT_RPC_TIMEOUT_MS = DEFAULT_TIMEOUT_MS
_INT = re.compile(r"[0-9]{1,10}", re.ASCII)


def _device_call(rpc) -> HttpResponse:
    return empty_response(408) if rpc is None else JsonResponse(rpc_calls.device_call(rpc))


def _reply_answer(reply) -> HttpResponse:
    return empty_response(408) if reply is None else HttpResponse(reply, content_type="application/json")


def _rpc(request, device):
    if request.method == "GET":
        return _subscribe(request, device)
    return _client_rpc(request, device)


_rpc.methods = ["GET", "POST"]


def _subscribe(request, device):
    """The long poll: the device's next server-side call, or 408 when none came in time."""
    wait_ms = timeout_ms(request.GET)
    refused = device_limits.over_limit(device)
    if refused is not None:
        return refused
    try:
        return rpc_calls.poll(request, device, wait_ms, _device_call)
    except replies.TooManyWaiting:
        return too_many()


def _client_rpc(request, device):
    """A device's own call into the rule engine; the "rpc call reply" node's data answers it."""
    from rulechains import outbox

    body = json_body(request)
    if isinstance(body, HttpResponse):
        return body
    if not isinstance(body, dict):
        raise ValidationError("The RPC request must be a JSON object with 'method' and 'params'")
    method = body.get("method")
    if not isinstance(method, str) or not method.strip():
        raise ValidationError("'method' must be a non-empty string")
    if "params" not in body:
        raise ValidationError("'params' is required (use {} when there are none)")
    refused = device_limits.over_limit(device)
    if refused is not None:
        return refused
    session_id, request_id = str(uuid.uuid4()), str(secrets.randbelow(2**31 - 1) + 1)
    metadata = {"requestId": request_id, "serviceId": replies.service_id(), "sessionId": session_id,
                "deviceName": device.name, "deviceType": device.type}
    payload = [messages.encode(messages.Msg(TO_SERVER_RPC_REQUEST, device.tenant_id, "DEVICE", device.pk,
                                            {"method": method, "params": body["params"]}, metadata))]
    try:
        answer = replies.reply_later(request, device.tenant_id, reply_key(session_id, request_id),
                                     lambda: outbox.queue(payload), timeout_ms=CLIENT_RPC_TIMEOUT_MS,
                                     finish=_reply_answer, device_key=f"rpc-client:{device.pk}")
    except replies.TooManyWaiting:
        return too_many()
    device_limits.count(device, 0)  # the message was taken (the answer may still be on its way)
    return answer


def _reply(request, device, request_id: str):
    """The device's reply to a server-side call it took."""
    if not _INT.fullmatch(request_id):
        raise ValidationError(f"Invalid request id: {request_id:.32}. It must be the call's integer 'id'")
    body = json_body(request)
    if isinstance(body, HttpResponse):
        return body
    refused = device_limits.over_limit(device)
    if refused is not None:
        return refused
    rpc_calls.answer(device, int(request_id), json.dumps(body, separators=(",", ":")))
    device_limits.count(device, 0)
    return empty_response(200)


_reply.methods = ["POST"]

rpc_view = authenticated(_rpc)
reply_view = authenticated(_reply)

urlpatterns = [
    path("api/v1/<device_token:token>/rpc", rpc_view, name="device-http-rpc"),
    path("api/v1/<device_token:token>/rpc/<str:request_id>", reply_view, name="device-http-rpc-reply"),
]
