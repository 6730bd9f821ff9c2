"""Device and asset profiles: one mixin, run for both kinds."""

from dataclasses import dataclass
from typing import Any

import pytest
from tb_pe_client.models import AssetProfile as TbAssetProfile
from tb_pe_client.models import AssetProfileInfo, DeviceProfileInfo, PageDataAssetProfileInfo, PageDataDeviceProfile
from tb_pe_client.models import DeviceProfile as TbDeviceProfile

from devices.models import AssetProfile, DeviceProfile
from devices.tests.family import BAD_PAGING
from tbproject.testing.api import assert_error, assert_isolated, assert_unchanged, page_names, snapshot
from tbproject.testing.factories import make_asset, make_device
from tbproject.testing.fixtures import api_as


@dataclass(frozen=True)
class ProfileKind:
    single: str
    label: str
    members: str
    model: Any
    make_member: Any
    client_model: Any
    client_info_model: Any


DEVICE_PROFILE = ProfileKind("deviceProfile", "Device profile", "devices", DeviceProfile, make_device,
                             TbDeviceProfile, DeviceProfileInfo)
ASSET_PROFILE = ProfileKind("assetProfile", "Asset profile", "assets", AssetProfile, make_asset,
                            TbAssetProfile, AssetProfileInfo)


class ProfileTests:
    kind: ProfileKind

    def url(self, path=""):
        return f"/api/{self.kind.single}{path}"

    def save(self, client, body):
        return client.post(self.url(), body, format="json")

    def default(self, tenant):
        return self.kind.model.objects.get(tenant=tenant, is_default=True)

    def test_it_creates_a_profile_and_answers_the_client_shape(self, api, tenant):
        res = self.save(api, {"name": "meter", "description": "water meters", "image": "data:image/png;base64,AA"})
        assert res.status_code == 200, res.content
        body = res.json()
        parsed = self.kind.client_model.from_dict(body)
        assert parsed.name == "meter" and parsed.default is False and parsed.image.startswith("data:")
        assert body["tenantId"]["id"] == str(tenant.pk) and isinstance(body["createdTime"], int)

    def test_it_round_trips_a_fetched_profile(self, api, tenant):
        profile = self.default(tenant)
        fetched = api.get(self.url(f"/{profile.pk}")).json()
        posted = self.kind.client_model.from_dict(fetched).to_dict()
        posted.update(description="changed", version=50, default=False)
        body = self.save(api, posted).json()
        assert body["description"] == "changed" and body["default"] is True
        assert body["version"] == fetched["version"] + 1

    def test_it_refuses_a_duplicate_name(self, api, tenant):
        assert_error(self.save(api, {"name": "default"}), 400, f"{self.kind.label} with such name already exists!")
        assert self.kind.model.objects.filter(tenant=tenant).count() == 1

    def test_it_requires_a_name(self, api):
        assert_error(self.save(api, {"description": "x"}), 400, f"{self.kind.label} name should be specified!")

    def test_it_refuses_to_delete_the_default_profile(self, api, tenant):
        profile = self.default(tenant)
        assert_error(api.delete(self.url(f"/{profile.pk}")), 400,
                     f"Deletion of Default {self.kind.label.title()} is prohibited!")
        assert self.kind.model.objects.filter(pk=profile.pk).exists()

    def test_it_refuses_to_delete_a_profile_in_use(self, api, tenant):
        profile = self.kind.model.objects.create(tenant=tenant, name="used")
        self.kind.make_member(tenant, "m", profile=profile)
        message = f"The {self.kind.label.lower()} referenced by the {self.kind.members} cannot be deleted!"
        assert_error(api.delete(self.url(f"/{profile.pk}")), 400, message)
        assert self.kind.model.objects.filter(pk=profile.pk).exists()

    def test_it_deletes_an_unused_profile(self, api, tenant):
        profile = self.kind.model.objects.create(tenant=tenant, name="unused")
        assert api.delete(self.url(f"/{profile.pk}")).status_code == 200
        assert not self.kind.model.objects.filter(pk=profile.pk).exists()

    def test_it_moves_the_default_flag(self, api, tenant):
        old = self.default(tenant)
        new = self.kind.model.objects.create(tenant=tenant, name="new")
        res = api.post(self.url(f"/{new.pk}/default"))
        assert res.status_code == 200 and res.json()["default"] is True
        assert self.default(tenant) == new
        info = api.get(self.url("Info/default")).json()
        assert self.kind.client_info_model.from_dict(info).name == "new"
        old.refresh_from_db()
        assert old.is_default is False and old.version == 2
        assert api.delete(self.url(f"/{old.pk}")).status_code == 200

    def test_it_pages_profiles_and_infos(self, api, tenant, other_tenant):
        self.kind.model.objects.create(tenant=tenant, name="zeta")
        self.kind.model.objects.create(tenant=other_tenant, name="Alpha")
        assert page_names(api.get(self.url("s?pageSize=10&page=0"))) == ["default", "zeta"]
        assert page_names(api.get(self.url("s?pageSize=10&page=0&textSearch=ET"))) == ["zeta"]
        assert page_names(api.get(self.url("s?pageSize=10&page=0&sortProperty=isDefault&sortOrder=DESC"))) == [
            "default", "zeta"]
        infos = api.get(self.url("Infos?pageSize=10&page=0")).json()
        assert [self.kind.client_info_model.from_dict(row).name for row in infos["data"]] == ["default", "zeta"]
        assert set(infos["data"][0]) >= {"id", "name", "image", "defaultDashboardId", "tenantId"}

    @pytest.mark.parametrize(("query", "message"), BAD_PAGING)
    def test_it_answers_400_for_bad_paging(self, api, query, message):
        assert_error(api.get(self.url("s?") + query), 400, message)

    def test_it_serves_one_info_by_id_and_lists_by_ids(self, api, tenant, other_tenant):
        profile = self.default(tenant)
        theirs = self.default(other_tenant)
        assert api.get(self.url(f"Info/{profile.pk}")).json()["name"] == "default"
        assert_error(api.get(self.url(f"Info/{theirs.pk}")), 404)
        ids_param = f"{self.kind.single}Ids"
        res = api.get(self.url("Infos/list"), {ids_param: f"{profile.pk},{theirs.pk}"})
        assert [row["id"]["id"] for row in res.json()] == [str(profile.pk)]

    def test_it_lists_names_optionally_only_those_in_use(self, api, tenant):
        used = self.kind.model.objects.create(tenant=tenant, name="used")
        self.kind.make_member(tenant, "m", profile=used)
        assert [row["name"] for row in api.get(self.url("/names")).json()] == ["default", "used"]
        assert [row["name"] for row in api.get(self.url("/names?activeOnly=true")).json()] == ["used"]

    def test_it_answers_404_for_another_tenants_profile(self, api, other_tenant):
        theirs = self.default(other_tenant)
        assert_isolated(api, theirs, single=self.kind.single, update={"name": "stolen"})
        assert_error(api.post(self.url(f"/{theirs.pk}/default")), 404)

    def test_it_answers_400_for_malformed_ids(self, api):
        assert_error(api.get(self.url("/xyz")), 400, "Invalid UUID string: xyz")
        assert_error(api.post(self.url("/xyz/default")), 400, "Invalid UUID string: xyz")

    def test_a_customer_user_reads_infos_but_not_profiles(self, customer_api, tenant):
        profile = self.default(tenant)
        before = snapshot(profile)
        assert page_names(customer_api.get(self.url("Infos?pageSize=10&page=0"))) == ["default"]
        assert customer_api.get(self.url("Info/default")).status_code == 200
        assert_error(customer_api.get(self.url(f"/{profile.pk}")), 403)
        assert_error(customer_api.get(self.url("s?pageSize=10&page=0")), 403)
        assert_error(self.save(customer_api, {"name": "mine"}), 403)
        assert_error(customer_api.delete(self.url(f"/{profile.pk}")), 403)
        assert_error(customer_api.post(self.url(f"/{profile.pk}/default")), 403)
        assert_unchanged(profile, before)

    def test_a_sysadmin_gets_403(self, sysadmin, tenant):
        client = api_as(sysadmin)
        assert_error(client.get(self.url("s?pageSize=10&page=0")), 403)
        assert_error(client.get(self.url("Infos?pageSize=10&page=0")), 403)


class TestDeviceProfiles(ProfileTests):
    kind = DEVICE_PROFILE


class TestAssetProfiles(ProfileTests):
    kind = ASSET_PROFILE


def test_it_keeps_device_profile_settings_it_has_no_column_for(api):
    body = {"name": "mqtt", "transportType": "MQTT", "provisionType": "ALLOW_CREATE_NEW_DEVICES",
            "defaultQueueName": "HighPriority", "provisionDeviceKey": "key-1",
            "profileData": {"transportConfiguration": {"type": "MQTT", "deviceTelemetryTopic": "v1/t"},
                            "provisionConfiguration": {"type": "ALLOW_CREATE_NEW_DEVICES",
                                                       "provisionDeviceSecret": "s"}}}
    res = api.post("/api/deviceProfile", body, format="json")
    assert res.status_code == 200, res.content
    parsed = TbDeviceProfile.from_dict(res.json())
    assert parsed.transport_type == "MQTT" and parsed.default_queue_name == "HighPriority"
    data = res.json()["profileData"]
    assert data["transportConfiguration"]["deviceTelemetryTopic"] == "v1/t"
    assert data["configuration"] == {"type": "DEFAULT"}
    assert page_names(api.get("/api/deviceProfileInfos?pageSize=10&page=0&transportType=MQTT")) == ["mqtt"]
    assert page_names(api.get("/api/deviceProfileInfos?pageSize=10&page=0&transportType=DEFAULT")) == ["default"]


@pytest.mark.parametrize(("body", "message"), [
    ({"name": "x", "transportType": "PIGEON"}, "transportType: must be one of"),
    ({"name": "x", "profileData": []}, "profileData: must be a JSON object"),
    ({"name": "x", "profileData": {"configuration": {}}}, "configuration must be a JSON object with a 'type'"),
    ({"name": "x", "profileData": {"alarms": {}}}, "alarms must be a JSON list or null"),
    ({"name": "x", "defaultRuleChainId": {"id": "nope"}}, "Invalid UUID string: nope"),
    ({"name": "x", "image": 5}, "image: must be a string"),
])
def test_it_validates_device_profile_settings(api, body, message):
    assert_error(api.post("/api/deviceProfile", body, format="json"), 400, message)
    assert not DeviceProfile.objects.filter(name="x").exists()


def test_asset_profile_infos_parse_with_the_client(api):
    page = PageDataAssetProfileInfo.from_dict(api.get("/api/assetProfileInfos?pageSize=10&page=0").json())
    assert [p.name for p in page.data] == ["default"]
    assert PageDataDeviceProfile.from_dict(api.get("/api/deviceProfiles?pageSize=10&page=0").json()).data[0].name == (
        "default")
