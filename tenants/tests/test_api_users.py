"""Users and the tenant, read at ThingsBoard's paths (GET /api/user/..., /api/tenant/{id})."""

from tb_pe_client.models import PageDataUser, Tenant, TenantInfo, User

from tbproject.testing.api import assert_error
from tenants.choices import Authority
from tenants.models import User as UserRow


def test_a_tenant_admin_reads_its_users(api, tenant, tenant_admin, customer_user, customer, other_tenant):
    UserRow.objects.create_user("zed@other.example.com", authority=Authority.TENANT_ADMIN, tenant=other_tenant)
    user = User.from_dict(api.get(f"/api/user/{tenant_admin.pk}").json())
    assert (user.email, user.authority, user.tenant_id.id) == (tenant_admin.email, "TENANT_ADMIN", tenant.pk)
    page = PageDataUser.from_dict(api.get("/api/user/users", {"pageSize": 10, "page": 0}).json())
    assert sorted(u.email for u in page.data) == sorted([tenant_admin.email, customer_user.email])
    page = api.get(f"/api/customer/{customer.pk}/users", {"pageSize": 10, "page": 0, "textSearch": "carol"}).json()
    assert [u["email"] for u in page["data"]] == [customer_user.email]


def test_a_tenant_admin_reads_its_own_tenant_only(api, tenant, other_tenant):
    body = api.get(f"/api/tenant/{tenant.pk}").json()
    assert Tenant.from_dict(body).title == tenant.title and body["id"] == {"entityType": "TENANT", "id": str(tenant.pk)}
    assert TenantInfo.from_dict(api.get(f"/api/tenant/info/{tenant.pk}").json()).title == tenant.title
    assert_error(api.get(f"/api/tenant/{other_tenant.pk}"), 404)


def test_others_users_are_not_found(api, customer_api, tenant_admin, customer_user, other_tenant):
    stranger = UserRow.objects.create_user("zed@other.example.com", authority=Authority.TENANT_ADMIN,
                                           tenant=other_tenant)
    assert_error(api.get(f"/api/user/{stranger.pk}"), 404)
    assert_error(customer_api.get(f"/api/user/{tenant_admin.pk}"), 404)
    assert customer_api.get(f"/api/user/{customer_user.pk}").json()["email"] == customer_user.email
    page = customer_api.get("/api/user/users", {"pageSize": 10, "page": 0}).json()
    assert [u["email"] for u in page["data"]] == [customer_user.email]
    assert_error(customer_api.get(f"/api/tenant/{customer_user.tenant_id}"), 403)
