"""GET /api/permissions/allowedPermissions for each authority, and GET /api/permission/{type}/{id}/{operation}.

tb-pe-client 4.4's ``AllowedPermissionsInfo.from_dict`` cannot read a non-empty operation map (it calls
``Operation.from_dict``, which its enum lacks: a generator bug, real ThingsBoard's answers fail alike), so
the answer is checked part by part against the client's models and enums instead.
"""

from tb_pe_client.models import MergedGroupPermissionInfo, MergedGroupTypePermissionInfo, Operation, Resource

from devices.models import EntityGroup
from roles.models import GroupPermission, Role
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_device, make_group
from tbproject.testing.fixtures import api_as


class _Info:
    """What the client's AllowedPermissionsInfo would hold, each part read with its model or enum."""

    def __init__(self, raw: dict):
        self.allowed_resources = [Resource(r) for r in raw["allowedResources"]]
        self.operations_by_resource = {Resource(r): [Operation(o) for o in ops]
                                       for r, ops in raw["operationsByResource"].items()}
        self.allowed_for_group_role_operations = [Operation(o) for o in raw["allowedForGroupRoleOperations"]]
        for key in ("allowedForGroupOwnerOnlyOperations", "allowedForGroupOwnerOnlyGroupOperations"):
            assert all(Operation(o) for o in raw[key])
        perms = raw["userPermissions"]
        self.generic = {Resource(r): [Operation(o) for o in ops] for r, ops in perms["genericPermissions"].items()}
        self.group_permissions = {k: MergedGroupPermissionInfo.from_dict(v)
                                  for k, v in perms["groupPermissions"].items()}
        for key in ("readGroupPermissions", "readEntityPermissions", "readAttrPermissions", "readTsPermissions"):
            assert all(Resource(r) and MergedGroupTypePermissionInfo.from_dict(v) for r, v in perms[key].items())


def allowed(client) -> tuple[dict, _Info]:
    res = client.get("/api/permissions/allowedPermissions")
    assert res.status_code == 200, res.content
    return res.json(), _Info(res.json())


def test_a_tenant_administrator_may_do_everything(api, tenant):
    raw, info = allowed(api)
    assert raw["userPermissions"]["genericPermissions"] == {"ALL": ["ALL"]}
    assert raw["userOwnerId"] == {"entityType": "TENANT", "id": str(tenant.pk)}
    assert "DEVICE" in info.allowed_resources and "TENANT_PROFILE" not in info.allowed_resources
    assert "RPC_CALL" in raw["operationsByResource"]["DEVICE"]
    assert "CREATE" not in info.allowed_for_group_role_operations
    assert raw["userPermissions"]["readEntityPermissions"]["DEVICE"] == {"entityGroupIds": [], "hasGenericRead": True}
    assert raw["userPermissions"]["readGroupPermissions"]["DEVICE_GROUP"]["hasGenericRead"] is True


def test_group_roles_are_reported_per_entity_group(tenant, tenant_admin):
    meters = make_group(tenant, "Meters")
    watchers = EntityGroup.objects.create(tenant=tenant, type="USER", name="Watchers")
    tenant_admin.entity_groups.clear()
    watchers.users.add(tenant_admin)
    role = Role.objects.get(tenant=tenant, name="Entity Group Read-only User")
    GroupPermission.objects.create(tenant=tenant, role=role, user_group=watchers, entity_group=meters)
    raw, info = allowed(api_as(tenant_admin))
    perms = raw["userPermissions"]
    assert perms["genericPermissions"] == {}
    assert perms["groupPermissions"] == {str(meters.pk): {"entityType": "DEVICE", "operations": role.permissions}}
    assert perms["readEntityPermissions"]["DEVICE"] == {
        "entityGroupIds": [{"entityType": "ENTITY_GROUP", "id": str(meters.pk)}], "hasGenericRead": False}
    assert "ASSET" not in perms["readEntityPermissions"]
    assert info.group_permissions[str(meters.pk)].entity_type == "DEVICE"


def test_a_customer_user_gets_its_customer_user_role(customer_api, customer):
    raw, info = allowed(customer_api)
    assert raw["userOwnerId"] == {"entityType": "CUSTOMER", "id": str(customer.pk)}
    generic = raw["userPermissions"]["genericPermissions"]
    assert generic["ALL"] == ["READ", "READ_ATTRIBUTES", "READ_TELEMETRY", "RPC_CALL"] and generic["PROFILE"] == ["ALL"]
    assert "CONVERTER" not in info.allowed_resources and "DEVICE" in info.allowed_resources


def test_the_system_administrator_gets_thingsboards_sysadmin_answer(sysadmin):
    raw, info = allowed(api_as(sysadmin))
    assert raw["userOwnerId"] == {"entityType": "TENANT", "id": "13814000-1dd2-11b2-8080-808080808080"}
    assert raw["userPermissions"]["genericPermissions"] == {"ALL": ["ALL"]}
    assert "TENANT" in info.allowed_resources and "DEVICE" not in info.allowed_resources


def test_anonymous_is_401(anon):
    assert_error(anon.get("/api/permissions/allowedPermissions"), 401)


def test_it_answers_whether_an_entity_permits_an_operation(api, tenant, other_tenant, customer_api):
    device = make_device(tenant, "d-1")
    assert api.get(f"/api/permission/DEVICE/{device.pk}/WRITE").json() is True
    assert customer_api.get(f"/api/permission/DEVICE/{device.pk}/READ").status_code == 404  # not its customer's
    theirs = make_device(other_tenant, "d-2")
    assert_error(api.get(f"/api/permission/DEVICE/{theirs.pk}/READ"), 404)
    assert_error(api.get(f"/api/permission/DEVICE/{device.pk}/FLY"), 400, "Unsupported operation")
    assert_error(api.get(f"/api/permission/GADGET/{device.pk}/READ"), 400, "Unsupported entity type")
    role = Role.objects.get(tenant=tenant, name="Tenant Administrator")
    role.excluded_permissions = {"DEVICE": ["WRITE"]}
    role.save()
    assert api.get(f"/api/permission/DEVICE/{device.pk}/WRITE").json() is False
