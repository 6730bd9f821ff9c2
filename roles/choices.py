"""ThingsBoard PE's vocabulary of roles: role types, resources and operations, exactly as tb-pe-client 4.4's
``Resource``, ``Operation`` and ``RoleType`` models list them."""

from django.db import models

__all__ = ["RoleType", "RESOURCES", "OPERATIONS", "GROUP_ROLE_OPERATIONS", "GROUP_RESOURCES", "ENTITY_RESOURCES",
           "operations_of"]


class RoleType(models.TextChoices):
    GENERIC = "GENERIC"  # permissions: {resource: [operation, ...]}, for every entity the owner owns
    GROUP = "GROUP"  # permissions: [operation, ...], for the entity group a group permission names


RESOURCES = (
    "ALL", "PROFILE", "ADMIN_SETTINGS", "ALARM", "DEVICE", "ASSET", "CUSTOMER", "DASHBOARD", "ENTITY_VIEW", "EDGE",
    "TENANT", "RULE_CHAIN", "USER", "WIDGETS_BUNDLE", "WIDGET_TYPE", "OAUTH2_CLIENT", "DOMAIN", "MOBILE_APP",
    "MOBILE_APP_BUNDLE", "OAUTH2_CONFIGURATION_TEMPLATE", "TENANT_PROFILE", "DEVICE_PROFILE", "ASSET_PROFILE",
    "CONVERTER", "INTEGRATION", "SCHEDULER_EVENT", "BLOB_ENTITY", "CUSTOMER_GROUP", "DEVICE_GROUP", "ASSET_GROUP",
    "USER_GROUP", "ENTITY_VIEW_GROUP", "EDGE_GROUP", "DASHBOARD_GROUP", "AGENT_GROUP", "ROLE", "GROUP_PERMISSION",
    "WHITE_LABELING", "AUDIT_LOG", "API_USAGE_STATE", "TB_RESOURCE", "OTA_PACKAGE", "QUEUE", "QUEUE_STATS",
    "VERSION_CONTROL", "NOTIFICATION", "MOBILE_APP_SETTINGS", "CUSTOM_MENU", "JOB", "SECRET", "REPORT_TEMPLATE",
    "REPORT", "AI_MODEL", "AGENT", "AGENT_APP_PROFILE", "AGENT_PROFILE", "AI", "API_KEY",
)

OPERATIONS = (
    "ALL", "CREATE", "READ", "WRITE", "DELETE", "RPC_CALL", "READ_CREDENTIALS", "WRITE_CREDENTIALS",
    "READ_ATTRIBUTES", "WRITE_ATTRIBUTES", "READ_TELEMETRY", "WRITE_TELEMETRY", "ADD_TO_GROUP", "REMOVE_FROM_GROUP",
    "CHANGE_OWNER", "IMPERSONATE", "CLAIM_DEVICES", "SHARE_GROUP", "ASSIGN_TO_TENANT", "READ_CALCULATED_FIELD",
    "WRITE_CALCULATED_FIELD",
)

#: what a GROUP role may list (the client's "allowedForGroupRole"): what applies to one group's entities,
#: so not CREATE (a new entity is in no group yet) nor ASSIGN_TO_TENANT
GROUP_ROLE_OPERATIONS = tuple(op for op in OPERATIONS if op not in ("CREATE", "ASSIGN_TO_TENANT"))

#: resource -> the entity-group type a group of it is (DEVICE_GROUP holds DEVICE groups)
GROUP_RESOURCES = {"CUSTOMER_GROUP": "CUSTOMER", "DEVICE_GROUP": "DEVICE", "ASSET_GROUP": "ASSET",
                   "USER_GROUP": "USER", "ENTITY_VIEW_GROUP": "ENTITY_VIEW", "EDGE_GROUP": "EDGE",
                   "DASHBOARD_GROUP": "DASHBOARD"}

#: resources whose entities carry attributes and telemetry and may join groups
ENTITY_RESOURCES = ("DEVICE", "ASSET", "ENTITY_VIEW", "CUSTOMER", "USER", "DASHBOARD", "EDGE")
_BASIC = ("ALL", "CREATE", "READ", "WRITE", "DELETE")
_DATA = ("READ_ATTRIBUTES", "WRITE_ATTRIBUTES", "READ_TELEMETRY", "WRITE_TELEMETRY", "READ_CALCULATED_FIELD",
         "WRITE_CALCULATED_FIELD", "CHANGE_OWNER", "ADD_TO_GROUP", "REMOVE_FROM_GROUP")
_EXTRA = {"DEVICE": ("RPC_CALL", "READ_CREDENTIALS", "WRITE_CREDENTIALS", "CLAIM_DEVICES"),
          "USER": ("IMPERSONATE",), "EDGE": ("RPC_CALL",), "ALL": OPERATIONS[1:]}


def operations_of(resource: str) -> tuple[str, ...]:
    """The operations that mean something on ``resource`` (AllowedPermissionsInfo.operationsByResource)."""
    if resource == "ALL":
        return OPERATIONS
    if resource in GROUP_RESOURCES:
        return (*_BASIC, "SHARE_GROUP", "ADD_TO_GROUP", "REMOVE_FROM_GROUP", "CHANGE_OWNER")
    if resource in ENTITY_RESOURCES or resource in ("ALARM",):
        return (*_BASIC, *_DATA, *_EXTRA.get(resource, ()))
    if resource == "PROFILE":
        return ("ALL", "READ", "WRITE")
    return _BASIC
