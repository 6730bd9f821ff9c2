from tb_pe_client.models import Device as TbDevice
from tb_pe_client.models import DeviceInfo, PageDataDevice, PageDataDeviceInfo

from devices.choices import AttributeScope
from devices.models import Attribute, Device, DeviceProfile
from devices.tests.family import EntityFamilyTests, Kind
from tbproject.testing.api import page_names
from tbproject.testing.factories import make_device

DEVICE = Kind(
    single="device", plural="devices", entity_type="DEVICE", label="Device", profile_field="deviceProfileId",
    model=Device, profile_model=DeviceProfile, make=make_device, client_model=TbDevice,
    client_info_model=DeviceInfo, client_page_model=PageDataDevice, client_info_page_model=PageDataDeviceInfo,
)


class TestDeviceEndpoints(EntityFamilyTests):
    kind = DEVICE


def test_it_answers_device_data_the_client_can_parse(api, tenant):
    body = api.post("/api/device", {"name": "d"}, format="json").json()
    assert TbDevice.from_dict(body).device_data.configuration.type == "DEFAULT"


def test_it_reports_activity_from_the_active_server_attribute(api, tenant):
    online, _ = make_device(tenant, "online"), make_device(tenant, "offline")
    Attribute.objects.create(entity_id=online.pk, scope=AttributeScope.SERVER_SCOPE, key="active", bool_v=True)
    assert api.get(f"/api/device/info/{online.pk}").json()["active"] is True
    base = "/api/tenant/deviceInfos?pageSize=10&page=0"
    assert page_names(api.get(base + "&active=true")) == ["online"]
    assert page_names(api.get(base + "&active=false")) == ["offline"]


def test_it_filters_infos_by_profile_id(api, tenant):
    profile = DeviceProfile.objects.create(tenant=tenant, name="meter")
    make_device(tenant, "m", profile=profile)
    make_device(tenant, "d")
    assert page_names(api.get(f"/api/deviceInfos/all?pageSize=10&page=0&deviceProfileId={profile.pk}")) == ["m"]


def test_it_keeps_the_profile_on_an_update_without_type(api, tenant):
    profile = DeviceProfile.objects.create(tenant=tenant, name="meter")
    device = make_device(tenant, "m", profile=profile)
    res = api.post("/api/device", {"id": {"id": str(device.pk)}, "name": "m2"}, format="json")
    assert res.json()["type"] == "meter" and res.json()["name"] == "m2"
