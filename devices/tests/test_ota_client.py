"""OTA packages through ThingsBoard's own generated client (tb-pe-client) against the real server:
info and data saves with each checksum algorithm, downloads byte for byte, pages, assignment to a
profile and a device, group packages, counts, and deletion refused while in use."""

import uuid

import pytest
from tb_pe_client.exceptions import ApiException
from tb_pe_client.models import Device, DeviceGroupOtaPackage, DeviceProfile, EntityGroup, SaveOtaPackageInfoRequest

from devices.ota.checksums import checksum
from tests.test_tb_client import client, server_url  # noqa: F401  (fixtures: a fresh server for this module)

pytestmark = pytest.mark.server

DATA = bytes(range(256)) * 9 + b"!"
ALGORITHMS = ("MD5", "SHA256", "SHA384", "SHA512", "CRC32", "MURMUR3_32", "MURMUR3_128")


@pytest.fixture(scope="module")
def profile(client):  # noqa: F811
    return client.save_device_profile(DeviceProfile(name=f"ota-{uuid.uuid4().hex[:6]}"))


def new_info(client, profile, title, ota_type="FIRMWARE"):  # noqa: F811
    return client.save_ota_package_info(SaveOtaPackageInfoRequest(
        title=title, version="1.0", type=ota_type, device_profile_id=profile.id, uses_url=False))


@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_it_uploads_with_each_algorithm_and_downloads_byte_for_byte(client, profile, algorithm):  # noqa: F811
    info = new_info(client, profile, f"client-{algorithm}")
    assert info.has_data is False and info.id.entity_type == "OTA_PACKAGE"
    saved = client.save_ota_package_data(str(info.id.id), algorithm, ("fw.bin", DATA),
                                         checksum=checksum(algorithm, DATA))
    assert (saved.checksum, saved.data_size, saved.has_data) == (checksum(algorithm, DATA), len(DATA), True)
    assert saved.checksum_algorithm.value == algorithm and saved.file_name == "fw.bin"
    assert bytes(client.download_ota_package(str(info.id.id))) == DATA
    assert client.get_ota_package_info_by_id(str(info.id.id)).checksum == saved.checksum
    assert client.get_ota_package_by_id(str(info.id.id)).data_size == len(DATA)


def test_a_wrong_checksum_is_refused(client, profile):  # noqa: F811
    info = new_info(client, profile, "client-wrong")
    with pytest.raises(ApiException) as caught:
        client.save_ota_package_data(str(info.id.id), "SHA256", ("fw.bin", DATA), checksum="deadbeef")
    assert caught.value.status == 400 and "Wrong otaPackage file!" in caught.value.body
    assert client.get_ota_package_info_by_id(str(info.id.id)).has_data is False


def test_it_pages_packages(client, profile):  # noqa: F811
    new_info(client, profile, "client-empty")
    page = client.get_ota_packages(page_size=100, page=0, text_search="client-")
    assert {"client-SHA256", "client-empty"} <= {p.title for p in page.data}
    offered = client.get_ota_packages_by_device_profile_and_type(str(profile.id.id), "FIRMWARE", 100, 0)
    assert "client-empty" not in {p.title for p in offered.data} and "client-MD5" in {p.title for p in offered.data}


def test_assignment_counts_groups_and_refused_deletion(client, profile):  # noqa: F811
    info = new_info(client, profile, "client-assigned")
    client.save_ota_package_data(str(info.id.id), "SHA256", ("fw.bin", DATA))
    device = client.save_device(Device(name=f"ota-dev-{uuid.uuid4().hex[:6]}", device_profile_id=profile.id))
    assert client.count_by_device_profile_and_empty_ota_package("FIRMWARE", str(profile.id.id)) == 1
    device.firmware_id = info.id
    device = client.save_device(device)
    assert device.firmware_id.id == info.id.id
    assert client.count_by_device_profile_and_empty_ota_package("FIRMWARE", str(profile.id.id)) == 0
    attributes = client.get_attributes_by_scope("DEVICE", str(device.id.id), "SHARED_SCOPE",
                                                keys="fw_title,fw_checksum")
    assert {a.key: a.value for a in attributes} == {"fw_title": "client-assigned",
                                                "fw_checksum": checksum("SHA256", DATA)}
    with pytest.raises(ApiException) as caught:
        client.delete_ota_package(str(info.id.id))
    assert caught.value.status == 400 and "referenced by the devices" in caught.value.body

    fetched = client.get_device_profile_by_id(str(profile.id.id))
    fetched.firmware_id = info.id
    assert client.save_device_profile(fetched).firmware_id.id == info.id.id

    group = client.save_entity_group(EntityGroup(name=f"ota-group-{uuid.uuid4().hex[:6]}", type="DEVICE"))
    saved = client.save_device_group_ota_package(DeviceGroupOtaPackage(
        group_id=group.id, ota_package_type="FIRMWARE", ota_package_id=info.id))
    assert client.get_firmware_by_id(str(group.id.id), "FIRMWARE").id == saved.id
    assert client.count_by_device_group_and_empty_ota_package("FIRMWARE", str(info.id.id), str(group.id.id)) == 0
    client.delete_device_group_ota_package(str(saved.id))
    with pytest.raises(ApiException) as caught:
        client.get_firmware_by_id(str(group.id.id), "FIRMWARE")
    assert caught.value.status == 404
