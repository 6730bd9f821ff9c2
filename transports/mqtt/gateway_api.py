"""The gateway MQTT API's requests and answers (thingsboard.io/docs/reference/gateway-mqtt-api/): attribute
requests, server-side RPC to the devices behind a gateway and claiming; what a gateway posts is gateway.py's.

    v1/gateway/attributes/request  {"id": 1, "device": "Meter A", "client": false, "key": "k"} | "keys": [...]
                                   (or the newer docs' {"id", "device", "client": [...], "shared": [...]})
      -> v1/gateway/attributes/response  {"id": 1, "device": "Meter A", "value": v} | "values": {"k": v, ...}
    v1/gateway/rpc (the server's)  {"device": "Meter A", "data": {"id": 5, "method": "m", "params": {...}}}
    v1/gateway/rpc (the gateway's) {"device": "Meter A", "id": 5, "data": {...}}   the call's answer
    v1/gateway/claim               {"Meter A": {"secretKey": "s", "durationMs": 60000}, ...}

ThingsBoard's shapes: an attribute request reads the CLIENT_SCOPE (``"client": true``) or the SHARED_SCOPE
keys (``false``, or no ``client``), or the keys of the lists given; the answer carries, for each scope read,
``"value"`` when exactly one value was found and ``"values"`` (one object for both) when more, neither when
none (as ThingsBoard's JsonConverter adds them). A named device is gateway.connect_device's (the gateway's tenant only,
created there when missing) and becomes one the session serves. Each message takes its tokens of the gateway's
limits before its payload is read (gateway.checked_gateway); every function runs in a database thread.
"""

import json
import math
import re

from devices import claiming
from devices.api import device_limits
from devices.attributes import get_attributes
from devices.choices import AttributeScope
from devices.models import Device
from rulechains import rpc_calls
from transports.mqtt import device_api, gateway
from transports.mqtt.device_api import BadPayload

__all__ = ["attribute_response", "rpc_reply", "claim", "take_calls", "put_back", "still_served", "MAX_KEYS",
           "CALLS_PER_TAKE"]

MAX_KEYS = 1000  # keys one attribute request may name
CALLS_PER_TAKE = device_api.CALLS_PER_TAKE
_JAVA_INT = range(-(1 << 31), 1 << 31)
_DIGITS = re.compile(r"[+-]?[0-9]{1,10}")
_CHUNK = 500  # device pks one query asks for at most


def _object(payload: bytes, what: str) -> dict:
    body = device_api.parse(payload)
    if not isinstance(body, dict):
        raise BadPayload(f"{what} must be a JSON object")
    return body


def _integer(value, what: str) -> int:
    """``value`` as ThingsBoard's getAsInt reads an id: an integer, a text of digits or a whole number."""
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        value = int(value)
    elif isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value not in _JAVA_INT:
        raise BadPayload(f"{what} must be an integer")
    return value


def _keys(body: dict) -> list[str]:
    if "key" in body:
        return _key_list([body["key"]])
    if isinstance(body.get("keys"), list):
        return _key_list(body["keys"])
    raise BadPayload("an attribute request names its keys in 'key' (one) or 'keys' (a list)")


def _key_list(keys: list) -> list[str]:
    if not keys or len(keys) > MAX_KEYS or not all(isinstance(k, str) and k.strip() for k in keys):
        raise BadPayload(f"the keys of an attribute request must be 1 to {MAX_KEYS} non-empty texts")
    return list(dict.fromkeys(keys))


def attribute_response(gw: Device, payload: bytes, served: gateway.Served | None = None) -> tuple[Device, bytes]:
    """The device named and the answer to the gateway's attribute request."""
    gateway.checked_gateway(gw)
    body = _object(payload, "an attribute request")
    request_id = _integer(body.get("id"), "'id'")
    named = gateway.name(body.get("device"), "'device'")
    client, shared = body.get("client", False), body.get("shared")
    if isinstance(client, list) or isinstance(shared, list):  # the newer docs' {"client": [...], "shared": [...]}
        wanted = [(scope, _key_list(keys)) for scope, keys in ((AttributeScope.CLIENT_SCOPE, client),
                                                             (AttributeScope.SHARED_SCOPE, shared))
                  if isinstance(keys, list)]
    elif isinstance(client, bool):
        wanted = [(AttributeScope.CLIENT_SCOPE if client else AttributeScope.SHARED_SCOPE, _keys(body))]
    else:
        raise BadPayload("'client' must be true (client-side keys) or false (shared keys)")
    device = gateway.connect_devices(gw, [named], served=served)[named]
    answer = {"id": request_id, "device": named}
    for scope, keys in wanted:  # each scope as ThingsBoard's JsonConverter adds it: one value, or several
        values = {row["key"]: row["value"] for row in get_attributes(device.pk, scope, keys)}
        if len(values) == 1:
            answer["value"] = next(iter(values.values()))
        elif values:
            answer.setdefault("values", {}).update(values)
    return device, json.dumps(answer, separators=(",", ":")).encode()


def rpc_reply(gw: Device, payload: bytes, served: gateway.Served | None = None) -> Device:
    """The answer of a device behind the gateway to its server-side call, handed on as device_api.rpc_reply
    hands a device's own (an unknown, expired or answered id is dropped, as ThingsBoard's transport does)."""
    gateway.checked_gateway(gw)
    body = _object(payload, "an RPC reply")
    named = gateway.name(body.get("device"), "'device'")
    request_id = _integer(body.get("id"), "'id'")
    if "data" not in body:
        raise BadPayload("an RPC reply carries the answer in 'data'")
    device = gateway.connect_devices(gw, [named], served=served)[named]
    rpc_calls.answer(device, request_id, json.dumps(body["data"], separators=(",", ":")))
    device_limits.count(device, 0)
    return device


def _claim_entry(value) -> tuple[str, int]:
    if not isinstance(value, dict):
        raise BadPayload("each device's claim must be a JSON object {\"secretKey\", \"durationMs\"}")
    secret = value.get("secretKey")
    if secret is None:
        secret = ""
    if not isinstance(secret, str | int | float) or isinstance(secret, bool) or len(str(secret)) > 1024:
        raise BadPayload("'secretKey' must be a text")
    duration = value.get("durationMs", 0)
    if duration is None:
        duration = 0
    if isinstance(duration, str) and duration.strip().lstrip("+-").isdigit():
        duration = int(duration.strip())
    if isinstance(duration, float) and math.isfinite(duration):
        duration = int(duration)
    if isinstance(duration, bool) or not isinstance(duration, int) or abs(duration) >= 1 << 63:
        raise BadPayload("'durationMs' must be a number of milliseconds")
    return str(secret), duration


def claim(gw: Device, payload: bytes, served: gateway.Served | None = None) -> list[Device]:
    """Each named device asks to be claimed (devices/claiming.py's register, as its own claim request)."""
    gateway.checked_gateway(gw)
    body = _object(payload, "a claim request")
    if not body:
        raise BadPayload("a claim request is a JSON object keyed by device name")
    gateway.bounded(body, served)
    checked = {gateway.name(named, "each key"): _claim_entry(value) for named, value in body.items()}
    devices = gateway.connect_devices(gw, list(checked), served=served)
    for named, (secret, duration) in checked.items():
        claiming.register(devices[named], secret, duration)
    return list(devices.values())


def still_served(tenant_id, device_pks) -> set[str]:
    """Those of ``device_pks`` (texts) that are devices of the tenant still (one query; a few for many)."""
    pks, kept = sorted(device_pks), set()
    for start in range(0, len(pks), _CHUNK):
        kept.update(str(pk) for pk in Device.objects.filter(
            tenant_id=tenant_id, pk__in=pks[start:start + _CHUNK]).values_list("pk", flat=True))
    return kept


def take_calls(gw: Device, device_pk, most: int = CALLS_PER_TAKE) -> list[tuple[object, bytes]]:
    """The QUEUED server-side calls of the gateway's device ``device_pk``, now SENT (device_api.take_calls):
    ``[(call pk, the v1/gateway/rpc payload)]``; none when the device is gone or no longer in the tenant."""
    device = Device.objects.filter(tenant_id=gw.tenant_id, pk=device_pk).first()
    if device is None:
        return []
    taken = []
    for pk, request_id, body in device_api.take_calls(device, most):
        data = {"id": request_id, **json.loads(body)}
        taken.append((pk, json.dumps({"device": device.name, "data": data}, separators=(",", ":")).encode()))
    return taken


def put_back(calls: dict) -> None:
    """``{call pk: device pk}`` written and not acknowledged: QUEUED again, each device's next session told."""
    by_device: dict = {}
    for pk, device_pk in calls.items():
        by_device.setdefault(device_pk, []).append(pk)
    for device_pk, pks in by_device.items():
        device_api.put_back(device_pk, pks)
