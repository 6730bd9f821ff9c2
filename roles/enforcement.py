"""Enforcing GENERIC roles on the REST API: which (resource, operation) each route needs.

tbproject/api/permissions.py asks :func:`check` (through tbproject/api/role_hook.py) after its
authority check, for every view using ``IsTenantUser`` (and its subclasses) or ``RoleChecked``.
Tenant administrators are checked against the table; a customer user's authority decides for its own
customer's entities (its "Customer User" role is what that authority allows), and an entity it reaches only
through an entity group shared with it needs the operation in that group's GROUP roles (roles/group_access.py);
the system administrator has every right.

A route is found by its URL name: :data:`OPEN_ROUTES` (and :data:`OPEN_PREFIXES`) every authenticated
user may call whatever its role (its own session, profile, settings, 2FA, inbox); :data:`PREFIXES` gives
the resource of every name starting ``<prefix>-`` (the longest prefix wins), :data:`ROUTES` overrides
single names. The operation is the method's (:data:`METHOD_OPERATIONS`) unless :data:`OPERATIONS` names
another. A resource of ``"<entity_type>"`` is the path's entity type (telemetry of a DEVICE needs DEVICE),
of ``"<group_type>"`` the group resource of the path's group type (DEVICE -> DEVICE_GROUP),
``"<query>"``/``"<relation>"`` the entity types the body or query names (roles/request_resources.py),
``"<view>"`` a promise that the view checks once it loaded the object (entity groups:
``role_hook.require``). **Fail closed**: a route in no table, or a request without a resolved route,
needs the operation on the generic ``ALL`` resource, which only full administrators hold.
The caller's rights are computed once per request (roles/rights.py).
"""

from roles import group_access, request_resources
from roles.choices import GROUP_RESOURCES, RESOURCES
from roles.rights import rights_of
from tenants.choices import Authority

__all__ = ["PREFIXES", "ROUTES", "OPERATIONS", "METHOD_OPERATIONS", "OPEN_ROUTES", "OPEN_PREFIXES", "VIEW",
           "required", "check", "allows", "NO_PERMISSION"]

NO_PERMISSION = "You don't have permission to perform this operation!"
METHOD_OPERATIONS = {"GET": "READ", "HEAD": "READ", "OPTIONS": "READ", "POST": "WRITE", "PUT": "WRITE",
                     "PATCH": "WRITE", "DELETE": "DELETE"}
VIEW = "<view>"

#: routes every authenticated tenant user may call whatever its role (and device-facing ones, which carry
#: a device's credentials and never reach the hook)
OPEN_ROUTES = frozenset({
    "auth-login", "auth-token", "auth-user", "auth-logout", "auth-change-password", "user-token-access-enabled",
    "user-settings-save", "user-settings", "user-settings-delete", "allowed-permissions", "entity-permission",
    "2fa-providers", "2fa-account-generate", "2fa-account-submit", "2fa-account-config", "2fa-account-settings",
    "2fa-send", "2fa-check", "2fa-provider-infos", "2fa-login",
    "notification-user-settings", "notifications-unread-count", "notifications-read-all", "notifications",
    "notification-read", "notification-delete",
    # a tenant administrator asking the system administrators for a higher entity limit (the view: TENANT_ADMIN)
    "notification-entities-limit-increase-request",
    "dashboard-server-time", "dashboard-max-datapoints", "image-public", "schema", "integration-ingress",
    # the tenant's own profile, which every page of ThingsBoard's UI reads (writes: the system administrator)
    "tenant-profile-detail", "tenant-profile-info", "tenant-profile-default",
    # the mobile app of any user: its info, the QR code its home page shows and the deep link (oauth/)
    "mobile-user-info", "mobile-qr-merged", "mobile-qr-deep-link",
    # what every page of the UI reads: the user's merged white labeling, menu and translation (branding/; the
    # writes on the same paths check WHITE_LABELING / CUSTOM_MENU WRITE in their views)
    "whiteLabel-params", "customMenu-end-user", "customMenu-current", "translation-full",
    "translation-full-download", "translation-custom-merged", "translation-available-locales",
    "translation-java-locales",
    # one's own acceptance of the sign-up policies (signup/)
    "signup-accept-privacy-policy", "signup-accept-terms-of-use", "signup-privacy-policy-accepted",
    "signup-terms-of-use-accepted",
    # the help pages' address, one's own mobile push sessions, Trendz's sync state (tenants/api/platform_urls.py)
    "uiSettings-help-base-url", "user-mobile-session", "trendz-sync", "trendz-healthcheck", "trendz-public-connect",
    # the server certificate devices check: open to anyone, no authentication tried (devices/api/connectivity.py)
    "device-connectivity-certificate",
    "edge-enabled",  # whether edges are supported: every authority's UI asks (edges/)
})
OPEN_PREFIXES = ("noauth-", "device-http-")

#: URL-name prefix -> resource
PREFIXES = {
    "device": "DEVICE", "asset": "ASSET", "entityView": "ENTITY_VIEW", "customer": "CUSTOMER",
    "dashboard": "DASHBOARD", "deviceProfile": "DEVICE_PROFILE", "assetProfile": "ASSET_PROFILE",
    "converter": "CONVERTER", "integration": "INTEGRATION", "integrations": "INTEGRATION",
    "rulechain": "RULE_CHAIN", "rulenode": "RULE_CHAIN", "alarm": "ALARM", "query-alarmsQuery": "ALARM",
    "rpc": "DEVICE", "telemetry": "<entity_type>", "audit-logs": "AUDIT_LOG", "usage": "API_USAGE_STATE",
    "role": "ROLE", "group-permission": "GROUP_PERMISSION", "user": "USER", "users": "USER",
    "admin-repository": "VERSION_CONTROL", "admin-auto-commit": "VERSION_CONTROL", "api-key": "API_KEY",
    "vc": "VERSION_CONTROL", "solution": "VERSION_CONTROL",  # solution export/import/validate: all POST, WRITE
    "widgets-bundle": "WIDGETS_BUNDLE", "widget-type": "WIDGET_TYPE", "resource": "TB_RESOURCE",
    "image": "TB_RESOURCE", "ota-package": "OTA_PACKAGE", "group-ota-package": "OTA_PACKAGE",
    "relations": "<entity_type>", "relations-info": "<entity_type>", "query-entitiesQuery": "<query>",
    "rule-engine": "<entity_type>", "scheduler-event": "SCHEDULER_EVENT", "notification": "NOTIFICATION",
    # calculated fields: the client's Resource has no CALCULATED_FIELD; the entity's when the path names it
    # (READ/WRITE_CALCULATED_FIELD), else the generic ALL resource
    "calculatedfield": "ALL", "owner": "CUSTOMER", "job": "JOB",  # jobs: calculated fields' reprocessing
    "secret": "SECRET",  # secrets storage (vault/)
    "ai-model": "AI_MODEL", "ai-chat": "AI",  # AI models and chats (ai/)
    "whiteLabel": "WHITE_LABELING", "translation": "WHITE_LABELING", "customMenu": "CUSTOM_MENU",  # branding/
    # reporting (reports/): templates, generated reports, the blob entities dashboard reports are stored in
    "reportTemplate": "REPORT_TEMPLATE", "report": "REPORT", "blobEntity": "BLOB_ENTITY",
    "queueStats": "QUEUE_STATS",  # rulechains/api/queue_stats.py
    "edge": "EDGE",  # edges/: the edges, what is assigned to them, their events (rulechain-edge-*: RULE_CHAIN)
}
#: URL name -> resource, where the prefix's is not the one
ROUTES = {
    "device-types": "DEVICE", "device-downlinks": "DEVICE",
    # users of customers, of the tenant
    "customer-users-all": "USER", "customer-user-infos": "USER", "customer-users": "USER", "tenant-admins": "USER",
    "tenant-save": "TENANT", "tenant-detail": "TENANT", "tenant-info": "TENANT",
    "telemetry-device-attributes": "DEVICE",
    "integration-converter-pin": "INTEGRATION",
    "rulenode-debug-in": "RULE_CHAIN", "components": "RULE_CHAIN", "components-by-type": "RULE_CHAIN",
    "component": "RULE_CHAIN", "events-clear": "<entity_type>", "events-by-type": "<entity_type>",
    "events-by-filter": "<entity_type>",
    # entity groups, where the path names their type; where it names the group, its view checks
    "group-list": "<group_type>", "group-list-all": "<group_type>", "group-infos": "<group_type>",
    "group-owner-list": "<group_type>", "group-owner-list-all": "<group_type>", "group-owner-infos": "<group_type>",
    "group-all": "<group_type>", "group-shared": "<group_type>", "group-shared-all": "<group_type>",
    "group-by-owner-and-name": "<group_type>", "group-owner-hierarchy": "<group_type>",
    "group-owner-infos-hierarchy": "<group_type>", "group-for-entity": "<entity_type>",
    "group-save": VIEW, "group-detail": VIEW, "group-entities": VIEW, "group-add": VIEW, "group-remove": VIEW,
    "group-member": VIEW, "group-info": VIEW,
    "group-share": VIEW, "group-share-v2": VIEW, "group-share-role": VIEW, "group-infos-shared": "<group_type>",
    "group-infos-by-ids": "ALL", "group-by-ids": "ALL", "group-customers": "ALL", "group-edges": "ALL",
    "group-users": "USER", "group-permissions": "GROUP_PERMISSION",
    "queue-list": "QUEUE", "queue-by-name": "QUEUE", "queue-detail": "QUEUE",
    "resource": "TB_RESOURCE", "image": "TB_RESOURCE", "audit-logs": "AUDIT_LOG", "widget-type": "WIDGET_TYPE",
    "group-ota-package": "OTA_PACKAGE",
    # ownership changes: CHANGE_OWNER on the entity's type
    "owner-customer": "<entity_type>", "owner-tenant": "<entity_type>",
    # relations: the entities' (READ to list, WRITE to save or delete, as ThingsBoard checks)
    "relation": "<relation>", "relation-v2": "<relation>", "relations": "<relation>", "relations-info": "<relation>",
    # the rule engine REST API: the originator's WRITE; the caller as originator: the generic ALL resource
    "owners": "CUSTOMER", "rule-engine-user": "ALL", "rule-engine-user-noslash": "ALL",
    "calculatedfield-by-entity": "<entity_type>",
    "mobile-qr-settings": "MOBILE_APP_SETTINGS",  # a tenant administrator's own QR code settings (oauth/)
    "selfRegistration-params": "WHITE_LABELING",
    # mail presets and Trendz's configuration: the administrators' settings (tenants/api/platform_urls.py)
    "mail-config-template": "ADMIN_SETTINGS", "trendz-config": "ADMIN_SETTINGS", "trendz-connect": "ADMIN_SETTINGS",
}
#: URL name -> {method: operation}, where the method's is not the one
_READ_BY_POST = {"POST": "READ"}
_ATTRIBUTES = {"GET": "READ_ATTRIBUTES", "POST": "WRITE_ATTRIBUTES", "DELETE": "WRITE_ATTRIBUTES"}
_TELEMETRY = {"GET": "READ_TELEMETRY", "POST": "WRITE_TELEMETRY", "DELETE": "WRITE_TELEMETRY"}
_RPC = {"GET": "READ", "POST": "RPC_CALL", "DELETE": "RPC_CALL"}
OPERATIONS = {
    # reporting (reports/): rendering a dashboard or a test report reads; the renderer's pages are GETs
    "dashboard-report-download": _READ_BY_POST, "dashboard-report-test": _READ_BY_POST, "report-test": _READ_BY_POST,
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
    "device-claim": {"POST": "CLAIM_DEVICES", "DELETE": "CLAIM_DEVICES"},
    "owner-customer": {"POST": "CHANGE_OWNER"}, "owner-tenant": {"POST": "CHANGE_OWNER"},
    "relations-info": _READ_BY_POST, "query-entitiesQuery-find": _READ_BY_POST,
    "query-entitiesQuery-count": _READ_BY_POST, "query-entitiesQuery-find-keys": _READ_BY_POST,
    "query-entitiesQuery-find-keys-v2": _READ_BY_POST,
    "calculatedfield-by-entity": {"GET": "READ_CALCULATED_FIELD", "POST": "WRITE_CALCULATED_FIELD",
                                  "DELETE": "WRITE_CALCULATED_FIELD"},
    # a reprocessing writes telemetry, though started by GET
    "calculatedfield-reprocess": {"GET": "WRITE"}, "calculatedfield-reprocess-wait": {"GET": "WRITE"},
    "dashboard-home": {"POST": "READ"},
    # the commands and the gateway's compose file carry the device's credentials (devices/api/connectivity.py)
    "device-connectivity": {"GET": "READ_CREDENTIALS"},
    "device-connectivity-gateway-compose": {"GET": "READ_CREDENTIALS"},
    "device-assign-to-tenant": {"POST": "ASSIGN_TO_TENANT"},
}
_PREFIXES_LONGEST_FIRST = sorted(PREFIXES, key=len, reverse=True)


def is_open(url_name: str | None) -> bool:
    return bool(url_name) and (url_name in OPEN_ROUTES or url_name.startswith(OPEN_PREFIXES))


def resource_of(url_name: str | None) -> str | None:
    """The table's resource for a URL name (maybe a ``<placeholder>``), None when the table has none."""
    if not url_name:
        return None
    if url_name in ROUTES:
        return ROUTES[url_name]
    return next((PREFIXES[p] for p in _PREFIXES_LONGEST_FIRST if url_name.startswith(f"{p}-")), None)


def needs(url_name: str | None, method: str, kwargs: dict, request=None) -> list[tuple[str, str]]:
    """Every (resource, operation) a request needs ([] when open or checked by its view); fail closed: a route
    the table does not know, or whose resource cannot be told, needs the operation on ``ALL``."""
    if is_open(url_name):
        return []
    resource = resource_of(url_name)
    if resource == VIEW:
        return []
    operation = OPERATIONS.get(url_name, {}).get(method) or METHOD_OPERATIONS.get(method, "READ")
    if resource == "<entity_type>":
        # the views take the path's type in any case ("device"): so does the check
        resource = str(kwargs.get("entity_type") or "").upper()
    elif resource == "<group_type>":
        resource = f"{kwargs.get('group_type')}_GROUP"
        resource = resource if resource in GROUP_RESOURCES else "ALL"
    elif resource == "<query>":
        return [(r, operation) for r in request_resources.queried_types(request)]
    elif resource == "<relation>":
        return request_resources.relation_needs(request, method)
    if resource not in RESOURCES:
        resource = "ALL"
    return [(resource, operation)]


def required(url_name: str | None, method: str, kwargs: dict) -> tuple[str, str] | None:
    """(resource, operation) a request needs, or None when open to every tenant user or checked by its view."""
    found = needs(url_name, method, kwargs)
    return found[0] if found else None


def _rights(request):
    rights = getattr(request, "_tb_rights", None)
    if rights is None:
        rights = rights_of(request.user)
        try:
            request._tb_rights = rights
        except AttributeError:
            pass
    return rights


def allows(request, resource: str, operation: str) -> bool:
    """``role_hook.require``: one right of a tenant administrator; of a customer user on an entity-group
    resource ({TYPE}_GROUP: its "Customer Administrator" role creates, renames, fills and deletes its
    customer's groups, its "Customer User" role reads them); every other case: the authority decides."""
    authority = request.user.authority
    if authority == Authority.CUSTOMER_USER and resource in GROUP_RESOURCES:
        return operation == "READ" or _rights(request).allows(resource, operation)
    if authority != Authority.TENANT_ADMIN:
        return True
    return _rights(request).allows(resource, operation)


def check(request, view) -> bool:
    """The role hook (tbproject/api/role_hook.py): may this authenticated tenant user make this request?"""
    user = request.user
    if user.authority == Authority.CUSTOMER_USER:
        return _customer_check(request)
    if user.authority != Authority.TENANT_ADMIN:
        return True
    match = getattr(request, "resolver_match", None)
    name, kwargs = (match.url_name, match.kwargs) if match is not None else (None, {})
    wanted = needs(name, request.method, kwargs, request)
    if not wanted:
        return True
    rights = _rights(request)
    if name in _OWN_PROFILE and _own_user(request, name, kwargs) and rights.allows("PROFILE", wanted[0][1]):
        return True  # one's own user: the PROFILE resource ("Tenant User" has it) as well as USER
    return all(rights.allows(*need) for need in wanted)


_OWN_PROFILE = ("user-detail", "user-info", "user-save")
#: the path keys naming the one entity a request reads or writes
_TARGET_KEYS = ("entity_id", "device_id", "pk")


def _customer_check(request) -> bool:
    """A customer user: its authority decides for its customer's entities; an entity reached only through a
    group shared with it needs the operation in that group's roles (roles/group_access.py)."""
    rights = _rights(request)
    if not rights.groups:
        return True
    match = getattr(request, "resolver_match", None)
    if match is None:
        return True
    wanted = needs(match.url_name, request.method, match.kwargs, request)
    placeholder = str(resource_of(match.url_name)).startswith("<")
    if placeholder and any(r == "ALL" and not op.startswith("READ") for r, op in wanted):
        return False  # fail closed: a write on what the path or body does not tell (an unknown entity type)
    if resource_of(match.url_name) == "<relation>":  # the ends are in the body or query string, not the path
        ends = request_resources.relation_needs(request, request.method, ids=True)
        return all(group_access.group_allows(request.user, rights, r, op, pk) for r, op, pk in ends)
    target = next((match.kwargs[k] for k in _TARGET_KEYS if k in match.kwargs), None)
    return all(group_access.group_allows(request.user, rights, *need, target) for need in wanted)


def _own_user(request, name: str, kwargs: dict) -> bool:
    if name != "user-save":
        return str(kwargs.get("pk")) == str(request.user.pk)
    if request.query_params.get("entityGroupId") or request.query_params.get("entityGroupIds"):
        return False
    raw = request_resources.body_id(request)
    return raw is not None and raw == str(request.user.pk)


def _api_routes():
    from django.urls import get_resolver
    from django.urls.resolvers import URLResolver

    def walk(patterns, prefix=""):
        for p in patterns:
            if isinstance(p, URLResolver):
                yield from walk(p.url_patterns, prefix + str(p.pattern))
            else:
                yield prefix + str(p.pattern), p

    for path, pattern in walk(get_resolver().url_patterns):
        if path.startswith("api/"):
            view = getattr(pattern.callback, "cls", None) or getattr(pattern.callback, "view_class", None)
            yield path, pattern.name, getattr(view, "permission_classes", ())


def classify_routes() -> dict[str, list[str]]:
    """Every /api/ route: "table" (a resource), "open" (:data:`OPEN_ROUTES`), "sysadmin" (its view lets the
    system administrator only), "unclassified" (a restricted administrator would need ``ALL``: classify it)."""
    from tbproject.api.permissions import IsSysAdmin

    out = {"table": [], "open": [], "sysadmin": [], "unclassified": []}
    for path, name, classes in _api_routes():
        if is_open(name):
            kind = "open"
        elif resource_of(name) is not None:
            kind = "table"
        elif any(isinstance(c, type) and issubclass(c, IsSysAdmin) for c in classes):
            kind = "sysadmin"
        else:
            kind = "unclassified"
        out[kind].append(f"{name} {path}")
    return out


def covered_routes() -> tuple[list[str], list[str]]:
    """(checked, tabled but unchecked) URL names of /api/: a route is checked when the table names it and its
    view uses a permission class that asks the role hook (``consults_roles``: ``IsTenantUser`` and its
    subclasses, ``RoleChecked``, the administrators-only classes of dashboards/ and notifications/)."""
    checked, unchecked = [], []
    for _path, name, classes in _api_routes():
        if is_open(name) or resource_of(name) is None:
            continue
        uses = any(getattr(c, "consults_roles", False) for c in classes)
        (checked if uses else unchecked).append(name)
    return checked, unchecked
