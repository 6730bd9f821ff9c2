"""Enforcing GENERIC roles on the REST API: which (resource, operation) each route needs.

tbproject/api/permissions.py asks :func:`check` (through tbproject/api/role_hook.py) after its
authority check, for every view using ``IsTenantUser``, ``IsTenantAdmin`` or ``IsTenantAdminOrReadOnly``.
Only tenant administrators are checked: a customer user's "Customer User" role is what its authority
already allows (it reads what is assigned to its customer), and the system administrator has every right.

A route is found by its URL name: :data:`PREFIXES` gives the resource of every name starting
``<prefix>-`` (the longest prefix wins), :data:`ROUTES` overrides single names (``None``: not checked).
The operation is the method's (:data:`METHOD_OPERATIONS`) unless :data:`OPERATIONS` names another. A
resource of ``"<entity_type>"`` is the path's entity type (telemetry of a DEVICE needs DEVICE), of
``"<group_type>"`` the group resource of the path's group type (DEVICE -> DEVICE_GROUP). Routes in neither
table keep their authority check only. The caller's rights are computed once per request (roles/rights.py).
"""

from roles.choices import GROUP_RESOURCES, RESOURCES
from roles.rights import rights_of
from tenants.choices import Authority

__all__ = ["PREFIXES", "ROUTES", "OPERATIONS", "METHOD_OPERATIONS", "required", "check", "NO_PERMISSION"]

NO_PERMISSION = "You don't have permission to perform this operation!"
METHOD_OPERATIONS = {"GET": "READ", "HEAD": "READ", "OPTIONS": "READ", "POST": "WRITE", "PUT": "WRITE",
                     "PATCH": "WRITE", "DELETE": "DELETE"}

#: URL-name prefix -> resource (None: not checked)
PREFIXES = {
    "device-http": None,  # devices talk to these with their own credentials
    "device": "DEVICE", "asset": "ASSET", "entityView": "ENTITY_VIEW", "customer": "CUSTOMER",
    "dashboard": "DASHBOARD", "deviceProfile": "DEVICE_PROFILE", "assetProfile": "ASSET_PROFILE",
    "converter": "CONVERTER", "integration": "INTEGRATION", "integrations": "INTEGRATION",
    "rulechain": "RULE_CHAIN", "rulenode": "RULE_CHAIN", "alarm": "ALARM", "query-alarmsQuery": "ALARM",
    "rpc": "DEVICE", "telemetry": "<entity_type>", "audit-logs": "AUDIT_LOG", "usage": "API_USAGE_STATE",
    "role": "ROLE", "group-permission": "GROUP_PERMISSION", "user": "USER", "users": "USER",
}
#: URL name -> resource, where the prefix's is not the one (None: the route is not checked)
ROUTES = {
    # a customer claims
    "device-claim": None, "device-types": "DEVICE", "device-downlinks": "DEVICE",
    # users of customers
    "customer-users-all": "USER", "customer-user-infos": "USER", "customer-users": "USER",
    # what every dashboard page asks, whatever it shows
    "dashboard-server-time": None, "dashboard-max-datapoints": None, "dashboard-home": None,
    "dashboard-home-info": None, "dashboard-tenant-home-info": None, "dashboard-customer-home-info": None,
    "dashboard-public": None,
    "telemetry-device-attributes": "DEVICE",
    "integration-ingress": None, "integration-converter-pin": "INTEGRATION",
    "rulenode-debug-in": "RULE_CHAIN", "components": "RULE_CHAIN", "components-by-type": "RULE_CHAIN",
    "component": "RULE_CHAIN", "events-clear": "<entity_type>", "events-by-type": "<entity_type>",
    "events-by-filter": "<entity_type>",
    # entity groups, where the path names their type
    "group-list": "<group_type>", "group-list-all": "<group_type>", "group-infos": "<group_type>",
    "group-owner-list": "<group_type>", "group-owner-list-all": "<group_type>", "group-owner-infos": "<group_type>",
    "group-all": "<group_type>", "group-shared": "<group_type>", "group-shared-all": "<group_type>",
    "group-users": "USER", "group-permissions": "GROUP_PERMISSION",
    # a user's own settings and capabilities
    "user-settings-save": None, "user-settings": None, "user-settings-delete": None, "user-token-access-enabled": None,
    "queue-list": "QUEUE", "queue-by-name": "QUEUE", "queue-detail": "QUEUE", "allowed-permissions": None,
}
#: URL name -> {method: operation}, where the method's is not the one
_READ_BY_POST = {"POST": "READ"}
_ATTRIBUTES = {"GET": "READ_ATTRIBUTES", "POST": "WRITE_ATTRIBUTES", "DELETE": "WRITE_ATTRIBUTES"}
_TELEMETRY = {"GET": "READ_TELEMETRY", "POST": "WRITE_TELEMETRY", "DELETE": "WRITE_TELEMETRY"}
_RPC = {"GET": "READ", "POST": "RPC_CALL", "DELETE": "RPC_CALL"}
OPERATIONS = {
    "device-credentials": {"GET": "READ_CREDENTIALS", "POST": "WRITE_CREDENTIALS"},
    "device-credentials-save": {"POST": "WRITE_CREDENTIALS"},
    "query-alarmsQuery-find": _READ_BY_POST, "query-alarmsQuery-count": _READ_BY_POST,
    "entityView-query": _READ_BY_POST, "dashboard-user-action": {"GET": "READ", "POST": "READ", "PUT": "READ"},
    "events-by-filter": _READ_BY_POST, "group-permission-load-infos": _READ_BY_POST,
    "user-token": {"GET": "IMPERSONATE"}, "events-clear": {"POST": "WRITE", "DELETE": "WRITE"},
    "telemetry-timeseries-keys": _TELEMETRY, "telemetry-timeseries-latest": _TELEMETRY,
    "telemetry-timeseries-history": _TELEMETRY, "telemetry-timeseries-delete": _TELEMETRY,
    "telemetry-timeseries-save": _TELEMETRY, "telemetry-timeseries-save-ttl": _TELEMETRY,
    "telemetry-attribute-keys": _ATTRIBUTES, "telemetry-attribute-keys-scope": _ATTRIBUTES,
    "telemetry-attributes": _ATTRIBUTES, "telemetry-attributes-scope": _ATTRIBUTES,
    "telemetry-attributes-save": _ATTRIBUTES, "telemetry-entity-attributes": _ATTRIBUTES,
    "telemetry-device-attributes": _ATTRIBUTES,
    "rpc-oneway": _RPC, "rpc-oneway-v1": _RPC, "rpc-twoway": _RPC, "rpc-twoway-v1": _RPC,
    "rpc-persistent-device": _RPC, "rpc-persistent": _RPC,
}
_PREFIXES_LONGEST_FIRST = sorted(PREFIXES, key=len, reverse=True)


def resource_of(url_name: str | None) -> str | None:
    """The table's resource for a URL name (maybe a ``<placeholder>``), None when it is not checked."""
    if not url_name:
        return None
    if url_name in ROUTES:
        return ROUTES[url_name]
    return next((PREFIXES[p] for p in _PREFIXES_LONGEST_FIRST if url_name.startswith(f"{p}-")), None)


def required(url_name: str | None, method: str, kwargs: dict) -> tuple[str, str] | None:
    """(resource, operation) a request needs, or None when the table does not check it."""
    resource = resource_of(url_name)
    if resource == "<entity_type>":
        resource = kwargs.get("entity_type")
    elif resource == "<group_type>":
        resource = f"{kwargs.get('group_type')}_GROUP"
        resource = resource if resource in GROUP_RESOURCES else None
    if resource not in RESOURCES:
        return None
    operation = OPERATIONS.get(url_name, {}).get(method) or METHOD_OPERATIONS.get(method, "READ")
    return resource, operation


def check(request, view) -> bool:
    """The role hook (tbproject/api/role_hook.py): may this authenticated tenant user make this request?"""
    user = request.user
    if user.authority != Authority.TENANT_ADMIN:
        return True
    match = getattr(request, "resolver_match", None)
    if match is None:
        return True
    need = required(match.url_name, request.method, match.kwargs)
    if need is None:
        return True
    rights = getattr(request, "_tb_rights", None)
    if rights is None:
        rights = rights_of(user)
        request._tb_rights = rights
    return rights.allows(*need)


def covered_routes() -> tuple[list[str], list[str]]:
    """(checked, tabled but unchecked) URL names of /api/: a route is checked when the table names it and its
    view uses one of the tenant-user permission classes (a view open to any authenticated user is not)."""
    from django.urls import get_resolver
    from django.urls.resolvers import URLResolver

    from tbproject.api.permissions import IsTenantUser

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern), p

    checked, unchecked = [], []
    for path, pattern in walk(get_resolver().url_patterns):
        if not path.startswith("api/") or resource_of(pattern.name) is None:
            continue
        view = getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None)
        classes = getattr(view, "permission_classes", ())
        uses = any(isinstance(c, type) and issubclass(c, IsTenantUser) for c in classes)
        (checked if uses else unchecked).append(pattern.name)
    return checked, unchecked
