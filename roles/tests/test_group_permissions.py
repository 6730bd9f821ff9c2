"""Group permissions (GroupPermissionController): a role granted to a user group, GROUP roles on an
entity group; the info shapes; entityGroup/{id}/groupPermissions; tenancy. Read with tb-pe-client's models."""

import pytest
from tb_pe_client.models import GroupPermission as TbGroupPermission
from tb_pe_client.models import GroupPermissionInfo

from devices.choices import GroupType
from roles.models import GroupPermission, Role
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_device, make_group


def ref(kind, obj):
    return {"entityType": kind, "id": str(obj.pk)}


@pytest.fixture
def operators(tenant):
    return make_group(tenant, "Operators", GroupType.USER)


@pytest.fixture
def meters(tenant):
    return make_group(tenant, "Meters", GroupType.DEVICE, [make_device(tenant, "m-1")])


def save(api, body):
    return api.post("/api/groupPermission", body, format="json")


def test_a_generic_role_is_granted_to_a_user_group(api, tenant, operators):
    role = Role.objects.get(tenant=tenant, name="Tenant User")
    res = save(api, {"userGroupId": ref("ENTITY_GROUP", operators), "roleId": ref("ROLE", role)})
    assert res.status_code == 200, res.content
    saved = TbGroupPermission.from_dict(res.json())
    assert saved.id.entity_type == "GROUP_PERMISSION" and str(saved.user_group_id.id) == str(operators.pk)
    assert str(saved.role_id.id) == str(role.pk) and saved.entity_group_id is None and saved.entity_group_type is None
    assert api.get(f"/api/groupPermission/{saved.id.id}").json()["roleId"]["id"] == str(role.pk)
    info = GroupPermissionInfo.from_dict(api.get(f"/api/groupPermission/info/{saved.id.id}",
                                                 {"isUserGroup": "true"}).json())
    assert info.role.name == "Tenant User" and info.user_group_name == "Operators"
    assert info.user_group_owner_name == tenant.title and info.entity_group_name is None
    infos = [GroupPermissionInfo.from_dict(i)
             for i in api.get(f"/api/userGroup/{operators.pk}/groupPermissions").json()]
    assert [i.role.name for i in infos] == ["Tenant User"]
    assert_error(save(api, {"userGroupId": ref("ENTITY_GROUP", operators), "roleId": ref("ROLE", role)}), 400,
                 "already exists")
    assert api.delete(f"/api/groupPermission/{saved.id.id}").status_code == 200
    assert api.get(f"/api/userGroup/{operators.pk}/groupPermissions").json() == []


def test_a_group_role_is_granted_on_an_entity_group(api, tenant, operators, meters):
    role = Role.objects.get(tenant=tenant, name="Entity Group Read-only User")
    body = {"userGroupId": ref("ENTITY_GROUP", operators), "roleId": ref("ROLE", role),
            "entityGroupId": ref("ENTITY_GROUP", meters), "isPublic": False}
    res = save(api, body)
    assert res.status_code == 200, res.content
    saved = TbGroupPermission.from_dict(res.json())
    assert saved.entity_group_type == "DEVICE" and str(saved.entity_group_id.id) == str(meters.pk)
    on_group = [GroupPermissionInfo.from_dict(i)
                for i in api.get(f"/api/entityGroup/{meters.pk}/groupPermissions").json()]
    assert [(i.user_group_name, i.entity_group_name, i.role.type) for i in on_group] == [
        ("Operators", "Meters", "GROUP")]
    loaded = api.post("/api/userGroup/groupPermissions/info", [res.json(), {k: v for k, v in body.items()}],
                      format="json")
    assert loaded.status_code == 200, loaded.content
    assert [GroupPermissionInfo.from_dict(i).entity_group_name for i in loaded.json()] == ["Meters", "Meters"]
    assert GroupPermission.objects.filter(tenant=tenant, user_group=operators).count() == 1  # loading saves nothing


@pytest.mark.parametrize(("role_name", "with_group", "message"), [
    ("Entity Group Administrator", False, "Entity group should be specified for a group role"),
    ("Tenant User", True, "Generic role can't be assigned to an entity group"),
])
def test_the_role_type_decides_whether_an_entity_group_is_named(api, tenant, operators, meters, role_name,
                                                               with_group, message):
    role = Role.objects.get(tenant=tenant, name=role_name)
    body = {"userGroupId": ref("ENTITY_GROUP", operators), "roleId": ref("ROLE", role)}
    if with_group:
        body["entityGroupId"] = ref("ENTITY_GROUP", meters)
    assert_error(save(api, body), 400, message)


def test_it_refuses_bad_bodies(api, tenant, operators, meters):
    role = Role.objects.get(tenant=tenant, name="Tenant User")
    assert_error(save(api, {"roleId": ref("ROLE", role)}), 400, "User group should be specified")
    assert_error(save(api, {"userGroupId": ref("ENTITY_GROUP", operators)}), 400, "Role should be specified")
    assert_error(save(api, {"userGroupId": ref("ENTITY_GROUP", meters), "roleId": ref("ROLE", role)}), 400,
                 "is not a user group")
    assert_error(save(api, {"userGroupId": {"id": "nope\x00"}, "roleId": ref("ROLE", role)}), 400)
    assert_error(save(api, {"userGroupId": ref("ENTITY_GROUP", operators), "roleId": ref("ROLE", role),
                            "isPublic": "maybe"}), 400)
    assert_error(api.post("/api/groupPermission", "[", content_type="application/json"), 400)
    assert_error(api.post("/api/userGroup/groupPermissions/info", {"a": 1}, format="json"), 400)
    assert_error(api.get(f"/api/userGroup/{meters.pk}/groupPermissions"), 400, "is not a user group")


def test_another_tenants_groups_roles_and_permissions_are_404(api, tenant, operators, other_tenant):
    their_role = Role.objects.get(tenant=other_tenant, name="Tenant User")
    their_group = make_group(other_tenant, "Theirs", GroupType.USER)
    their_permission = GroupPermission.objects.get(tenant=other_tenant, role__name="Tenant Administrator")
    own_role = Role.objects.get(tenant=tenant, name="Tenant User")
    assert_error(save(api, {"userGroupId": ref("ENTITY_GROUP", their_group), "roleId": ref("ROLE", own_role)}), 404)
    assert_error(save(api, {"userGroupId": ref("ENTITY_GROUP", operators), "roleId": ref("ROLE", their_role)}), 404)
    for url in (f"/api/groupPermission/{their_permission.pk}", f"/api/groupPermission/info/{their_permission.pk}",
                f"/api/userGroup/{their_group.pk}/groupPermissions",
                f"/api/entityGroup/{their_group.pk}/groupPermissions"):
        assert_error(api.get(url), 404)
    assert_error(api.delete(f"/api/groupPermission/{their_permission.pk}"), 404)
    assert_error(api.post("/api/userGroup/groupPermissions/info", [{"id": ref("GROUP_PERMISSION", their_permission)}],
                          format="json"), 404)
    assert GroupPermission.objects.filter(pk=their_permission.pk).exists()


def test_a_customer_user_gets_403(customer_api, tenant):
    permission = GroupPermission.objects.filter(tenant=tenant).first()
    assert_error(customer_api.get(f"/api/groupPermission/{permission.pk}"), 403)
    assert_error(customer_api.post("/api/groupPermission", {}, format="json"), 403)
