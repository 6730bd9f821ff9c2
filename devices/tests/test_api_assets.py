from tb_pe_client.models import Asset as TbAsset
from tb_pe_client.models import AssetInfo, PageDataAsset, PageDataAssetInfo

from devices.models import Asset, AssetProfile
from devices.tests.family import EntityFamilyTests, Kind
from tbproject.testing.api import page_names
from tbproject.testing.factories import make_asset

ASSET = Kind(
    single="asset", plural="assets", entity_type="ASSET", label="Asset", profile_field="assetProfileId",
    model=Asset, profile_model=AssetProfile, make=make_asset, client_model=TbAsset,
    client_info_model=AssetInfo, client_page_model=PageDataAsset, client_info_page_model=PageDataAssetInfo,
)


class TestAssetEndpoints(EntityFamilyTests):
    kind = ASSET


def test_it_filters_asset_infos_by_profile_id(api, tenant):
    profile = AssetProfile.objects.create(tenant=tenant, name="building")
    make_asset(tenant, "b", profile=profile)
    make_asset(tenant, "a")
    assert page_names(api.get(f"/api/assetInfos/all?pageSize=10&page=0&assetProfileId={profile.pk}")) == ["b"]
    assert api.get(f"/api/asset/info/{Asset.objects.get(name='b').pk}").json()["assetProfileName"] == "building"
