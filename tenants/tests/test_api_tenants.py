"""Tenants over ThingsBoard's API (system administrators): save, pages, infos, by ids, delete with
everything the tenant owns, and a tenant made through the API working like the seeded ones."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient
from tb_pe_client.models import PageDataTenant, PageDataTenantInfo, Tenant, TenantInfo

from converters.models import Converter
from devices import attributes
from devices.choices import AttributeScope
from devices.models import Asset, AssetProfile, Device, DeviceProfile
from integrations.models import Integration
from rulechains.models import RuleChain
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_asset, make_device
from tbproject.testing.fixtures import PASSWORD, api_as
from tbproject.testing.limits import default_tenant_profile
from tenants.models import Customer, TenantProfile, User
from tenants.models import Tenant as TenantRow

CONTACT = {"country": "NL", "state": "NH", "city": "Amsterdam", "address": "Dam 1", "address2": "2nd floor",
           "zip": "1012", "phone": "+31 20 000", "email": "ops@acme.example", "region": "Europe"}


@pytest.fixture
def root(sysadmin):
    return api_as(sysadmin)


def _save(root, body: dict) -> dict:
    res = root.post("/api/tenant", body, format="json")
    assert res.status_code == 200, res.content
    return res.json()


def test_a_system_admin_creates_a_tenant_like_a_seeded_one(root):
    default = default_tenant_profile()
    body = _save(root, {"title": "Acme", "additionalInfo": {"description": "new"}, **CONTACT})
    tenant = Tenant.from_dict(body)
    assert (tenant.title, tenant.name, tenant.city, tenant.region, tenant.version) == ("Acme", "Acme", "Amsterdam",
                                                                                       "Europe", 1)
    assert body["tenantProfileId"] == {"entityType": "TENANT_PROFILE", "id": str(default.pk)}
    assert body["additionalInfo"] == {"description": "new"} and isinstance(body["createdTime"], int)
    row = TenantRow.objects.get(pk=tenant.id.id)
    assert row.tenant_profile == default  # stored, as ThingsBoard stores the default profile's id
    # what every tenant gets when it is made: a root rule chain, default device and asset profiles
    assert RuleChain.objects.filter(tenant=row, root=True).count() == 1
    assert DeviceProfile.objects.filter(tenant=row, is_default=True).count() == 1
    assert AssetProfile.objects.filter(tenant=row, is_default=True).count() == 1


def test_an_update_round_trips_and_an_old_version_is_a_conflict(root):
    gold = TenantProfile.objects.create(name="Gold")
    body = _save(root, {"title": "Acme"})
    body.update(city="Utrecht", tenantProfileId={"entityType": "TENANT_PROFILE", "id": str(gold.pk)})
    updated = _save(root, body)
    assert (updated["id"], updated["city"], updated["version"]) == (body["id"], "Utrecht", 2)
    assert updated["tenantProfileId"]["id"] == str(gold.pk)
    stale = {**body, "city": "Delft"}  # still version 1
    assert_error(root.post("/api/tenant", stale, format="json"), 409, "already changed")
    assert TenantRow.objects.get(pk=body["id"]["id"]).city == "Utrecht"
    fresh = {k: v for k, v in updated.items() if k != "version"}  # no version: overwrites
    assert _save(root, {**fresh, "city": "Delft"})["version"] == 3


@pytest.mark.parametrize("body, status, message", [
    ({}, 400, "Tenant title should be specified!"),
    ({"title": "  "}, 400, "Tenant title should be specified!"),
    ({"title": 5}, 400, "Tenant title should be specified!"),
    ({"title": "X", "email": "not-mail"}, 400, "Invalid email address format"),
    ({"title": "X", "city": ["a"]}, 400, "city must be a string"),
    ({"title": "X", "zip": "9" * 40}, 400, "zip is longer than 32"),
    ({"title": "X", "additionalInfo": [1]}, 400, "additionalInfo must be a JSON object"),
    ({"title": "X", "additionalInfo": {"a": "\u0000"}}, 400, "NUL"),
    ({"title": "X\u0000"}, 400, "NUL"),
    ({"title": "X", "id": []}, 400, "Invalid tenant id"),
    ({"title": "X", "tenantProfileId": {"id": "nope"}}, 400, "Invalid tenantProfileId"),
    ({"title": "X", "tenantProfileId": {"id": "00000000-0000-0000-0000-000000000001"}}, 400, "non-existent"),
    ({"title": "X", "version": "1"}, 400, "version"),
    ({"title": "X", "id": {"id": "00000000-0000-0000-0000-000000000001"}}, 404, None),
    ({"title": "Alice Corp"}, 400, "Tenant with such title already exists!"),
])
def test_bad_saves_are_refused(root, tenant, body, status, message):
    before = TenantRow.objects.count()
    assert_error(root.post("/api/tenant", body, format="json"), status, message)
    assert TenantRow.objects.count() == before
    assert_error(root.post("/api/tenant", [1], format="json"), 400)


def test_only_the_system_admin_saves_and_lists_tenants(api, customer_api, tenant):
    for client in (api, customer_api):
        assert_error(client.post("/api/tenant", {"title": "Evil"}, format="json"), 403)
        assert_error(client.post("/api/tenant", {"id": str(tenant.pk), "title": "Evil"}, format="json"), 403)
        for url in ("/api/tenants?pageSize=10&page=0", "/api/tenantInfos?pageSize=10&page=0",
                    f"/api/tenants/list?tenantIds={tenant.pk}"):
            assert_error(client.get(url), 403)
    assert not TenantRow.objects.filter(title="Evil").exists()


def test_pages_sort_search_and_infos(root, tenant, other_tenant):
    gold = TenantProfile.objects.create(name="Gold")
    _save(root, {"title": "Zeta Works", "city": "Aachen", "tenantProfileId": {"id": str(gold.pk)}})
    page = PageDataTenant.from_dict(root.get("/api/tenants?pageSize=2&page=0&sortProperty=title&sortOrder=ASC").json())
    assert [t.title for t in page.data] == ["Alice Corp", "Mallory Ltd"] and page.has_next and page.total_pages == 2
    last = root.get("/api/tenants?pageSize=2&page=1&sortProperty=title&sortOrder=ASC").json()
    assert [t["title"] for t in last["data"]] == ["Zeta Works"] and last["hasNext"] is False
    desc = root.get("/api/tenants?pageSize=10&page=0&sortProperty=createdTime&sortOrder=DESC").json()
    assert desc["data"][0]["title"] == "Zeta Works"
    found = root.get("/api/tenants?pageSize=10&page=0&textSearch=WORK").json()
    assert [t["title"] for t in found["data"]] == ["Zeta Works"] and found["totalElements"] == 1
    infos = PageDataTenantInfo.from_dict(root.get("/api/tenantInfos?pageSize=10&page=0&sortProperty=city").json())
    assert {t.title: t.tenant_profile_name for t in infos.data}["Zeta Works"] == "Gold"
    assert_error(root.get("/api/tenants?pageSize=10&page=0&sortProperty=secret"), 400, "sortProperty")
    assert_error(root.get("/api/tenants?page=0"), 400, "pageSize")
    by_ids = root.get(f"/api/tenants/list?tenantIds={other_tenant.pk},{tenant.pk}").json()
    assert [t["title"] for t in by_ids] == ["Mallory Ltd", "Alice Corp"]
    assert_error(root.get("/api/tenants/list?tenantIds=nope"), 400)


def test_reads_by_id(root, api, customer_api, tenant, other_tenant):
    assert TenantInfo.from_dict(root.get(f"/api/tenant/info/{other_tenant.pk}").json()).title == "Mallory Ltd"
    assert root.get(f"/api/tenant/{other_tenant.pk}").json()["title"] == "Mallory Ltd"
    assert api.get(f"/api/tenant/{tenant.pk}").json()["title"] == "Alice Corp"
    assert_error(api.get(f"/api/tenant/{other_tenant.pk}"), 404)
    assert_error(customer_api.get(f"/api/tenant/{tenant.pk}"), 403)
    assert_error(root.get("/api/tenant/00000000-0000-0000-0000-000000000001"), 404)


def test_deleting_a_tenant_deletes_everything_it_owns(root, api, tenant, other_tenant, tenant_admin, customer_user,
                                                      django_capture_on_commit_callbacks):
    device = make_device(tenant, "meter")
    make_asset(tenant, "building")
    converter = Converter.objects.create(tenant=tenant, name="conv", type="UPLINK",
                                         configuration={"scriptLang": "JS", "decoder": "return null;"})
    Integration.objects.create(tenant=tenant, name="http", type="HTTP", default_converter=converter,
                               configuration={"baseUrl": "http://localhost"})
    attributes.save_attributes(device.pk, AttributeScope.SERVER_SCOPE, {"floor": 3})
    attributes.save_attributes(tenant.pk, AttributeScope.SERVER_SCOPE, {"plan": "gold"})
    kept = make_device(other_tenant, "kept")
    assert_error(api.delete(f"/api/tenant/{tenant.pk}"), 403)  # a tenant admin: not even its own
    assert_error(api.delete(f"/api/tenant/{other_tenant.pk}"), 404)
    with django_capture_on_commit_callbacks() as queued:
        res = root.delete(f"/api/tenant/{tenant.pk}")
    assert res.status_code == 200, res.content
    # answered before the deletion ran: the tenant is out of use, its users' tokens and logins refused
    # the deletion task, queued on commit (the others: caches of the apps above, forgotten again)
    task = [c for c in queued if getattr(c, "__qualname__", "").startswith("mark.")]
    assert len(task) == 1 and TenantRow.objects.filter(pk=tenant.pk).exists()
    assert_error(root.get(f"/api/tenant/{tenant.pk}"), 404)
    assert_error(root.delete(f"/api/tenant/{tenant.pk}"), 404)
    assert tenant.pk not in {t["id"]["id"] for t in root.get("/api/tenants?pageSize=10&page=0").json()["data"]}
    assert_error(api.get("/api/auth/user"), 401)
    login = APIClient().post("/api/auth/login", {"username": tenant_admin.email, "password": PASSWORD}, format="json")
    assert_error(login, 401, "not active")
    assert _save(root, {"title": "Alice Corp"})["title"] == "Alice Corp"  # its title is free again
    task[0]()  # the task (eager here, as in embedded mode)
    assert not TenantRow.objects.filter(pk=tenant.pk).exists()
    for model in (Device, Asset, Converter, Integration, Customer, RuleChain, DeviceProfile):
        assert not model.objects.filter(tenant_id=tenant.pk).exists(), model
    assert not User.objects.filter(pk__in=[tenant_admin.pk, customer_user.pk]).exists()
    from devices.models import Attribute

    assert not Attribute.objects.filter(entity_id__in=[device.pk, tenant.pk]).exists()
    assert Device.objects.filter(pk=kept.pk).exists()
    assert_error(root.delete(f"/api/tenant/{tenant.pk}"), 404)


def test_a_page_looks_the_default_profile_up_once(root, django_assert_max_num_queries):
    default = default_tenant_profile()
    for i in range(3):
        TenantRow.objects.create(title=f"Few {i}")  # no profile of their own: the default one's id
    with CaptureQueriesContext(connection) as few:
        infos = root.get("/api/tenantInfos?pageSize=50&page=0").json()["data"]
    assert {t["tenantProfileName"] for t in infos} == {default.name}
    for i in range(20):
        TenantRow.objects.create(title=f"Many {i}")
    assert TenantRow.objects.filter(tenant_profile__isnull=True).count() == 23
    with django_assert_max_num_queries(len(few)):
        page = root.get("/api/tenantInfos?pageSize=50&page=0").json()
    assert page["totalElements"] == 23 and {t["tenantProfileId"]["id"] for t in page["data"]} == {str(default.pk)}
