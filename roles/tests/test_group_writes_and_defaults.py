"""Group writes need the group resource's rights; the tenant's defaults are protected from lockout (found by
the ids ensure_tenant recorded); ``restore_default_roles``; the Django admin needs full generic rights."""

import pytest
from django.core.management import call_command

from devices.models import EntityGroup
from roles.models import GroupPermission, Role, TenantDefaults
from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as
from tenants.choices import Authority
from tenants.models import User

NO = "You don't have permission to perform this operation!"


@pytest.fixture
def reader(tenant):
    user = User.objects.create_user("reader@example.com", authority=Authority.TENANT_ADMIN, tenant=tenant)
    _admins(tenant).users.remove(user)
    readers = EntityGroup.objects.create(tenant=tenant, type="USER", name="Device readers")
    readers.users.add(user)
    role = Role.objects.create(tenant=tenant, name="Device reader", type="GENERIC", permissions={"DEVICE": ["READ"]})
    GroupPermission.objects.create(tenant=tenant, role=role, user_group=readers)
    return user


def _admins(tenant):
    return EntityGroup.objects.get(tenant=tenant, type="USER", name="Tenant Administrators")


def _all(tenant):
    return EntityGroup.objects.get(tenant=tenant, type="USER", name="All")


def _grant(tenant, permissions):
    role = Role.objects.get(tenant=tenant, name="Device reader")
    role.permissions = permissions
    role.save()


def test_a_restricted_admin_cannot_join_the_administrators(reader, tenant):
    c = api_as(reader)
    admins = _admins(tenant)
    assert_error(c.post(f"/api/entityGroup/{admins.pk}/addEntities", [str(reader.pk)], format="json"), 403, NO)
    body = {"id": {"entityType": "USER", "id": str(reader.pk)}, "email": reader.email, "authority": "TENANT_ADMIN"}
    assert_error(c.post(f"/api/user?entityGroupId={admins.pk}", body, format="json"), 403, NO)
    _grant(tenant, {"DEVICE": ["READ"], "USER": ["ALL"]})  # may save users, still not change user groups
    assert_error(c.post(f"/api/user?entityGroupId={admins.pk}", body, format="json"), 403, NO)
    assert not admins.users.filter(pk=reader.pk).exists()
    assert_error(c.delete(f"/api/entityGroup/{admins.pk}"), 403, NO)
    assert_error(c.get(f"/api/entityGroup/{admins.pk}"), 403, NO)


def test_group_writes_need_the_group_resource(reader, tenant):
    c = api_as(reader)
    new = {"name": "Mine", "type": "DEVICE"}
    assert_error(c.post("/api/entityGroup", new, format="json"), 403, NO)
    _grant(tenant, {"DEVICE_GROUP": ["CREATE", "READ"]})
    group = c.post("/api/entityGroup", new, format="json")
    assert group.status_code == 200, group.content
    gid = group.json()["id"]["id"]
    assert c.get(f"/api/entityGroup/{gid}").status_code == 200
    assert_error(c.post("/api/entityGroup", {**group.json(), "name": "Renamed"}, format="json"), 403, NO)
    assert_error(c.delete(f"/api/entityGroup/{gid}"), 403, NO)
    assert_error(c.post(f"/api/entityGroup/{gid}/addEntities", [], format="json"), 403, NO)
    _grant(tenant, {"DEVICE_GROUP": ["ALL"]})
    assert c.post(f"/api/entityGroup/{gid}/addEntities", [], format="json").status_code == 200
    assert c.delete(f"/api/entityGroup/{gid}").status_code == 200


def test_default_groups_are_protected(tenant, tenant_admin):
    c = api_as(tenant_admin)
    every, admins = _all(tenant), _admins(tenant)
    for group in (every, admins):
        assert_error(c.delete(f"/api/entityGroup/{group.pk}"), 400)
        body = c.get(f"/api/entityGroup/{group.pk}").json()
        assert_error(c.post("/api/entityGroup", {**body, "name": "Other"}, format="json"), 400)
    assert_error(c.post(f"/api/entityGroup/{every.pk}/deleteEntities", [str(tenant_admin.pk)], format="json"), 400)
    assert list(admins.users.all()) == [tenant_admin]
    assert_error(c.post(f"/api/entityGroup/{admins.pk}/deleteEntities", [str(tenant_admin.pk)], format="json"), 400)
    other = User.objects.create_user("second@example.com", authority=Authority.TENANT_ADMIN, tenant=tenant)
    assert c.post(f"/api/entityGroup/{admins.pk}/deleteEntities", [str(other.pk)], format="json").status_code == 200
    assert EntityGroup.objects.filter(pk__in=[every.pk, admins.pk], name__in=["All", "Tenant Administrators"]
                                      ).count() == 2
    assert c.get("/api/tenant/devices", {"pageSize": 10, "page": 0}).status_code == 200


def test_defaults_are_found_by_id_not_by_name(tenant, tenant_admin):
    # a look-alike group named as a default is an ordinary group
    decoy = EntityGroup.objects.create(tenant=tenant, type="DEVICE", name="Tenant Administrators")
    assert api_as(tenant_admin).delete(f"/api/entityGroup/{decoy.pk}").status_code == 200
    recorded = TenantDefaults.objects.get(tenant=tenant)
    assert recorded.admins_group == _admins(tenant) and recorded.all_group == _all(tenant)


def test_the_administrator_role_and_its_permission_are_protected(tenant, tenant_admin):
    c = api_as(tenant_admin)
    role = Role.objects.get(tenant=tenant, name="Tenant Administrator")
    body = c.get(f"/api/role/{role.pk}").json()
    assert_error(c.post("/api/role", {**body, "permissions": {"DEVICE": ["READ"]}}, format="json"), 400)
    assert_error(c.post("/api/role", {**body, "excludedPermissions": {"ROLE": ["WRITE"]}}, format="json"), 400)
    assert c.post("/api/role", {**body, "additionalInfo": {"description": "x"}}, format="json").status_code == 200
    assert_error(c.delete(f"/api/role/{role.pk}"), 400)
    grant = GroupPermission.objects.get(tenant=tenant, role=role)
    assert c.get(f"/api/groupPermission/info/{grant.pk}?isUserGroup=true").json()["readOnly"] is True
    other = GroupPermission.objects.get(tenant=tenant, role__name="Tenant User")
    assert c.get(f"/api/groupPermission/info/{other.pk}?isUserGroup=true").json()["readOnly"] is False
    assert_error(c.delete(f"/api/groupPermission/{grant.pk}"), 400)
    role.refresh_from_db()
    assert role.permissions == {"ALL": ["ALL"]} and GroupPermission.objects.filter(pk=grant.pk).exists()


def test_restore_default_roles(tenant, tenant_admin):
    recorded = TenantDefaults.objects.get(tenant=tenant)
    Role.objects.filter(pk=recorded.admin_role_id).update(permissions={"DEVICE": ["READ"]}, name="Broken")
    EntityGroup.objects.filter(pk=recorded.admins_group_id).update(name="Renamed")
    _admins_group = EntityGroup.objects.get(pk=recorded.admins_group_id)
    _admins_group.users.clear()
    GroupPermission.objects.filter(pk=recorded.admin_permission_id).delete()
    call_command("restore_default_roles", "--tenant", str(tenant.pk))
    role = Role.objects.get(pk=recorded.admin_role_id)
    assert (role.name, role.permissions) == ("Tenant Administrator", {"ALL": ["ALL"]})
    assert _admins(tenant).pk == recorded.admins_group_id
    assert _admins(tenant).users.filter(pk=tenant_admin.pk).exists()
    assert GroupPermission.objects.filter(tenant=tenant, role=role, user_group=_admins(tenant)).exists()
    assert api_as(tenant_admin).post("/api/asset", {"name": "a", "type": "t"}, format="json").status_code == 200
    call_command("restore_default_roles")  # every tenant, twice: nothing doubles
    assert Role.objects.filter(tenant=tenant, name="Tenant Administrator").count() == 1


def test_the_django_admin_needs_full_generic_rights(reader, tenant, tenant_admin, client):
    role = Role.objects.get(tenant=tenant, name="Device reader")
    form = {"name": "Device reader", "type": "GENERIC", "permissions": '{"ALL": ["ALL"]}',
            "excluded_permissions": "{}", "additional_info": "{}"}
    client.force_login(reader)
    assert client.get(f"/admin/roles/role/{role.pk}/change/").status_code == 302
    client.post(f"/admin/roles/role/{role.pk}/change/", form)
    admins = _admins(tenant)
    client.get(f"/admin/devices/entitygroup/{admins.pk}/change/")
    role.refresh_from_db()
    assert role.permissions == {"DEVICE": ["READ"]}
    client.force_login(tenant_admin)
    assert client.get(f"/admin/roles/role/{role.pk}/change/").status_code == 200


def test_a_restricted_admins_new_administrator_is_no_full_administrator(reader, tenant, tenant_admin):
    _grant(tenant, {"DEVICE": ["READ"], "USER": ["ALL"]})
    body = {"email": "new@example.com", "authority": "TENANT_ADMIN",
            "tenantId": {"entityType": "TENANT", "id": str(tenant.pk)}}
    assert api_as(reader).post("/api/user?sendActivationMail=false", body, format="json").status_code == 200
    assert not _admins(tenant).users.filter(email="new@example.com").exists()
    assert _all(tenant).users.filter(email="new@example.com").exists()
    body["email"] = "full@example.com"
    assert api_as(tenant_admin).post("/api/user?sendActivationMail=false", body, format="json").status_code == 200
    assert _admins(tenant).users.filter(email="full@example.com").exists()
