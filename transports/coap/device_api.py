"""What a device's CoAP request does: the database half, run in the transport's threads (server.py).

The device MQTT transport's functions do the work (transports/mqtt/device_api.py, on the device HTTP API's
services: the same parsing, storage, rate limits and usage counts); this module adds what CoAP asks of them:
the access token in the path (:func:`device`, the HTTP API's cached look-up), the attribute read's query
keys, claiming and provisioning. A request the API refuses raises BadPayload (4.00), one over the tenant
profile's transport rate limits Refused (4.29), an unknown token :class:`Unauthorized` (4.01).
"""

import math
import re
from types import SimpleNamespace

from devices import claiming
from devices.api import device_http, device_limits
from devices.api import device_provision as http_provision
from devices.api.ota_device_http import package_bytes
from devices.attributes import get_attributes as attribute_rows
from devices.choices import AttributeScope
from devices.device_provision import provision as provision_device
from devices.models import Device, OtaPackage
from devices.ota import updates
from devices.ota.packages import FIELDS
from tbproject.api.json_body import scalar_text
from tbproject.text import check_text
from tenants.limits import device_attempts
from tenants.limits.mail import client_of
from transports.mqtt.device_api import BadPayload, Refused, parse, read_attributes

__all__ = ["Unauthorized", "TooManyProvisions", "NotFound", "device", "allowed", "get_attributes",
           "shared_attributes", "claim", "provision", "package", "sender"]


class Unauthorized(Exception):
    """The path's token is no device's access token (4.01, as ThingsBoard)."""


class NotFound(Exception):
    """No package of that type, title and version to download (4.04, as ThingsBoard)."""


class TooManyProvisions(Exception):
    """Provisioning requests past tenants/limits/device_attempts.py's limits; ``args[0]``: seconds to wait."""


def device(token: str):
    """The device whose access token ``token`` is, or Unauthorized."""
    found = device_http.device_of(token)
    if found is None:
        raise Unauthorized()
    return found


def allowed(device) -> None:
    """One message of ``device`` within its tenant's transport rate limits (its tokens taken), else Refused."""
    refused = device_limits.refusal(device)
    if refused is not None:
        raise Refused(*refused)


def _keys(value: str | None) -> list[str] | None:
    keys = [k.strip() for k in (value or "").split(",") if k.strip() and "\x00" not in k]
    return keys or None


def get_attributes(device, client: str | None, shared: str | None) -> dict:
    """GET .../attributes?clientKeys=a,b&sharedKeys=c: ThingsBoard's ``{"client": {...}, "shared": {...}}``."""
    allowed(device)
    return read_attributes(device, _keys(client), _keys(shared))


def shared_attributes(device) -> dict:
    """The device's shared attributes as one update notification ``{key: value}`` (an Observe's first answer)."""
    return {row["key"]: row["value"] for row in attribute_rows(device.pk, AttributeScope.SHARED_SCOPE, None)}


_DIGITS = re.compile(r"[+-]?[0-9]{1,19}")
_LONG = range(-(1 << 63), 1 << 63)


def _duration(value) -> int:
    if isinstance(value, float) and math.isfinite(value):
        value = int(value)
    elif isinstance(value, str) and _DIGITS.fullmatch(value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value not in _LONG:
        raise BadPayload("durationMs must be a number of milliseconds")
    return value


def claim(device, payload: bytes) -> None:
    """POST .../claim ``{"secretKey"?, "durationMs"?}`` (an empty payload: no key, the default duration), as
    the HTTP API's (devices/api/claiming.py): taken even when the device may not be claimed."""
    body = parse(payload) if payload.strip() else {}
    if not isinstance(body, dict):
        raise BadPayload("a claim request must be a JSON object")
    secret = ""
    if "secretKey" in body:
        try:
            secret = check_text(scalar_text(body["secretKey"], "secretKey"))
        except ValueError as e:
            raise BadPayload(str(e)) from None
    duration = _duration(body["durationMs"]) if "durationMs" in body else 0
    allowed(device)
    claiming.register(device, secret, duration)


def sender(address: str) -> str:
    """Who a request from ``address`` counts against: the address (an IPv4-mapped one as IPv4), an IPv6 one as
    its /64 network (tenants/limits/mail.py's ``client_of``, as the HTTP and MQTT APIs count)."""
    return client_of(SimpleNamespace(META={"REMOTE_ADDR": address}))


def provision(payload: bytes, address: str) -> dict:
    """POST /api/v1/provision: ThingsBoard's answer ``{"status", "credentialsType", "credentialsValue"}`` or
    ``{"status": "NOT_FOUND" | "FAILURE", "errorMsg"}``; counted per client (:func:`sender`) and provision key."""
    try:
        request = http_provision.parse(parse(payload))
    except ValueError as e:
        raise BadPayload(str(e)) from None
    wait = device_attempts.take_provision(sender(address), request.key)
    if wait:
        raise TooManyProvisions(wait)
    return provision_device(request)


_INT_MAX = 2**31 - 1  # ThingsBoard reads size and chunk as Java ints


def _number(value: str | None, name: str) -> int:
    raw = value or "0"
    if not raw.isascii() or not raw.isdigit() or len(raw) > 10 or int(raw) > _INT_MAX:
        raise BadPayload(f"Parameter '{name}' must be a number from 0 to {_INT_MAX}")
    return int(raw)


def package(device, ota_type: str, query: dict, block: tuple[int, int] | None = None) -> tuple[bytes, int]:
    """GET .../firmware (.../software) ?title=&version=[&size=&chunk=]: the device's package (its own, else its
    group's or profile's), whole (size 0) or chunk ``chunk`` of ``size`` bytes (empty past the end), as the HTTP
    API's download (devices/api/ota_device_http.py); with ``block`` (number, bytes), a whole file's CoAP block
    only is read. ``(the bytes, the bytes of the whole answer)``."""
    if block is None or block[0] == 0:  # a download's later blocks are not counted again
        allowed(device)
    title, version = query.get("title"), query.get("version")
    if not title or not version:
        raise BadPayload("Parameters 'title' and 'version' are required")
    size, chunk = _number(query.get("size"), "size"), _number(query.get("chunk"), "chunk")
    row = Device.objects.filter(pk=device.pk).values_list("profile_id", f"{FIELDS[ota_type]}_id").first()
    if row is None:
        raise Unauthorized()
    package_id = updates.effective([(device.pk, row[0], row[1])], ota_type)[device.pk]
    found = OtaPackage.objects.filter(pk=package_id, tenant_id=device.tenant_id, type=ota_type, title=title,
                                      package_version=version, data__isnull=False).defer("data").first()
    if found is None:
        raise NotFound()
    whole = not size and block is not None
    data = package_bytes(found, block[1], block[0]) if whole else package_bytes(found, size, chunk)
    if data is None:  # deleted since it was found
        raise NotFound()
    if not whole or block[0] == 0:
        device_limits.count(device, 1)  # once per download
    return data, (found.data_size or 0) if whole else len(data)
