"""Roles (RoleController): CRUD, validation against ThingsBoard's resources and operations, tenancy,
the defaults every tenant gets, and a role in use that cannot be deleted. Answers read with tb-pe-client's models."""

import pytest
from tb_pe_client.models import PageDataRole
from tb_pe_client.models import Role as TbRole

from devices.models import EntityGroup
from roles.models import GroupPermission, Role
from tbproject.testing.api import assert_error, assert_unchanged, snapshot

PAGE = {"pageSize": 50, "page": 0}
DEFAULT_ROLES = ["Customer Administrator", "Customer User", "Entity Group Administrator",
                 "Entity Group Read-only User", "Tenant Administrator", "Tenant User"]


def save(api, body):
    return api.post("/api/role", body, format="json")


def test_a_new_tenant_has_the_default_roles_groups_and_permissions(api, tenant, tenant_admin):
    page = PageDataRole.from_dict(api.get("/api/roles", PAGE).json())
    assert sorted(r.name for r in page.data) == DEFAULT_ROLES
    admin_role = Role.objects.get(tenant=tenant, name="Tenant Administrator")
    assert admin_role.type == "GENERIC" and admin_role.permissions == {"ALL": ["ALL"]}
    assert Role.objects.get(tenant=tenant, name="Entity Group Administrator").permissions == ["ALL"]
    groups = set(EntityGroup.objects.filter(tenant=tenant, type="USER").values_list("name", flat=True))
    assert groups == {"All", "Tenant Administrators", "Tenant Users"}
    grants = {(p.user_group.name, p.role.name) for p in GroupPermission.objects.filter(tenant=tenant)}
    assert grants == {("Tenant Administrators", "Tenant Administrator"), ("Tenant Users", "Tenant User")}
    assert set(tenant_admin.entity_groups.values_list("name", flat=True)) == {"All", "Tenant Administrators"}


def test_it_saves_reads_lists_and_deletes_a_generic_role(api, tenant):
    body = {"name": "Device operators", "type": "GENERIC", "permissions": {"DEVICE": ["READ", "RPC_CALL"],
                                                                           "ALARM": ["ALL"]},
            "additionalInfo": {"description": "field staff"}}
    res = save(api, body)
    assert res.status_code == 200, res.content
    role = TbRole.from_dict(res.json())
    assert role.id.entity_type == "ROLE" and role.type == "GENERIC" and isinstance(role.created_time, int)
    assert role.permissions == {"DEVICE": ["READ", "RPC_CALL"], "ALARM": ["ALL"]}
    assert str(role.tenant_id.id) == str(tenant.pk) and role.owner_id.entity_type == "TENANT"
    got = api.get(f"/api/role/{role.id.id}").json()
    assert got["name"] == "Device operators" and got["additionalInfo"] == {"description": "field staff"}
    updated = save(api, {**got, "permissions": {"DEVICE": ["READ"]}}).json()
    assert updated["permissions"] == {"DEVICE": ["READ"]} and updated["version"] == got["version"] + 1
    generic = api.get("/api/roles", {**PAGE, "type": "GENERIC", "textSearch": "operat"}).json()
    assert [r["name"] for r in generic["data"]] == ["Device operators"]
    group_roles = api.get("/api/roles", {**PAGE, "type": "GROUP"}).json()
    assert {r["name"] for r in group_roles["data"]} == {"Entity Group Administrator", "Entity Group Read-only User"}
    by_ids = api.get("/api/roles/list", {"roleIds": f"{role.id.id}"}).json()
    assert [r["name"] for r in by_ids] == ["Device operators"]
    assert api.get("/api/roles", {"roleIds": role.id.id}).json()[0]["id"]["id"] == str(role.id.id)
    assert api.delete(f"/api/role/{role.id.id}").status_code == 200
    assert_error(api.get(f"/api/role/{role.id.id}"), 404)


def test_it_saves_a_group_role(api):
    res = save(api, {"name": "Readers", "type": "GROUP", "permissions": ["READ", "READ_TELEMETRY", "READ"]})
    assert res.status_code == 200, res.content
    assert TbRole.from_dict(res.json()).permissions == ["READ", "READ_TELEMETRY"]


@pytest.mark.parametrize(("body", "message"), [
    ({"type": "GENERIC", "permissions": {}}, "Role name should be specified"),
    ({"name": "  ", "type": "GENERIC", "permissions": {}}, "Role name should be specified"),
    ({"name": "a\x00b", "type": "GENERIC", "permissions": {}}, "Null characters"),
    ({"name": "x" * 256, "type": "GENERIC", "permissions": {}}, "255"),
    ({"name": "r", "permissions": {}}, "Role type should be specified"),
    ({"name": "r", "type": "ADMIN", "permissions": {}}, "Unsupported role type"),
    ({"name": "r", "type": "GENERIC"}, "Role permissions should be specified"),
    ({"name": "r", "type": "GENERIC", "permissions": {"GADGET": ["READ"]}}, "unknown resource 'GADGET'"),
    ({"name": "r", "type": "GENERIC", "permissions": {"DEVICE": ["FLY"]}}, "unknown operation 'FLY'"),
    ({"name": "r", "type": "GENERIC", "permissions": {"DEVICE": "READ"}}, "must be a list of operations"),
    ({"name": "r", "type": "GENERIC", "permissions": {"DEVICE": [1]}}, "unknown operation"),
    ({"name": "r", "type": "GENERIC", "permissions": ["READ"]}, "must be a JSON object"),
    ({"name": "r", "type": "GENERIC", "permissions": {"DEVICE": ["READ"] * 300}}, "must be a list"),
    ({"name": "r", "type": "GENERIC", "permissions": {"DEV\x00ICE": ["READ"]}}, "unknown resource"),
    ({"name": "r", "type": "GROUP", "permissions": {"DEVICE": ["READ"]}}, "must be a JSON list"),
    ({"name": "r", "type": "GROUP", "permissions": ["CREATE"]}, "'CREATE' is not allowed here"),
    ({"name": "r", "type": "GROUP", "permissions": ["READ"], "excludedPermissions": {"DEVICE": ["READ"]}},
     "generic roles only"),
    ({"name": "r", "type": "GENERIC", "permissions": {}, "excludedPermissions": {"NOPE": ["READ"]}},
     "unknown resource"),
    ({"name": "r", "type": "GENERIC", "permissions": {}, "additionalInfo": "text"}, "JSON object"),
])
def test_it_refuses_what_thingsboard_would_not_store(api, body, message):
    before = Role.objects.count()
    assert_error(save(api, body), 400, message)
    assert Role.objects.count() == before


def test_it_refuses_malformed_bodies_and_duplicates(api):
    assert_error(api.post("/api/role", "{not json", content_type="application/json"), 400)
    assert_error(api.post("/api/role", ["a"], format="json"), 400)
    assert_error(save(api, {"name": "Tenant User", "type": "GENERIC", "permissions": {}}), 400,
                 "Role with such name already exists")
    assert_error(api.get("/api/roles", {**PAGE, "type": "OTHER"}), 400, "Unsupported role type")
    assert_error(api.get("/api/role/not-a-uuid"), 400)


def test_the_type_of_a_role_cannot_change(api, tenant):
    role = Role.objects.get(tenant=tenant, name="Tenant User")
    body = api.get(f"/api/role/{role.pk}").json()
    assert_error(save(api, {**body, "type": "GROUP", "permissions": ["READ"]}), 400, "Role type can't be changed")


def test_a_role_in_use_is_not_deleted(api, tenant):
    role = Role.objects.get(tenant=tenant, name="Tenant User")  # "Tenant Administrator" is protected anyway
    assert_error(api.delete(f"/api/role/{role.pk}"), 400, "referenced by group permissions")
    assert Role.objects.filter(pk=role.pk).exists()


def test_another_tenants_roles_are_404(api, mallory_api, tenant, other_tenant):
    theirs = Role.objects.get(tenant=other_tenant, name="Tenant User")
    before = snapshot(theirs)
    assert_error(api.get(f"/api/role/{theirs.pk}"), 404)
    assert_error(api.delete(f"/api/role/{theirs.pk}"), 404)
    assert_error(save(api, {"id": {"entityType": "ROLE", "id": str(theirs.pk)}, "name": "x", "type": "GENERIC",
                            "permissions": {}}), 404)
    assert api.get("/api/roles/list", {"roleIds": str(theirs.pk)}).json() == []
    names = [r["tenantId"]["id"] for r in api.get("/api/roles", PAGE).json()["data"]]
    assert set(names) == {str(tenant.pk)}
    assert_unchanged(theirs, before)


def test_customer_owned_roles_are_refused(api, customer, other_tenant):
    from tenants.models import Customer

    theirs = Customer.objects.create(tenant=other_tenant, title="Theirs")
    body = {"name": "r", "type": "GENERIC", "permissions": {}}
    assert_error(save(api, {**body, "customerId": {"entityType": "CUSTOMER", "id": str(customer.pk)}}), 400,
                 "Customer-owned roles are not supported")
    assert_error(save(api, {**body, "customerId": {"entityType": "CUSTOMER", "id": str(theirs.pk)}}), 404)


def test_a_customer_user_reads_no_role_and_writes_none(customer_api, tenant):
    role = Role.objects.get(tenant=tenant, name="Customer User")
    assert_error(customer_api.get(f"/api/role/{role.pk}"), 404)
    assert customer_api.get("/api/roles", PAGE).json()["data"] == []
    assert_error(save(customer_api, {"name": "r", "type": "GENERIC", "permissions": {}}), 403)


def test_a_tenant_goes_with_its_roles_groups_and_permissions(tenant, tenant_admin, other_tenant):
    from tenants import deletion

    tenant.delete()  # Django's cascade: the permissions go with the tenant before their roles
    assert not Role.objects.filter(tenant_id=tenant.pk).exists()
    assert not GroupPermission.objects.filter(tenant_id=tenant.pk).exists()
    deletion.mark(other_tenant)
    deletion.run(other_tenant.pk, batch=2)  # the background deletion, model by model
    assert not Role.objects.filter(tenant_id=other_tenant.pk).exists()
    assert not EntityGroup.objects.filter(tenant_id=other_tenant.pk).exists()
