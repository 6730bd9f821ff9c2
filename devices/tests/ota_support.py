"""Helpers of the OTA tests: packages made through the REST API as a user makes them."""

from devices import attributes, telemetry
from devices.choices import AttributeScope

__all__ = ["save_info", "upload", "make_package", "shared", "fw_states"]


def save_info(api, profile, title="fw", version="1.0", ota_type="FIRMWARE", **extra):
    body = {"title": title, "version": version, "type": ota_type,
            "deviceProfileId": {"entityType": "DEVICE_PROFILE", "id": str(profile.pk)}, **extra}
    return api.post("/api/otaPackage", body, format="json")


def upload(api, package_id, data: bytes, algorithm="SHA256", checksum=None, name="fw.bin",
           content_type="application/octet-stream"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    query = f"checksumAlgorithm={algorithm}" + (f"&checksum={checksum}" if checksum else "")
    return api.post(f"/api/otaPackage/{package_id}?{query}",
                    {"file": SimpleUploadedFile(name, data, content_type=content_type)}, format="multipart")


def make_package(api, profile, data: bytes = b"\x01firmware\x00bytes" * 10, **kwargs) -> dict:
    """A package with data, as OtaPackageInfo JSON."""
    algorithm = kwargs.pop("algorithm", "SHA256")
    res = save_info(api, profile, **kwargs)
    assert res.status_code == 200, res.content
    res = upload(api, res.json()["id"]["id"], data, algorithm)
    assert res.status_code == 200, res.content
    return res.json()


def shared(device) -> dict:
    return {row["key"]: row["value"] for row in attributes.get_attributes(device.pk, AttributeScope.SHARED_SCOPE)}


def fw_states(device, prefix="fw") -> list:
    """The device's ``fw_state`` values, oldest first."""
    points = telemetry.history(device.pk, [f"{prefix}_state"], 0, 2**62, order="ASC").get(f"{prefix}_state", [])
    return [value for _, value in points]
