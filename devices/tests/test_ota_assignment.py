"""Assigning OTA packages to device profiles, devices and device groups, and what the devices are
told: ThingsBoard's shared attributes (fw_*/sw_*) and fw_state telemetry, in bulk for a profile."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from tb_pe_client.models import Device as TbDevice
from tb_pe_client.models import DeviceGroupOtaPackage as TbGroupOtaPackage
from tb_pe_client.models import DeviceProfile as TbDeviceProfile

from devices.api import device_http
from devices.models import Device, DeviceCredentials, DeviceProfile
from devices.tests.ota_support import fw_states, make_package, save_info, shared
from tbproject.testing.api import assert_error
from tbproject.testing.factories import default_profile, make_device, make_group

DATA = b"\x7fELF" + bytes(range(200)) * 5


@pytest.fixture(autouse=True)
def no_cached_tokens():
    device_http._TOKENS.forget()


@pytest.fixture
def profile(tenant):
    return default_profile(tenant)


def ota_id(info) -> dict:
    return {"entityType": "OTA_PACKAGE", "id": info["id"]["id"]}


def save_profile(api, profile, **changes):
    body = {**api.get(f"/api/deviceProfile/{profile.pk}").json(), **changes}
    return api.post("/api/deviceProfile", body, format="json")


def save_device(api, device, **changes):
    body = {**api.get(f"/api/device/{device.pk}").json(), **changes}
    return api.post("/api/device", body, format="json")


def test_a_profile_package_is_announced_to_every_device_of_the_profile(api, profile, tenant):
    devices = [make_device(tenant, f"d{i}") for i in range(3)]
    info = make_package(api, profile, DATA, title="esp32", version="2.0", tag="esp32-2.0", algorithm="CRC32")
    res = save_profile(api, profile, firmwareId=ota_id(info))
    assert res.status_code == 200, res.content
    assert TbDeviceProfile.from_dict(res.json()).firmware_id.id.hex == info["id"]["id"].replace("-", "")
    for device in devices:
        attrs = shared(device)
        assert attrs == {"fw_title": "esp32", "fw_version": "2.0", "fw_tag": "esp32-2.0", "fw_size": len(DATA),
                         "fw_checksum_algorithm": "CRC32", "fw_checksum": info["checksum"]}
        assert fw_states(device) == ["QUEUED", "INITIATED"]
    assert api.get(f"/api/deviceProfile/{profile.pk}").json()["firmwareId"] == ota_id(info)


def test_many_devices_are_told_in_one_attribute_batch(api, profile, tenant):
    Device.objects.bulk_create([Device(tenant=tenant, name=f"bulk-{i}", profile=profile) for i in range(60)])
    info = make_package(api, profile, DATA)
    with CaptureQueriesContext(connection) as queries:
        assert save_profile(api, profile, firmwareId=ota_id(info)).status_code == 200
    upserts = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('INSERT INTO "devices_attribute"')]
    assert len(upserts) == 1  # 60 devices x 6 keys in one statement
    assert all(shared(d)["fw_title"] == "fw" for d in Device.objects.filter(name__startswith="bulk-"))


def test_a_devices_own_package_wins_over_its_profiles(api, profile, tenant):
    device, follower = make_device(tenant, "own"), make_device(tenant, "follower")
    mine = make_package(api, profile, DATA, title="mine")
    res = save_device(api, device, firmwareId=ota_id(mine))
    assert res.status_code == 200, res.content
    assert TbDevice.from_dict(res.json()).firmware_id is not None
    assert shared(device)["fw_title"] == "mine" and fw_states(device) == ["QUEUED", "INITIATED"]
    assert shared(follower) == {}
    common = make_package(api, profile, DATA, title="common")
    save_profile(api, profile, firmwareId=ota_id(common))
    assert shared(device)["fw_title"] == "mine" and shared(follower)["fw_title"] == "common"
    # unassigned: the device follows its profile again
    res = save_device(api, device, firmwareId=None)
    assert res.status_code == 200 and res.json()["firmwareId"] is None
    assert shared(device)["fw_title"] == "common"
    # the profile's package removed: its followers lose the attributes
    save_profile(api, profile, firmwareId=None)
    assert shared(device) == {} and shared(follower) == {}


def test_a_save_that_changes_nothing_tells_nobody(api, profile, tenant):
    device = make_device(tenant, "quiet")
    info = make_package(api, profile, DATA)
    save_device(api, device, firmwareId=ota_id(info))
    assert save_device(api, device, label="renamed").status_code == 200
    assert fw_states(device) == ["QUEUED", "INITIATED"]


def test_software_uses_sw_keys(api, profile, tenant):
    device = make_device(tenant, "soft")
    info = make_package(api, profile, DATA, title="app", ota_type="SOFTWARE", algorithm="MD5")
    assert save_device(api, device, softwareId=ota_id(info)).status_code == 200
    assert shared(device)["sw_title"] == "app" and shared(device)["sw_checksum_algorithm"] == "MD5"
    assert fw_states(device, "sw") == ["QUEUED", "INITIATED"] and fw_states(device) == []


def test_a_url_package_is_announced_with_its_url(api, profile, tenant):
    device = make_device(tenant, "url")
    info = save_info(api, profile, title="remote", usesUrl=True, url="https://example.com/f.bin").json()
    assert save_device(api, device, firmwareId=ota_id(info)).status_code == 200
    assert shared(device) == {"fw_title": "remote", "fw_version": "1.0", "fw_url": "https://example.com/f.bin"}


def test_a_new_device_of_a_profile_with_a_package_is_told(api, profile, tenant):
    info = make_package(api, profile, DATA)
    save_profile(api, profile, firmwareId=ota_id(info))
    res = api.post("/api/device", {"name": "newcomer", "type": "default"}, format="json")
    assert res.status_code == 200
    assert shared(Device.objects.get(name="newcomer"))["fw_title"] == "fw"


@pytest.mark.parametrize("target", ["device", "profile"])
def test_wrong_packages_are_refused_on_assignment(api, profile, tenant, target):
    device = make_device(tenant, "picky")
    other = DeviceProfile.objects.create(tenant=tenant, name="other")
    cases = [
        (make_package(api, other, DATA, title="theirs"), "firmwareId",
         "Can't assign firmware with different deviceProfile!"),
        (make_package(api, profile, DATA, title="soft", ota_type="SOFTWARE"), "firmwareId",
         "Can't assign firmware with type: SOFTWARE"),
        (save_info(api, profile, title="empty").json(), "firmwareId", "Can't assign firmware with empty data!"),
        (make_package(api, profile, DATA, title="fw2"), "softwareId", "Can't assign software with type: FIRMWARE"),
    ]
    for info, key, message in cases:
        res = save_device(api, device, **{key: ota_id(info)}) if target == "device" else \
            save_profile(api, profile, **{key: ota_id(info)})
        assert_error(res, 400, message)
    device.refresh_from_db()
    profile.refresh_from_db()
    assert (device.firmware_id, device.software_id, profile.firmware_id, profile.software_id) == (None,) * 4
    assert shared(device) == {}


def test_another_tenants_package_is_404_as_a_firmware_id(api, mallory_api, other_tenant, profile, tenant):
    device = make_device(tenant, "victim")
    foreign = make_package(mallory_api, default_profile(other_tenant), DATA, title="secret")
    assert_error(save_device(api, device, firmwareId=ota_id(foreign)), 404)
    assert_error(save_profile(api, profile, firmwareId=ota_id(foreign)), 404)
    assert_error(api.post("/api/device", {"name": "fresh", "firmwareId": ota_id(foreign)}, format="json"), 404)
    assert shared(device) == {} and not Device.objects.filter(name="fresh").exists()


def test_a_package_in_use_is_not_deleted(api, profile, tenant):
    device = make_device(tenant, "user")
    info = make_package(api, profile, DATA)
    url = f"/api/otaPackage/{info['id']['id']}"
    save_device(api, device, firmwareId=ota_id(info))
    assert_error(api.delete(url), 400, "The otaPackage referenced by the devices cannot be deleted!")
    save_device(api, device, firmwareId=None)
    save_profile(api, profile, firmwareId=ota_id(info))
    assert_error(api.delete(url), 400, "The otaPackage referenced by the device profile cannot be deleted!")
    save_profile(api, profile, firmwareId=None)
    group = make_group(tenant, "g")
    api.post("/api/deviceGroupOtaPackage", {"groupId": {"id": str(group.pk)}, "otaPackageType": "FIRMWARE",
                                            "otaPackageId": ota_id(info)}, format="json")
    assert_error(api.delete(url), 400, "device groups")


def test_a_group_package_reaches_the_groups_devices_of_its_profile(api, profile, tenant):
    other = DeviceProfile.objects.create(tenant=tenant, name="other")
    member, outsider = make_device(tenant, "m"), make_device(tenant, "o")
    stranger = make_device(tenant, "s", profile=other)
    owner = make_device(tenant, "owner")
    group = make_group(tenant, "g", members=[member, stranger, owner])
    mine = make_package(api, profile, DATA, title="mine")
    save_device(api, owner, firmwareId=ota_id(mine))
    info = make_package(api, profile, DATA, title="grouped")
    assert api.get(f"/api/devices/count/FIRMWARE/{info['id']['id']}/{group.pk}").json() == 1
    assert api.get(f"/api/devices/count/FIRMWARE/{profile.pk}").json() == 2  # m and o: owner has its own
    body = {"groupId": {"entityType": "ENTITY_GROUP", "id": str(group.pk)}, "otaPackageType": "FIRMWARE",
            "otaPackageId": ota_id(info)}
    res = api.post("/api/deviceGroupOtaPackage", body, format="json")
    assert res.status_code == 200, res.content
    saved = TbGroupOtaPackage.from_dict(res.json())
    assert shared(member)["fw_title"] == "grouped"
    assert shared(stranger) == {} and shared(outsider) == {} and shared(owner)["fw_title"] == "mine"
    fetched = api.get(f"/api/deviceGroupOtaPackage/{group.pk}/FIRMWARE")
    assert fetched.status_code == 200 and fetched.json()["id"] == str(saved.id)
    assert_error(api.get(f"/api/deviceGroupOtaPackage/{group.pk}/SOFTWARE"), 404)
    # a device added to the group later gets it; one taken out loses it
    group.refresh_from_db()
    assert group.ota_assigned
    assert api.post(f"/api/entityGroup/{group.pk}/addEntities", [str(outsider.pk)], format="json").status_code == 200
    assert shared(outsider)["fw_title"] == "grouped"
    res = api.post(f"/api/entityGroup/{group.pk}/deleteEntities", [str(member.pk)], format="json")
    assert res.status_code == 200 and shared(member) == {}
    res = api.post(f"/api/entityGroup/{group.pk}/addEntities", [str(stranger.pk), str(member.pk)], format="json")
    assert res.status_code == 200, res.content
    assert shared(member)["fw_title"] == "grouped" and shared(stranger) == {}
    res = api.post("/api/device?entityGroupId=" + str(group.pk), {"name": "joiner"}, format="json")
    assert res.status_code == 200 and shared(Device.objects.get(name="joiner"))["fw_title"] == "grouped"
    assert api.delete(f"/api/deviceGroupOtaPackage/{saved.id}").status_code == 200
    assert shared(outsider) == {} and shared(member) == {} and shared(Device.objects.get(name="joiner")) == {}
    group.refresh_from_db()
    assert not group.ota_assigned


def test_group_assignments_check_group_package_and_type(api, profile, tenant, mallory_api, other_tenant):
    group = make_group(tenant, "g")
    info = make_package(api, profile, DATA)
    foreign_group = make_group(other_tenant, "theirs")
    body = {"groupId": {"id": str(group.pk)}, "otaPackageType": "SOFTWARE", "otaPackageId": ota_id(info)}
    assert_error(api.post("/api/deviceGroupOtaPackage", body, format="json"), 400, "with type: FIRMWARE")
    assert_error(api.post("/api/deviceGroupOtaPackage", {**body, "otaPackageType": "BOOT"}, format="json"), 400)
    assert_error(api.post("/api/deviceGroupOtaPackage", {**body, "groupId": {"id": str(foreign_group.pk)},
                                                         "otaPackageType": "FIRMWARE"}, format="json"), 404)
    foreign = make_package(mallory_api, default_profile(other_tenant), DATA)
    assert_error(api.post("/api/deviceGroupOtaPackage", {**body, "otaPackageType": "FIRMWARE",
                                                         "otaPackageId": ota_id(foreign)}, format="json"), 404)
    assert_error(api.post("/api/deviceGroupOtaPackage", {"otaPackageType": "FIRMWARE"}, format="json"), 400)
    assert_error(api.get(f"/api/devices/count/FIRMWARE/{default_profile(other_tenant).pk}"), 404)


def test_the_device_polls_its_attributes_and_reports_its_state_as_telemetry(api, client, profile, tenant):
    device = make_device(tenant, "reporter")
    token = DeviceCredentials.objects.get(device=device).credentials_id
    info = make_package(api, profile, DATA, title="t", version="9")
    save_device(api, device, firmwareId=ota_id(info))
    res = client.get(f"/api/v1/{token}/attributes?sharedKeys=fw_title,fw_version,fw_checksum,fw_size")
    assert res.json() == {"shared": {"fw_title": "t", "fw_version": "9", "fw_checksum": info["checksum"],
                                     "fw_size": len(DATA)}}
    for state in ("DOWNLOADING", "DOWNLOADED", "VERIFIED", "UPDATING", "UPDATED"):
        body = {"current_fw_title": "t", "current_fw_version": "9" if state == "UPDATED" else "8", "fw_state": state}
        assert client.post(f"/api/v1/{token}/telemetry", body, content_type="application/json").status_code == 200
    assert fw_states(device)[-1] == "UPDATED"
    latest = api.get(f"/api/plugins/telemetry/DEVICE/{device.pk}/values/timeseries?keys=fw_state,current_fw_version"
                     "&useStrictDataTypes=true").json()
    assert latest["fw_state"][0]["value"] == "UPDATED" and latest["current_fw_version"][0]["value"] == "9"


def test_devices_an_integration_creates_are_told_their_profiles_package(api, profile, tenant):
    from converters.output import EntityUpdate
    from devices import known
    from devices.provisioning import Provisioner

    known.forget()
    info = make_package(api, profile, DATA)
    save_profile(api, profile, firmwareId=ota_id(info))
    group = make_group(tenant, "Auto")
    other = make_package(api, profile, DATA, title="for-group")
    api.post("/api/deviceGroupOtaPackage", {"groupId": {"id": str(group.pk)}, "otaPackageType": "FIRMWARE",
                                            "otaPackageId": ota_id(other)}, format="json")
    updates = [EntityUpdate(entity_type="DEVICE", name=f"auto-{i}", profile="default") for i in range(5)]
    updates.append(EntityUpdate(entity_type="DEVICE", name="auto-grouped", profile="default", group="Auto"))
    updates.append(EntityUpdate(entity_type="DEVICE", name="auto-other", profile="elsewhere"))
    Provisioner(tenant.pk, allow_create=True).prefetch(updates)
    told = {d.name: shared(d).get("fw_title") for d in Device.objects.filter(name__startswith="auto-", profile=profile)}
    assert told == {**{f"auto-{i}": "fw" for i in range(5)}, "auto-grouped": "for-group"}
    assert shared(Device.objects.get(name="auto-other")) == {}


def _queries_without_the_hook(tenant, profile, name) -> int:
    from django.db.models.signals import post_save

    from devices.ota import signals

    post_save.disconnect(dispatch_uid="devices.ota.device_saved", sender=Device)
    try:
        with CaptureQueriesContext(connection) as queries:
            Device.objects.create(tenant=tenant, name=name, profile_id=profile.pk)
    finally:
        post_save.connect(signals.device_saved, sender=Device, dispatch_uid="devices.ota.device_saved")
    return len(queries)


def test_a_new_device_costs_no_query_when_its_tenant_has_no_package(profile, tenant, django_assert_num_queries):
    Device.objects.create(tenant=tenant, name="warm", profile_id=profile.pk)  # this process learns it has none
    base = _queries_without_the_hook(tenant, profile, "base")
    with django_assert_num_queries(base):
        Device.objects.create(tenant=tenant, name="new", profile_id=profile.pk)


def test_a_new_device_costs_one_query_when_its_tenant_has_packages(api, profile, tenant, django_assert_num_queries):
    make_package(api, profile, DATA)  # saving a package forgets what this process knew of the tenant
    Device.objects.create(tenant=tenant, name="warm", profile_id=profile.pk)
    base = _queries_without_the_hook(tenant, profile, "base")
    with django_assert_num_queries(base + 1):  # the profile's firmware and software
        Device.objects.create(tenant=tenant, name="new", profile_id=profile.pk)
    info = make_package(api, profile, DATA, title="fw2")
    assert save_profile(api, profile, firmwareId=ota_id(info)).status_code == 200
    device = Device.objects.create(tenant=tenant, name="told", profile_id=profile.pk)
    assert shared(device)["fw_title"] == "fw2"
