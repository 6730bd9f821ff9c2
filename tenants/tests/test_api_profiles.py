"""Tenant profiles over ThingsBoard's API (system administrators): rate limits checked on save."""

from tbproject.testing.fixtures import api_as
from tbproject.testing.limits import default_tenant_profile
from tenants import limits
from tenants.models import Tenant, TenantProfile

LIMITS = {"type": "DEFAULT", "integrationMsgsPerTenantRateLimit": "100:1,2000:60",
          "tenantServerRestLimitsConfiguration": "50:1", "maxDevices": 10}


def test_a_system_admin_saves_reads_and_lists_profiles(sysadmin):
    root = api_as(sysadmin)
    saved = root.post("/api/tenantProfile", {"name": "Gold", "description": "paying",
                                             "profileData": {"configuration": LIMITS}}, format="json")
    assert saved.status_code == 200, saved.content
    body = saved.json()
    assert body["id"]["entityType"] == "TENANT_PROFILE" and body["default"] is False
    assert body["profileData"] == {"configuration": LIMITS, "queueConfiguration": None}
    again = root.get(f"/api/tenantProfile/{body['id']['id']}").json()
    assert again == body
    default_tenant_profile()
    page = root.get("/api/tenantProfiles?pageSize=10&page=0&sortProperty=name&sortOrder=ASC").json()
    assert [p["name"] for p in page["data"]] == ["Default", "Gold"] and page["totalElements"] == 2
    body["profileData"]["configuration"]["converterExecutionsPerTenantRateLimit"] = "10:1"
    updated = root.post("/api/tenantProfile", body, format="json").json()  # a round trip updates
    assert updated["id"] == body["id"]
    assert TenantProfile.objects.get(name="Gold").configuration["converterExecutionsPerTenantRateLimit"] == "10:1"


def test_a_malformed_rate_limit_is_refused_with_its_key(sysadmin):
    answer = api_as(sysadmin).post("/api/tenantProfile", {
        "name": "Broken", "profileData": {"configuration": {"integrationMsgsPerTenantRateLimit": "fast"}}},
        format="json")
    assert answer.status_code == 400
    assert "integrationMsgsPerTenantRateLimit: 'fast' is not <count>:<seconds>" in answer.json()["message"]
    assert not TenantProfile.objects.filter(name="Broken").exists()


def test_the_default_profile_moves_and_applies_to_tenants_without_one(sysadmin, tenant):
    root = api_as(sysadmin)
    default_tenant_profile()
    gold = TenantProfile.objects.create(name="Gold", profile_data={"configuration": {
        "type": "DEFAULT", "integrationMsgsPerTenantRateLimit": "5:1"}})
    assert limits.limits_of(tenant.pk).windows(limits.UPLINKS_TENANT) == ()
    answer = root.post(f"/api/tenantProfile/{gold.pk}/default")
    assert answer.status_code == 200 and answer.json()["default"] is True
    assert root.get("/api/tenantProfileInfo/default").json() == {
        "id": {"entityType": "TENANT_PROFILE", "id": str(gold.pk)}, "name": "Gold"}
    assert list(TenantProfile.objects.filter(is_default=True)) == [gold]
    assert limits.limits_of(tenant.pk).windows(limits.UPLINKS_TENANT) == limits.parse("5:1")


def test_a_profile_in_use_or_the_default_is_not_deleted(sysadmin, tenant):
    root = api_as(sysadmin)
    used = TenantProfile.objects.create(name="Used")
    Tenant.objects.filter(pk=tenant.pk).update(tenant_profile=used)
    assert "used by tenants" in root.delete(f"/api/tenantProfile/{used.pk}").json()["message"]
    default = default_tenant_profile()
    assert "default tenant profile" in root.delete(f"/api/tenantProfile/{default.pk}").json()["message"]
    spare = TenantProfile.objects.create(name="Spare")
    assert root.delete(f"/api/tenantProfile/{spare.pk}").status_code == 200
    assert set(TenantProfile.objects.values_list("name", flat=True)) == {"Default", "Used"}


def test_others_get_403_for_lists_and_404_for_ids(tenant_admin, customer_user):
    profile = default_tenant_profile()
    for user in (tenant_admin, customer_user):
        client = api_as(user)
        assert client.get("/api/tenantProfiles?pageSize=10&page=0").status_code == 403
        assert client.post("/api/tenantProfile", {"name": "Mine"}, format="json").status_code == 403
        assert client.get(f"/api/tenantProfile/{profile.pk}").status_code == 404
        assert client.post(f"/api/tenantProfile/{profile.pk}/default").status_code == 404
    assert api_as(None).get("/api/tenantProfiles?pageSize=10&page=0").status_code == 401
