"""What a device's PUBLISH does: ThingsBoard's device MQTT API (thingsboard.io/docs/reference/mqtt-api/),
run with the device HTTP API's services (devices/api/device_http.py, rulechains/device_rpc.py).

    v1/devices/me/telemetry                 {"k": v} | {"ts", "values"} | a list of either   -> stored
    v1/devices/me/attributes                {"k": v}, CLIENT_SCOPE                            -> stored
    v1/devices/me/attributes/request/{id}   {"clientKeys": "a,b", "sharedKeys": "c"}          -> a response
    v1/devices/me/rpc/response/{id}         the device's reply to server-side call ``id``
    v1/devices/me/rpc/request/{id}          a client-side call {"method", "params"}            (session.py)

Every function here does database work and runs in one of the transport's threads. A payload the HTTP API
would answer 400 is :class:`BadPayload` (the session drops the message and stays up); a message past the
tenant profile's transport rate limits is :class:`Refused` (the session closes, as ThingsBoard's does). Every
message takes its tokens of those limits before its payload is read, so a message to a topic the API does not
serve (:func:`unknown_topic`) or a payload it refuses counts as any other; a telemetry post then takes those of
the telemetry limits too, its data points once they are known.

Server-side calls (:func:`take_calls`) follow ThingsBoard's MQTT transport: a call taken is SENT; it is DELIVERED
(a lightweight one-way call deleted) once written to a device subscribed at QoS 0 or on the device's PUBACK at
QoS 1 (:func:`delivered`); one still un-acknowledged when the session closes is QUEUED again (:func:`put_back`).
"""

import json

from django.db.models import F
from rest_framework.exceptions import ValidationError

from devices.api import device_http, device_limits
from devices.api.telemetry_writes import parse_attributes, parse_telemetry
from devices.attributes import get_attributes
from devices.choices import AttributeScope
from rulechains import messages, replies, rpc_calls
from rulechains.device_rpc import TO_SERVER_RPC_REQUEST
from rulechains.nodes.rpc_reply import reply_key
from rulechains.rpc_models import Rpc, RpcStatus
from tbproject import waits
from tbproject.clock import now_ms
from tbproject.text import check_json

__all__ = ["BadPayload", "Gone", "Refused", "parse", "post_telemetry", "post_attributes", "telemetry_entries",
           "attribute_values", "store_telemetry", "store_attributes", "read_attributes",
           "attribute_response", "rpc_reply", "client_rpc_message", "client_rpc_key", "take_calls", "delivered",
           "put_back", "unknown_topic", "take_message", "CALLS_PER_TAKE"]


class BadPayload(Exception):
    """A message the device API refuses; the message is dropped, the session goes on."""


class Gone(Exception):
    """The session's device may no longer connect (deleted, its credentials changed, its tenant being deleted)."""


class Refused(Exception):
    """A message over the tenant profile's transport rate limits: the session is closed."""


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a JSON value")


def parse(payload: bytes):
    """The payload as JSON, under the rules of the device HTTP API's bodies (tbproject/api/json_body.py)."""
    try:
        return check_json(json.loads(payload.decode("utf-8"), parse_constant=_refuse_constant))
    except UnicodeDecodeError:
        raise BadPayload("the payload is not UTF-8 text") from None
    except RecursionError:
        raise BadPayload("the payload is nested too deeply") from None
    except ValueError as e:
        raise BadPayload(f"the payload is not JSON: {str(e)[:200]}") from None


def _checked(fn, *args):
    try:
        return fn(*args)
    except ValidationError as e:
        detail = e.detail
        raise BadPayload(" ".join(map(str, detail)) if isinstance(detail, list) else str(detail)) from None


def _allowed(device, data_points: int | None = None, *, message_taken: bool = False) -> None:
    refused = device_limits.refusal(device, data_points, message_taken=message_taken)
    if refused is not None:
        raise Refused(refused[0])


def take_message(device) -> None:
    """One message's tokens of the device's (and its tenant's) limits, taken before its payload is read:
    Refused past them. A gateway's message takes them on the gateway, then the data of each device behind
    it those of that device (gateway.py)."""
    _allowed(device)


def unknown_topic(device) -> None:
    """A message to a topic the device API does not serve: counted, then ignored (as ThingsBoard)."""
    _allowed(device)


def telemetry_entries(body) -> list[tuple[int, dict]]:
    """``[(ts, {key: value})]`` of a telemetry body in one of ThingsBoard's three shapes, or BadPayload."""
    return _checked(parse_telemetry, body, now_ms())


def attribute_values(body) -> dict:
    """``{key: value}`` of an attributes body, or BadPayload."""
    return _checked(parse_attributes, body)


def post_telemetry(device, payload: bytes) -> None:
    _allowed(device)
    store_telemetry(device, telemetry_entries(parse(payload)), counted=True)


def post_attributes(device, payload: bytes) -> None:
    _allowed(device)
    store_attributes(device, attribute_values(parse(payload)), counted=True)


def store_telemetry(device, entries: list[tuple[int, dict]], *, counted: bool = False) -> None:
    """``counted``: the message's tokens were taken (before its payload was read); only the telemetry ones now."""
    data_points = sum(len(values) for _, values in entries)
    _allowed(device, data_points, message_taken=counted)
    device_http.store_telemetry(device, entries, data_points)


def store_attributes(device, values: dict, *, counted: bool = False) -> None:
    if not counted:
        _allowed(device)
    device_http.store_client_attributes(device, values)


def _keys(value) -> list[str] | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise BadPayload("'clientKeys' and 'sharedKeys' must be comma-separated key lists")
    keys = [k.strip() for k in value.split(",") if k.strip()]
    return keys or None


def read_attributes(device, client: list[str] | None, shared: list[str] | None) -> dict:
    """ThingsBoard's rule, as the HTTP API's GET: no keys reads both scopes whole, keys of one scope read only
    it, and a scope with nothing to show is left out."""
    wanted = {"client": (AttributeScope.CLIENT_SCOPE, client), "shared": (AttributeScope.SHARED_SCOPE, shared)}
    if client is not None or shared is not None:
        wanted = {name: pair for name, pair in wanted.items() if pair[1] is not None}
    answer = {}
    for name, (scope, keys) in wanted.items():
        values = {row["key"]: row["value"] for row in get_attributes(device.pk, scope, keys)}
        if values:
            answer[name] = values
    return answer


def attribute_response(device, payload: bytes) -> bytes:
    """The answer to an attribute request (an empty payload asks for everything)."""
    _allowed(device)
    body = parse(payload) if payload.strip() else {}
    if not isinstance(body, dict):
        raise BadPayload("an attribute request must be a JSON object")
    answer = read_attributes(device, _keys(body.get("clientKeys")), _keys(body.get("sharedKeys")))
    return json.dumps(answer, separators=(",", ":")).encode()


def rpc_reply(device, request_id: int, payload: bytes) -> None:
    """The device's reply to server-side call ``request_id``: hands it to the waiting REST call (an unknown,
    expired or answered id is dropped, as ThingsBoard's transport does)."""
    _allowed(device)
    body = parse(payload) if payload.strip() else {}
    rpc_calls.answer(device, request_id, json.dumps(body, separators=(",", ":")))
    device_limits.count(device, 0)


def client_rpc_key(device, session_id: str, request_id: str) -> str:
    """The waits key the "rpc call reply" node's answer to this device's call comes on (rulechains/replies.py)."""
    return f"reply:{replies.key(device.tenant_id, reply_key(session_id, request_id))}"


def client_rpc_message(device, session_id: str, request_id: str, payload: bytes) -> list:
    """The TO_SERVER_RPC_REQUEST of a client-side call, encoded for the outbox (rulechains/device_rpc.py's)."""
    _allowed(device)
    body = parse(payload)
    if not isinstance(body, dict) or not isinstance(body.get("method"), str) or not body["method"].strip():
        raise BadPayload("an RPC request must be a JSON object with a non-empty 'method'")
    metadata = {"requestId": request_id, "serviceId": replies.service_id(), "sessionId": session_id,
                "deviceName": device.name, "deviceType": device.type}
    data = {"method": body["method"], "params": body.get("params", {})}
    return [messages.encode(messages.Msg(TO_SERVER_RPC_REQUEST, device.tenant_id, "DEVICE", device.pk, data,
                                         metadata))]


CALLS_PER_TAKE = 50  # calls of a device taken at once (a session takes again while there may be more)


def take_calls(device, most: int = CALLS_PER_TAKE) -> list[tuple[object, int, bytes]]:
    """The device's QUEUED server-side calls, oldest first, now SENT: ``[(pk, request id, {"method", "params"})]``.
    Two sessions never take the same call (each row moves from QUEUED once)."""
    rpc_calls.expire_due(device.tenant_id, device.pk)
    candidates = Rpc.objects.filter(tenant_id=device.tenant_id, device_id=device.pk, status=RpcStatus.QUEUED,
                                    expiration_time__gt=now_ms()).order_by("created_time", "pk")[:most]
    taken = []
    for rpc in candidates:
        if Rpc.objects.filter(pk=rpc.pk, status=RpcStatus.QUEUED).update(status=RpcStatus.SENT,
                                                                          version=F("version") + 1):
            call = rpc_calls.device_call(rpc)
            taken.append((rpc.pk, call["id"], json.dumps({"method": call["method"], "params": call["params"]},
                                                         separators=(",", ":")).encode()))
    return taken


def delivered(pks) -> None:
    """Calls the device has (written at QoS 0, or acknowledged): DELIVERED, a lightweight one-way call deleted.
    A call answered meanwhile keeps its answer."""
    sent = Rpc.objects.filter(pk__in=list(pks), status=RpcStatus.SENT)
    sent.filter(oneway=True, persistent=False).delete()
    sent.update(status=RpcStatus.DELIVERED, version=F("version") + 1)


def put_back(device_id, pks) -> None:
    """Calls written to a session that closed before the device acknowledged them: QUEUED again, for its next
    session (or its HTTP long poll), which is told."""
    if Rpc.objects.filter(pk__in=list(pks), status=RpcStatus.SENT).update(status=RpcStatus.QUEUED,
                                                                           version=F("version") + 1):
        waits.notify(rpc_calls.poll_key(device_id))
