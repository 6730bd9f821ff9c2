"""Tenancy is security (issue 19, item 2), generated from the URL configuration.

Every ``/api/`` pattern that takes an id is called, with every method its view answers, by a
tenant admin with the ids of another tenant's entities, and by a customer user with its own
tenant's entities that are not assigned to its customer. Every answer must be 404 (or 403, as
ThingsBoard answers a customer user) and carry none of the other side's data. A new endpoint is
covered without editing this file: its URL kwargs are filled from the table below, and a kwarg
the table does not know fails the test (add it to the table, not an exception).
"""

import json
import re

import pytest
from django.urls import get_resolver
from django.urls.resolvers import URLPattern, URLResolver

from tests.isolation_world import SECRET, World

#: device-facing endpoints: the routing key is the credential, not a tenant's id
NOT_TENANT_SCOPED = {"api/v1/integrations/<str:endpoint>/<str:routing_key>",
                     "api/v1/<device_token:token>/telemetry", "api/v1/<device_token:token>/attributes",
                     "api/v1/<device_token:token>/rpc", "api/v1/<device_token:token>/rpc/<str:request_id>",
                     "api/v1/<device_token:token>/attributes/updates", "api/v1/<device_token:token>/claim"}
#: URL kwargs that hold no id: a fixed, valid value
PLAIN = {"scope": "SERVER_SCOPE", "ttl": "0", "event_type": "DEBUG_CONVERTER", "group_type": "DEVICE",
         "integration_type": "HTTP", "vendor": "Acme", "model": "X", "direction": "uplink", "number": "1",
         "relation_type": "Contains", "timeout": "50", "queue_name": "Main",
         "queue_id": "00000000-0000-0000-0000-000000000000",  # queues are the server's, not a tenant's
         "component_type": "FLOW", "clazz": "org.thingsboard.rule.engine.action.TbLogNode",
         "settings": "general", "paths": "a.b",  # a user's own settings: a type and paths
         "action": "visit",  # a user's action on a dashboard
         "notification_type": "ALARM",  # the notification center's targets by notification type
         "operation": "READ",  # an operation asked about (GET /api/permission/{type}/{id}/{operation})
         "settings_key": "general", "enabled_value": "false"}  # the system administrator's settings; an API key's state
#: the scheduler event toggle's value, and the scheduler calendar's interval (ms)
PLAIN.update({"enabled_value": "false", "start_time": "0", "end_time": "1"})
PLAIN["limited_type"] = "ASSET"  # an entity type whose limit a tenant administrator asks to raise
#: first path segment -> which of the world's entities a ``pk`` names
PK_OWNER = {"device": "device", "asset": "asset", "customer": "customer", "deviceProfile": "device_profile",
            "deviceProfileInfo": "device_profile", "assetProfile": "asset_profile",
            "assetProfileInfo": "asset_profile", "entityGroup": "group", "entityGroupInfo": "group",
            "converter": "converter", "integration": "integration", "ruleChain": "rule_chain", "alarm": "alarm",
            "tenantProfile": "tenant_profile", "user": "user", "tenant": "tenant", "entityView": "entity_view",
            "dashboard": "dashboard", "tenantProfileInfo": "tenant_profile",
            "users": "alarm", "rpc": "rpc", "ruleNode": "rule_node", "apiKey": "api_key",
            "role": "role", "groupPermission": "group_permission"}
PK_OWNER["schedulerEvent"] = "scheduler_event"
#: the widget library and resources (dashboards/): ids, and images and resources by scope and key
PK_OWNER.update({"widgetsBundle": "widgets_bundle", "widgetType": "widget_type", "widgetTypeInfo": "widget_type",
                 "resource": "resource"})
PLAIN.update({"image_type": "tenant", "resource_type": "js_module", "resource_scope": "tenant", "is_public": "true"})
#: URL kwargs named for what they hold (the notification center's) -> which of the world's entities
KWARG_OWNER = {"target_id": "notification_target", "template_id": "notification_template",
               "rule_id": "notification_rule", "notification_request_id": "notification_request",
               "notification_id": "notification"}
KWARG_OWNER.update({"model_uuid": "ai_model", "chat_id": "ai_chat"})  # AI models and chats (ai/)
#: entity types tried for an (entity_type, entity_id) pair, by first path segment
PAIR_TYPES = {"plugins": ["DEVICE", "ASSET", "CUSTOMER", "ENTITY_VIEW"], "events": ["CONVERTER", "INTEGRATION"],
              "entityGroups": ["DEVICE", "ASSET"], "owner": ["DEVICE", "ASSET", "ENTITY_VIEW"],
              "alarm": ["DEVICE", "ASSET", "CUSTOMER"],
              "relations": ["DEVICE", "ASSET", "CUSTOMER"], "v2": ["DEVICE", "ASSET", "CUSTOMER"],
              "audit": ["CONVERTER", "INTEGRATION", "RULE_CHAIN"], "rule-engine": ["DEVICE", "ASSET", "CUSTOMER"],
              "permission": ["DEVICE", "ASSET", "CUSTOMER", "ENTITY_VIEW"]}
TYPE_OWNER = {"DEVICE": "device", "ASSET": "asset", "CUSTOMER": "customer", "CONVERTER": "converter",
              "INTEGRATION": "integration", "RULE_CHAIN": "rule_chain", "ENTITY_VIEW": "entity_view"}
METHODS = ("get", "post", "put", "delete")
#: what ThingsBoard lets a customer user read of its tenant's (profile infos: CUSTOMER_USER may
#: GET them, for the device pages); anything else not assigned to its customer is 403/404
CUSTOMER_READABLE = {("get", "api/deviceProfileInfo/<str:pk>"), ("get", "api/assetProfileInfo/<str:pk>")}
#: its tenant's widget library, images and JS modules: the dashboards a customer user opens load them. (System-level
#: bundles, widget types, images and resources are read by every tenant and written by none but the system
#: administrator: a category of their own, tested in dashboards/tests/test_library_scopes.py.)
CUSTOMER_READABLE |= {("get", f"api/{p}") for p in (
    "widgetsBundle/<str:pk>", "widgetsBundle/<str:pk>/widgetTypes", "widgetsBundle/<str:pk>/widgetTypeFqns",
    "widgetsBundle/<str:pk>/widgetTypesInfos", "widgetsBundle/<str:pk>/widgetTypesDetails", "widgetType/<str:pk>",
    "widgetTypeInfo/<str:pk>", "images/<str:image_type>/<str:key>", "images/<str:image_type>/<str:key>/preview",
    "images/<str:image_type>/<str:key>/info", "resource/js/<str:pk>/download", "resource/<str:pk>/download",
    "resource/<str:resource_type>/<str:resource_scope>/<str:key>",
    "resource/<str:resource_type>/<str:resource_scope>/<str:key>/info")}
#: claiming is how a customer user reaches a device of its tenant no customer owns (by name; without a
#: claim request of the device the answer is 400 "FAILURE", and carries nothing of the device)
CUSTOMER_CLAIMABLE = {("post", "api/customer/device/<str:device_name>/claim")}
#: OTA packages (devices/api/ota_*.py): a device downloads its package by its token; the type in the path;
#: packages and group assignments by id; a customer user reads package infos, as ThingsBoard lets it
NOT_TENANT_SCOPED |= {"api/v1/<device_token:token>/firmware", "api/v1/<device_token:token>/software"}
PLAIN["ota_type"] = "FIRMWARE"
PK_OWNER.update({"otaPackage": "ota_package", "deviceGroupOtaPackage": "group_ota_package"})
KWARG_OWNER.update({"device_profile_id": "device_profile", "ota_package_id": "ota_package"})
CUSTOMER_READABLE |= {("get", "api/otaPackage/info/<str:pk>"),
                      ("get", "api/otaPackages/<str:device_profile_id>/<str:ota_type>")}
#: ThingsBoard paths of things this server keeps for nobody: 501 whatever the id (nothing to reach)
NOT_KEPT = {"api/alarm/rule/<str:pk>"}
#: calculated fields (calculated/): by id, and a device's or asset's page of them
PK_OWNER["calculatedField"] = "calculated_field"
PAIR_TYPES["calculatedField"] = ["DEVICE", "ASSET"]
PK_OWNER["job"] = "calculated_job"  # calculated fields' reprocessing jobs
#: version control (transfer/vc/): a request id of the world's; entity types and versions by value
KWARG_OWNER.update({"request_id": "version_request", "internal_id": "device", "external_id": "device"})
PLAIN.update({"entity_type_name": "DEVICE", "version_id": "0" * 40})
#: white labeling (branding/): custom menus by id; locales, translation keys and assignee types by value
PK_OWNER["customMenu"] = "custom_menu"
PLAIN.update({"locale_code": "en_US", "key_path": "home.home", "assignee_type": "CUSTOMERS"})
#: secrets storage (vault/): secrets by id
PK_OWNER["secret"] = "secret"
#: entity group sharing (roles/): `entityGroup/{group}/{userGroup}/{role}/share`, every id the world's
KWARG_OWNER.update({"user_group_id": "group", "role_id": "role"})
#: OAuth 2.0 (oauth/): clients, templates, domains, mobile apps and bundles are the system administrator's (any id:
#: a tenant's user gets 404); a QR code's deep-link secret by value (an unknown one: 404)
PK_OWNER.update({"oauth2": "tenant_profile", "domain": "tenant_profile", "mobile": "tenant_profile"})
PLAIN["secret"] = "no-such-mobile-secret"
#: reporting (reports/): templates, reports (``v2/report/{id}``) and blob entities by id
PK_OWNER.update({"reportTemplate": "report_template", "v2": "report", "blobEntity": "blob_entity"})
#: queue statistics by id (rulechains/); a server certificate by protocol, LwM2M server info by flag (devices/)
PK_OWNER["queueStats"] = "queue_stats"
PLAIN.update({"protocol": "https", "is_bootstrap": "true"})
#: edges (edges/): by id; install and upgrade instructions by method and version
PK_OWNER["edge"] = "edge"
KWARG_OWNER["edge_id"] = "edge"
PLAIN.update({"method": "docker", "edge_version": "3.9.0"})


def _patterns(patterns, prefix=""):
    for p in patterns:
        if isinstance(p, URLResolver):
            yield from _patterns(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern), p


def _methods(pattern: URLPattern) -> list[str]:
    callback = pattern.callback
    actions = getattr(callback, "actions", None)  # a DRF viewset route
    if actions:
        return [m for m in METHODS if m in actions]
    cls = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if cls is None:
        return ["get", "post"]
    return [m for m in METHODS if hasattr(cls, m)]


def id_routes() -> list[tuple[str, list[str], list[str]]]:
    """(path pattern, kwargs, methods) of every /api/ route that takes an id."""
    routes = []
    for path, pattern in _patterns(get_resolver().url_patterns):
        kwargs = re.findall(r"<(?:\w+:)?(\w+)>", path)
        if not path.startswith("api/") or path in NOT_TENANT_SCOPED or set(kwargs) <= set(PLAIN):
            continue
        routes.append((path, kwargs, _methods(pattern)))
    return routes


def _fill(path: str, kwargs: list[str], world: World) -> list[str]:
    """Every concrete URL for the pattern, with the world's ids (one per entity type of a pair)."""
    first = path.split("/")[1]
    values: dict[str, list[str]] = {}
    for name in kwargs:
        if name in PLAIN:
            values[name] = [PLAIN[name]]
        elif name == "pk":
            owner = PK_OWNER.get(first)
            assert owner, f"{path}: add its first segment {first!r} to PK_OWNER"
            values[name] = [world.id_of(owner)]
        elif name in ("customer_id",):
            values[name] = [world.id_of("customer")]
        elif name == "user_id":
            values[name] = [world.id_of("user")]
        elif name == "tenant_id":
            values[name] = [str(world.tenant.pk)]
        elif name in ("device_id", "member_id"):
            values[name] = [world.id_of("device")]
        elif name == "group_id":
            values[name] = [world.id_of("group")]
        elif name == "dashboard_id":
            values[name] = [world.id_of("dashboard")]
        elif name == "owner_id":
            values[name] = [world.id_of("customer") if "CUSTOMER" in path else str(world.tenant.pk)]
        elif name == "owner_type":
            values[name] = ["CUSTOMER"]
        elif name == "group_name":
            values[name] = [world.group.name]
        elif name == "device_name":
            values[name] = [world.device.name]
        elif name == "comment_id":
            values[name] = [world.id_of("alarm_comment")]
        elif name == "test_id":
            values[name] = [world.id_of("converter_test")]
        elif name == "routing_key":
            values[name] = [world.integration.routing_key]
        elif name in KWARG_OWNER:
            values[name] = [world.id_of(KWARG_OWNER[name])]
        elif name == "key":
            values[name] = [(world.image if first == "images" else world.resource).resource_key]
        elif name == "public_key":
            values[name] = [world.image.public_resource_key]
        elif name in ("entity_type", "entity_id", "entity_id_"):
            continue
        else:
            raise AssertionError(f"{path}: URL kwarg {name!r} is unknown to the isolation test; add it to the table")
    urls = []
    types = PAIR_TYPES.get(first, [None]) if "entity_type" in kwargs else [None]
    for entity_type in types:
        url = path
        for name in kwargs:
            if name == "entity_type":
                value = entity_type
            elif name.startswith("entity_id"):
                value = world.id_of(TYPE_OWNER[entity_type])
            else:
                value = values[name][0]
            url = re.sub(rf"<(?:\w+:)?{name}>", value, url, count=1)
        urls.append("/" + url)
    return urls


def _call(client, method: str, url: str):
    if method in ("post", "put"):
        return getattr(client, method)(url, {}, format="json")
    return getattr(client, method)(url)


def _check(res, method, url, allowed):
    body = res.content.decode("utf-8", "replace")
    assert res.status_code in allowed, f"{method.upper()} {url}: {res.status_code} {body[:300]}"
    assert SECRET not in body, f"{method.upper()} {url} answered with the other side's data: {body[:300]}"


@pytest.fixture
def foreign(other_tenant):
    return World(other_tenant, "other")


def test_the_table_covers_every_id_route():
    routes = id_routes()
    assert len(routes) >= 60  # the API as of this test; a drop means routes were lost, not covered
    print(f"isolation: {len(routes)} id routes")


def test_no_tenant_reaches_another_tenants_entities(api, foreign):
    calls = 0
    for path, kwargs, methods in id_routes():
        for url in _fill(path, kwargs, foreign):
            for method in methods:
                _check(_call(api, method, url), method, url, {501} if path in NOT_KEPT else {404})
                calls += 1
    print(f"isolation: {calls} cross-tenant calls, all 404")
    assert calls > 100


def test_a_customer_user_reaches_only_its_customers_entities(customer_api, tenant, customer):
    own = World(tenant, "own")  # the tenant's entities, none assigned to the user's customer
    calls = 0
    for path, kwargs, methods in id_routes():
        for url in _fill(path, kwargs, own):
            for method in methods:
                if (method, path) in CUSTOMER_READABLE:
                    continue
                allowed = {400} if (method, path) in CUSTOMER_CLAIMABLE else {403, 404}
                allowed = {501} if path in NOT_KEPT else allowed
                _check(_call(customer_api, method, url), method, url, allowed)
                calls += 1
    print(f"isolation: {calls} customer-user calls, all 403 or 404")


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("entity_type", ["CONVERTER", "INTEGRATION"])
def test_the_live_debug_socket_refuses_another_tenants_entity(tenant_admin, other_tenant, entity_type):
    from asgiref.sync import async_to_sync
    from channels.testing import WebsocketCommunicator

    from tbproject.api.tokens import issue_pair
    from tbproject.asgi import application

    world = World(other_tenant, "ws")
    entity_id = world.id_of(TYPE_OWNER[entity_type])

    async def attempt():
        socket = WebsocketCommunicator(
            application, f"/ws/events/{entity_type}/{entity_id}?token={issue_pair(tenant_admin)['token']}")
        connected, _ = await socket.connect(timeout=15)  # a cold process's first check can take a second under load
        if connected:
            output = await socket.receive_output(timeout=15)
            await socket.disconnect()
            return output
        return None

    output = async_to_sync(attempt)()
    assert output is None or output.get("type") == "websocket.close", output
    assert SECRET not in json.dumps(output or {})
