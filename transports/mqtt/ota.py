"""Firmware and software downloads over MQTT (thingsboard.io/docs/user-guide/ota-updates/, ThingsBoard's
tb-mqtt-client): the device learns of its package from the shared attributes fw_title, fw_version, fw_size,
fw_checksum, fw_checksum_algorithm (devices/ota/updates.py; ``sw_*`` for software), then asks for it chunk by
chunk:

    SUBSCRIBE v2/fw/response/+/chunk/+   (and v2/fw/error; v2/sw/... for software; the SDKs' v2/fw/response/+
                                          and .../# get SUBACK's failure code, as ThingsBoard's exact-match list
                                          answers: the answers come all the same, at QoS 0)
    PUBLISH   v2/fw/request/{requestId}/chunk/{chunk}    payload: the chunk size in bytes, as text
           <- v2/fw/response/{requestId}/chunk/{chunk}   the chunk's bytes: empty past the end of the file

As ThingsBoard's transport: the first request of a ``requestId`` fixes the package it downloads (the device's
package then: its own, else its group's, else its profile's, as the HTTP API's /firmware finds it) and its
chunk size, which a later request with an empty payload keeps; an empty payload with no size known asks for
the whole file. The bytes are cut in SQL by the HTTP API's ``package_bytes`` (devices/api/ota_device_http.py),
and each answered chunk counts as the HTTP API's download does (devices/api/device_limits.py).

Refused, with a text on ``v2/fw/error`` (``v2/sw/error``) and a log line, the session staying up (where
ThingsBoard closes the connection after the error) and nothing else lost: a request id or chunk number that is
no number up to 2^31-1, a size that is no such number, a chunk larger than the largest packet the transport
takes (DEVICE_MQTT_MAX_PAYLOAD_BYTES; ThingsBoard's limit on the chunk size is its max payload size too), a whole
file over DEVICE_MQTT_OTA_MAX_WHOLE_FILE_BYTES (64 MiB; ThingsBoard serves it at any size), and ``NOT_FOUND``
when the device has no package of that type with data (none assigned, one of another tenant, one at an external
URL, one deleted while it is read). A whole file is written in slices (Session._send's ``large``), so that it
may be larger than the bytes a session may have waiting to be sent. Each request, malformed or not, takes its
tokens of the transport rate limits first, as every other message; past them the session closes
(device_api.Refused).
"""

import re
import weakref

from devices.api import device_limits
from devices.api.ota_device_http import package_bytes
from devices.choices import OtaPackageType
from devices.models import Device, OtaPackage
from devices.ota import updates
from devices.ota.packages import FIELDS
from transports import conf
from transports.mqtt import device_api

__all__ = ["REQUEST_PREFIXES", "OtaRefused", "request", "chunk_bytes", "MAX_REQUESTS_KEPT"]

REQUEST_PREFIXES = ("v2/fw/request/", "v2/sw/request/")
_TYPES = {"fw": OtaPackageType.FIRMWARE, "sw": OtaPackageType.SOFTWARE}
_TOPIC = re.compile(r"v2/(fw|sw)/request/([^/]*)/chunk/([^/]*)")
_INT_MAX = 2**31 - 1  # ThingsBoard reads ids, chunks and sizes as Java ints
#: request ids a session remembers (package and chunk size) at once: the oldest is forgotten past it
MAX_REQUESTS_KEPT = 64
_requests: "weakref.WeakKeyDictionary[object, dict]" = weakref.WeakKeyDictionary()  # session -> {(kind, id): ...}


class OtaRefused(Exception):
    """A request answered on the error topic; the session goes on."""


def _number(text: str, what: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 10 or int(text) > _INT_MAX:
        raise OtaRefused(f"{what} must be a number from 0 to {_INT_MAX}, not {text[:32]!r}")
    return int(text)


def chunk_bytes(device, ota_type: str, package_id, size: int, chunk: int, most: int) -> tuple[object, bytes]:
    """``(package id, chunk ``chunk`` of ``size`` bytes)`` of the device's package (the one of ``package_id``
    when given), in a database thread; OtaRefused when there is none or the whole file (``size`` 0) would be
    over ``most``."""
    if package_id is None:
        row = Device.objects.filter(pk=device.pk).values_list("profile_id", f"{FIELDS[ota_type]}_id").first()
        if row is not None:
            package_id = updates.effective([(device.pk, row[0], row[1])], ota_type)[device.pk]
    package = OtaPackage.objects.filter(pk=package_id, tenant_id=device.tenant_id, type=ota_type,
                                        data__isnull=False).defer("data").first() if package_id else None
    if package is None:
        raise OtaRefused(f"NOT_FOUND: the device has no {ota_type.lower()} package to download")
    if not size and (package.data_size or 0) > most:
        raise OtaRefused(f"the package has {package.data_size} bytes, over the {most} a whole file may have "
                         "(DEVICE_MQTT_OTA_MAX_WHOLE_FILE_BYTES): ask for it in chunks")
    data = package_bytes(package, size, chunk)
    if data is None:  # deleted since it was found
        raise OtaRefused(f"NOT_FOUND: the device has no {ota_type.lower()} package to download")
    device_limits.count(device, 1)
    return package.pk, data


async def request(session, topic: str, payload: bytes) -> None:
    """A device's chunk request: the chunk on the response topic, or the refusal on the error topic."""
    prefix = topic[3:5]
    try:
        await _answer(session, prefix, topic, payload)
    except OtaRefused as e:
        await session.push(f"v2/{prefix}/error", str(e).encode())
        session._dropped(f"OTA request to {topic[:80]!r} refused: {e}")


async def _answer(session, prefix: str, topic: str, payload: bytes) -> None:
    await session._db(device_api.take_message)  # before anything of it is read: malformed requests count too
    found = _TOPIC.fullmatch(topic)
    if found is None:
        raise OtaRefused(f"a request topic is v2/{prefix}/request/{{requestId}}/chunk/{{chunk}}")
    request_id, chunk = _number(found.group(2), "the request id"), _number(found.group(3), "the chunk number")
    text = payload.decode("ascii", "replace").strip()
    size = _number(text, "the chunk size") if text else 0
    most = session.server.max_bytes
    if size > most:
        raise OtaRefused(f"the chunk size {size} is over the {most} bytes one message may carry")
    known = _requests.setdefault(session, {})
    key = (prefix, request_id)
    package_id, kept_size = known.get(key, (None, 0))
    size = size or kept_size
    whole_most = conf.ota_max_whole_file_bytes()
    package_id, data = await session._db(chunk_bytes, _TYPES[prefix], package_id, size, chunk, whole_most)
    known.pop(key, None)
    known[key] = (package_id, size)
    while len(known) > MAX_REQUESTS_KEPT:
        known.pop(next(iter(known)))
    await session.push(f"v2/{prefix}/response/{found.group(2)}/chunk/{chunk}", data, large=not size)
