"""User infos, tenant administrators, "login as" and tenant profile infos at ThingsBoard's paths."""

import pytest
from tb_pe_client.models import EntityInfo, JwtPair, PageDataEntityInfo, PageDataUser, PageDataUserEmailInfo, UserInfo

from audit.models import AuditLog
from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as
from tbproject.testing.limits import default_tenant_profile
from tenants.choices import Authority
from tenants.models import Customer, TenantProfile, User

NOBODY = "00000000-0000-0000-0000-000000000001"


@pytest.fixture
def root(sysadmin):
    return api_as(sysadmin)


@pytest.fixture
def people(tenant, customer, other_tenant):
    """A second tenant admin, a user of a second customer, and another tenant's admin."""
    other_customer = Customer.objects.create(tenant=tenant, title="Customer B")
    return {
        "bob": User.objects.create_user("bob@example.com", "pass-word-1", authority=Authority.TENANT_ADMIN,
                                        tenant=tenant, first_name="Bob", last_name="Builder"),
        "dora": User.objects.create_user("dora@example.com", "pass-word-1", authority=Authority.CUSTOMER_USER,
                                         tenant=tenant, customer=other_customer, first_name="Dora"),
        "zed": User.objects.create_user("zed@other.example", "pass-word-1", authority=Authority.TENANT_ADMIN,
                                        tenant=other_tenant),
        "customer_b": other_customer,
    }


def _emails(res) -> list[str]:
    assert res.status_code == 200, res.content
    return [row["email"] for row in res.json()["data"]]


def test_user_info_has_owner_and_groups(api, root, customer_api, tenant_admin, customer_user, people):
    info = UserInfo.from_dict(api.get(f"/api/user/info/{customer_user.pk}").json())
    assert (info.email, info.owner_name, info.owner_id.entity_type) == (customer_user.email, "Customer A", "CUSTOMER")
    assert sorted(g.name for g in info.groups) == ["All", "Customer Users"]  # its customer's (roles/)
    body = root.get(f"/api/user/info/{tenant_admin.pk}").json()
    assert (body["ownerName"], body["ownerId"]["entityType"]) == ("Alice Corp", "TENANT")
    assert "password" not in str(body).lower() and "token" not in str(body).lower()
    assert_error(api.get(f"/api/user/info/{people['zed'].pk}"), 404)
    assert_error(customer_api.get(f"/api/user/info/{people['dora'].pk}"), 404)  # another customer's user
    assert_error(customer_api.get(f"/api/user/info/{tenant_admin.pk}"), 404)
    assert customer_api.get(f"/api/user/info/{customer_user.pk}").json()["ownerName"] == "Customer A"
    assert_error(api.get("/api/user/info/not-a-uuid"), 404)  # not routed: a uuid path


def test_users_by_query_searches_names_and_answers_email_infos(api, customer_api, root, people, customer_user):
    page = PageDataUserEmailInfo.from_dict(api.get("/api/users/info?pageSize=10&page=0&textSearch=builder").json())
    assert [(u.email, u.first_name) for u in page.data] == [("bob@example.com", "Bob")]
    assert set(page.data[0].to_dict()) <= {"id", "email", "firstName", "lastName"}
    assert _emails(api.get("/api/users/info?pageSize=2&page=0&sortProperty=email&sortOrder=DESC")) == [
        "dora@example.com", "carol@example.com"]
    assert "zed@other.example" not in _emails(api.get("/api/users/info?pageSize=50&page=0"))
    assert _emails(customer_api.get("/api/users/info?pageSize=10&page=0")) == [customer_user.email]
    assert_error(root.get("/api/users/info?pageSize=10&page=0"), 403)
    assert_error(api.get("/api/users/info?pageSize=0&page=0"), 400)


def test_user_info_pages(api, customer_api, root, customer, people, tenant_admin, customer_user):
    assert _emails(api.get("/api/userInfos/all?pageSize=10&page=0&sortProperty=email")) == [
        tenant_admin.email, "bob@example.com"]
    everyone = api.get("/api/userInfos/all?pageSize=10&page=0&includeCustomers=true&sortProperty=email").json()
    assert [u["email"] for u in everyone["data"]] == sorted(
        [tenant_admin.email, "bob@example.com", customer_user.email, "dora@example.com"])
    assert {u["email"]: u["ownerName"] for u in everyone["data"]}["dora@example.com"] == "Customer B"
    assert _emails(customer_api.get("/api/userInfos/all?pageSize=10&page=0")) == [customer_user.email]
    assert_error(api.get("/api/userInfos/all?pageSize=10&page=0&includeCustomers=maybe"), 400)
    assert_error(root.get("/api/userInfos/all?pageSize=10&page=0"), 403)

    url = f"/api/customer/{customer.pk}/userInfos?pageSize=10&page=0"
    assert _emails(api.get(url)) == [customer_user.email]
    assert _emails(customer_api.get(url)) == [customer_user.email]
    assert_error(customer_api.get(f"/api/customer/{people['customer_b'].pk}/userInfos?pageSize=10&page=0"), 404)
    assert _emails(api.get(f"/api/customer/{customer.pk}/userInfos?pageSize=10&page=0&textSearch=nobody")) == []


def test_all_customer_users(api, customer_api, root, people, customer_user):
    assert _emails(api.get("/api/customer/users?pageSize=10&page=0&sortProperty=email")) == [
        customer_user.email, "dora@example.com"]
    assert _emails(customer_api.get("/api/customer/users?pageSize=10&page=0")) == [customer_user.email]
    assert_error(root.get("/api/customer/users?pageSize=10&page=0"), 403)


def test_users_by_ids_answers_only_visible_ones(api, customer_api, root, people, tenant_admin, customer_user):
    ids = f"{people['zed'].pk},{people['bob'].pk},{customer_user.pk}"
    assert [u["email"] for u in api.get(f"/api/users/list?userIds={ids}").json()] == ["bob@example.com",
                                                                                      customer_user.email]
    assert [u["email"] for u in customer_api.get(f"/api/users/list?userIds={ids}").json()] == [customer_user.email]
    assert_error(api.get("/api/users/list?userIds=bad"), 400)
    assert_error(api.get("/api/users/list"), 400)
    assert_error(root.get(f"/api/users/list?userIds={ids}"), 403)


def test_tenant_admins_page_is_the_system_admins(root, api, customer_api, tenant, other_tenant, tenant_admin, people):
    page = PageDataUser.from_dict(root.get(f"/api/tenant/{tenant.pk}/users?pageSize=10&page=0&sortProperty=email")
                                  .json())
    assert [u.email for u in page.data] == ["alice@example.com", "bob@example.com"]
    assert _emails(root.get(f"/api/tenant/{tenant.pk}/users?pageSize=10&page=0&textSearch=BOB")) == ["bob@example.com"]
    assert_error(root.get(f"/api/tenant/{NOBODY}/users?pageSize=10&page=0"), 404)
    assert_error(api.get(f"/api/tenant/{tenant.pk}/users?pageSize=10&page=0"), 403)
    assert_error(api.get(f"/api/tenant/{other_tenant.pk}/users?pageSize=10&page=0"), 404)
    assert_error(customer_api.get(f"/api/tenant/{tenant.pk}/users?pageSize=10&page=0"), 403)


def test_a_system_admin_creates_a_tenant_admin_through_post_user(root, other_tenant):
    res = root.post("/api/user?sendActivationMail=false", {
        "email": "New@Admin.example", "authority": "TENANT_ADMIN",
        "tenantId": {"entityType": "TENANT", "id": str(other_tenant.pk)}}, format="json")
    assert res.status_code == 200, res.content
    user = User.objects.get(email="new@admin.example")
    assert (user.tenant, user.customer, user.is_active) == (other_tenant, None, False)
    assert_error(root.post("/api/user", {"email": "x@admin.example", "authority": "TENANT_ADMIN"}, format="json"),
                 400, "Tenant administrator should be assigned to tenant!")


def test_login_as_follows_thingsboards_rules(root, api, customer_api, tenant_admin, customer_user, people, sysadmin):
    pair = root.get(f"/api/user/{tenant_admin.pk}/token")
    assert pair.status_code == 200, pair.content
    body = JwtPair.from_dict(pair.json())
    assert body.token and body.refresh_token and set(pair.json()) == {"token", "refreshToken"}
    me = api_as(None)
    me.credentials(HTTP_X_AUTHORIZATION=f"Bearer {body.token}")
    assert me.get("/api/auth/user").json()["email"] == tenant_admin.email
    row = AuditLog.objects.get(action_type="LOGIN", entity_id=tenant_admin.pk)
    assert (row.user_id, row.tenant_id, row.action_data["loginAs"]) == (sysadmin.pk, tenant_admin.tenant_id, True)

    as_customer = api.get(f"/api/user/{customer_user.pk}/token").json()
    me.credentials(HTTP_X_AUTHORIZATION=f"Bearer {as_customer['token']}")
    assert me.get("/api/auth/user").json()["email"] == customer_user.email

    assert_error(root.get(f"/api/user/{customer_user.pk}/token"), 403)  # a sysadmin: tenant admins only
    assert_error(root.get(f"/api/user/{sysadmin.pk}/token"), 403)
    assert_error(api.get(f"/api/user/{people['bob'].pk}/token"), 403)  # a tenant admin: its customers' users only
    assert_error(api.get(f"/api/user/{people['zed'].pk}/token"), 404)
    assert_error(customer_api.get(f"/api/user/{customer_user.pk}/token"), 403)
    assert_error(root.get(f"/api/user/{NOBODY}/token"), 404)
    people["dora"].is_active = False
    people["dora"].save()
    assert_error(api.get(f"/api/user/{people['dora'].pk}/token"), 400, "not active")
    assert AuditLog.objects.filter(action_type="LOGIN").count() == 2

    assert root.get("/api/user/tokenAccessEnabled").json() is True
    assert api.get("/api/user/tokenAccessEnabled").json() is True
    assert_error(customer_api.get("/api/user/tokenAccessEnabled"), 403)


def test_tenant_profile_infos(root, api):
    default = default_tenant_profile()
    gold = TenantProfile.objects.create(name="Gold", description="paying")
    info = EntityInfo.from_dict(root.get(f"/api/tenantProfileInfo/{gold.pk}").json())
    assert (info.id.id, info.id.entity_type, info.name) == (gold.pk, "TENANT_PROFILE", "Gold")
    assert set(root.get(f"/api/tenantProfileInfo/{gold.pk}").json()) == {"id", "name"}
    page = PageDataEntityInfo.from_dict(root.get("/api/tenantProfileInfos?pageSize=1&page=0&sortProperty=name"
                                                 "&sortOrder=DESC").json())
    assert [p.name for p in page.data] == ["Gold"] and page.has_next and page.total_elements == 2
    found = root.get("/api/tenantProfileInfos?pageSize=10&page=0&textSearch=efau").json()["data"]
    assert [p["name"] for p in found] == ["Default"]
    listed = root.get(f"/api/tenantProfiles/list?ids={gold.pk},{default.pk}").json()
    assert [p["name"] for p in listed] == ["Gold", "Default"] and "profileData" in listed[0]
    assert_error(root.get(f"/api/tenantProfileInfo/{NOBODY}"), 404)
    assert_error(root.get("/api/tenantProfiles/list?ids=nope"), 400)
    assert_error(api.get(f"/api/tenantProfileInfo/{gold.pk}"), 404)
    assert_error(api.get("/api/tenantProfileInfos?pageSize=10&page=0"), 403)
    assert_error(api.get(f"/api/tenantProfiles/list?ids={gold.pk}"), 403)


def test_user_info_pages_cost_the_same_queries_whatever_the_number_of_users(api, tenant, customer):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def counted(path):
        with CaptureQueriesContext(connection) as ctx:
            res = api.get(path, {"pageSize": 50, "page": 0, "includeCustomers": "true"})
        assert res.status_code == 200, res.content
        return len(ctx.captured_queries), len(res.json()["data"])

    paths = ("/api/userInfos/all", f"/api/customer/{customer.pk}/userInfos")
    counted(paths[0])  # the caller's rights, cached from then on
    for i in range(2):
        User.objects.create_user(f"few{i}@example.com", "pass-word-1", authority=Authority.CUSTOMER_USER,
                                 tenant=tenant, customer=customer)
    few = [counted(p) for p in paths]
    for i in range(5):
        User.objects.create_user(f"many{i}@example.com", "pass-word-1", authority=Authority.CUSTOMER_USER,
                                 tenant=tenant, customer=customer)
    many = [counted(p) for p in paths]
    assert [n for _, n in many] == [n + 5 for _, n in few]
    assert [q for q, _ in many] == [q for q, _ in few]
