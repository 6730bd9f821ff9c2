"""ThingsBoard's device HTTP API for OTA updates: a device downloads the package it was told about
(shared attributes fw_title/fw_version..., devices/ota/updates.py) with its access token.

    GET /api/v1/{token}/firmware?title=&version=[&size=&chunk=]
    GET /api/v1/{token}/software?title=&version=[&size=&chunk=]

``size`` 0 (the default) answers the whole file; otherwise chunk number ``chunk`` (from 0) of ``size``
bytes, the last one shorter, and an empty body past the end, as ThingsBoard's transport answers. 401
(empty) for a token that is no device's; 404 when the device has no package of that type, when
``title``/``version`` are not its package's, or when the package's file is at an external URL; 400
for a missing title or version or a size/chunk that is not a number from 0 to 2^31-1.
"""

from django.db.models import BinaryField
from django.db.models.functions import Substr
from django.http import HttpResponse
from django.urls import path

from devices.api import device_limits
from devices.api.device_http import authenticated, empty_response, error_response
from devices.api.ota_packages import package_response
from devices.choices import OtaPackageType
from devices.models import Device, OtaPackage
from devices.ota import updates
from devices.ota.packages import FIELDS

__all__ = ["firmware_view", "software_view", "package_bytes", "urlpatterns"]

_INT_MAX = 2**31 - 1  # ThingsBoard reads both as a Java int


def _int(request, name: str) -> int | HttpResponse:
    raw = request.GET.get(name, "") or "0"
    if not raw.isascii() or not raw.isdigit() or int(raw) > _INT_MAX:
        return error_response(400, f"Parameter '{name}' must be a number from 0 to {_INT_MAX}")
    return int(raw)


def _download(request, device: Device, ota_type: str):
    refused = device_limits.over_limit(device)
    if refused is not None:
        return refused
    title, version = request.GET.get("title"), request.GET.get("version")
    if not title or not version:
        return error_response(400, "Parameters 'title' and 'version' are required")
    size, chunk = _int(request, "size"), _int(request, "chunk")
    for value in (size, chunk):
        if isinstance(value, HttpResponse):
            return value
    field = FIELDS[ota_type]
    row = Device.objects.filter(pk=device.pk).values_list("profile_id", f"{field}_id").first()
    if row is None:
        return empty_response(401)
    package_id = updates.effective([(device.pk, row[0], row[1])], ota_type)[device.pk]
    found = OtaPackage.objects.filter(pk=package_id, tenant_id=device.tenant_id, title=title,
                                      package_version=version, data__isnull=False).defer("data").first()
    if found is None:
        return empty_response(404)
    data = package_bytes(found, size, chunk)
    if data is None:  # deleted since it was found
        return empty_response(404)
    device_limits.count(device, 1)
    return package_response(found, data)


def package_bytes(package: OtaPackage, size: int, chunk: int) -> bytes | None:
    """The whole file (``size`` 0) or chunk ``chunk`` of ``size`` bytes, cut in SQL (only the chunk leaves the
    database: SUBSTRING on PostgreSQL's bytea, SUBSTR on SQLite's blob); past ``data_size`` nothing is read.
    None when the package (or its file) is gone since ``package`` was read: never an empty file for it.
    The device MQTT API's chunks (transports/mqtt/ota.py) are read with it too."""
    rows = OtaPackage.objects.filter(pk=package.pk)
    if not size:
        data = rows.values_list("data", flat=True).first()
        return None if data is None else bytes(data)
    start, total = size * chunk, package.data_size or 0
    if start >= total:
        return b""
    part = rows.annotate(part=Substr("data", start + 1, min(size, total - start), output_field=BinaryField()))
    data = part.values_list("part", flat=True).first()
    return None if data is None else bytes(data)


def _firmware(request, device):
    return _download(request, device, OtaPackageType.FIRMWARE)


def _software(request, device):
    return _download(request, device, OtaPackageType.SOFTWARE)


_firmware.methods = _software.methods = ["GET"]
firmware_view = authenticated(_firmware)
software_view = authenticated(_software)

urlpatterns = [
    path("api/v1/<device_token:token>/firmware", firmware_view, name="device-http-firmware"),
    path("api/v1/<device_token:token>/software", software_view, name="device-http-software"),
]
