"""``GET /api/permissions/allowedPermissions`` (AllowedPermissionsInfo) and
``GET /api/permission/{entityType}/{entityId}/{operation}`` (true or false).

The vocabulary (operationsByResource, the group-role operations, allowedResources) depends on the
caller's authority only; ``userPermissions`` is what the roles of its user groups grant
(roles/rights.py): generic permissions merged, and per entity group the operations of its GROUP roles.
"""

from devices import group_types
from roles.choices import GROUP_RESOURCES, GROUP_ROLE_OPERATIONS, RESOURCES, operations_of
from roles.rights import rights_of
from tbproject.api.ids import entity_id
from tenants.choices import Authority

__all__ = ["allowed_permissions", "SYSTEM_TENANT_ID", "SYSADMIN_RESOURCES", "CUSTOMER_RESOURCES"]

#: the tenant id ThingsBoard gives what the system owns
SYSTEM_TENANT_ID = "13814000-1dd2-11b2-8080-808080808080"
SYSADMIN_RESOURCES = ("ALL", "PROFILE", "ADMIN_SETTINGS", "DASHBOARD", "TENANT", "TENANT_PROFILE", "RULE_CHAIN",
                      "USER", "WIDGETS_BUNDLE", "WIDGET_TYPE", "OAUTH2_CLIENT", "DOMAIN", "MOBILE_APP",
                      "MOBILE_APP_BUNDLE", "OAUTH2_CONFIGURATION_TEMPLATE", "WHITE_LABELING", "TB_RESOURCE",
                      "QUEUE", "QUEUE_STATS", "NOTIFICATION", "MOBILE_APP_SETTINGS", "CUSTOM_MENU", "AUDIT_LOG",
                      "API_USAGE_STATE", "JOB", "AI_MODEL", "API_KEY")
_NOT_TENANT = ("TENANT_PROFILE", "OAUTH2_CONFIGURATION_TEMPLATE")
TENANT_RESOURCES = tuple(r for r in RESOURCES if r not in _NOT_TENANT)
CUSTOMER_RESOURCES = ("ALL", "PROFILE", "ALARM", "DEVICE", "ASSET", "CUSTOMER", "DASHBOARD", "ENTITY_VIEW", "EDGE",
                      "USER", "WIDGETS_BUNDLE", "WIDGET_TYPE", "SCHEDULER_EVENT", "BLOB_ENTITY", "CUSTOMER_GROUP",
                      "DEVICE_GROUP", "ASSET_GROUP", "USER_GROUP", "ENTITY_VIEW_GROUP", "EDGE_GROUP",
                      "DASHBOARD_GROUP", "ROLE", "GROUP_PERMISSION", "WHITE_LABELING", "AUDIT_LOG", "OTA_PACKAGE",
                      "TB_RESOURCE", "NOTIFICATION", "API_KEY")
_GROUP_OWNER_OPERATIONS = ("DELETE", "CHANGE_OWNER")
_GROUP_OWNER_GROUP_OPERATIONS = ("WRITE", "DELETE", "ADD_TO_GROUP", "REMOVE_FROM_GROUP", "SHARE_GROUP")


def _resources_of(authority: str) -> tuple[str, ...]:
    if authority == Authority.SYS_ADMIN:
        return SYSADMIN_RESOURCES
    return CUSTOMER_RESOURCES if authority == Authority.CUSTOMER_USER else TENANT_RESOURCES


def _read_map(rights, resources, operation: str, *, groups: bool = False) -> dict:
    """resource -> MergedGroupTypePermissionInfo {entityGroupIds, hasGenericRead} for ``operation``."""
    out = {}
    for resource in resources:
        if resource == "ALL":
            continue
        group_type = GROUP_RESOURCES.get(resource) if groups else resource
        ids = [entity_id("ENTITY_GROUP", gid) for gid, (gtype, ops) in rights.groups.items()
               if gtype == group_type and ("ALL" in ops or operation in ops)]
        generic = rights.allows(resource, operation)
        if generic or ids:
            out[resource] = {"entityGroupIds": ids, "hasGenericRead": generic}
    return out


def allowed_permissions(user) -> dict:
    rights = rights_of(user)
    resources = _resources_of(user.authority)
    entity_resources = [r for r in resources if group_types.member_model(r) is not None or r == "CUSTOMER"]
    group_resources = [r for r in resources if r in GROUP_RESOURCES]
    if user.authority == Authority.SYS_ADMIN:
        owner = entity_id("TENANT", SYSTEM_TENANT_ID)
    elif user.customer_id:
        owner = entity_id("CUSTOMER", user.customer_id)
    else:
        owner = entity_id("TENANT", user.tenant_id)
    return {
        "operationsByResource": {r: list(operations_of(r)) for r in resources},
        "allowedForGroupRoleOperations": list(GROUP_ROLE_OPERATIONS),
        "allowedForGroupOwnerOnlyOperations": list(_GROUP_OWNER_OPERATIONS),
        "allowedForGroupOwnerOnlyGroupOperations": list(_GROUP_OWNER_GROUP_OPERATIONS),
        "allowedResources": list(resources),
        "userPermissions": {
            "genericPermissions": rights.merged(),
            "groupPermissions": {str(gid): {"entityType": gtype, "operations": ops}
                                 for gid, (gtype, ops) in rights.groups.items()},
            "readGroupPermissions": _read_map(rights, group_resources, "READ", groups=True),
            "readEntityPermissions": _read_map(rights, entity_resources, "READ"),
            "readAttrPermissions": _read_map(rights, entity_resources, "READ_ATTRIBUTES"),
            "readTsPermissions": _read_map(rights, entity_resources, "READ_TELEMETRY"),
        },
        "userOwnerId": owner,
    }
