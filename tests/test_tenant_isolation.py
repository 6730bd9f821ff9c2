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

from calculated.models import CalculatedField, Job
from converters.models import Converter, ConverterTest
from dashboards.models import Dashboard, Resource, WidgetsBundle, WidgetType
from devices.choices import GroupType
from devices.models import DeviceGroupOtaPackage, EntityView, OtaPackage
from integrations.models import Integration
from roles.models import GroupPermission, Role
from rulechains.models import Alarm, AlarmComment, Rpc, RuleChain, RuleNode
from scheduler.models import SchedulerEvent
from tbproject.testing.factories import default_profile, make_asset, make_customer, make_device, make_group
from tbproject.testing.limits import limit_tenant
from tenants.choices import Authority
from tenants.models import ApiKey, User

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
SECRET = "zz-foreign-marker"  # in every name of the foreign world: must never come back


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


class World:
    """One tenant's entities, each named with the marker."""

    def __init__(self, tenant, tag: str):
        self.tenant = tenant
        self.customer = make_customer(tenant, f"{SECRET}-{tag}-customer")
        self.device = make_device(tenant, f"{SECRET}-{tag}-device")
        self.asset = make_asset(tenant, f"{SECRET}-{tag}-asset")
        self.entity_view = EntityView.objects.create(tenant=tenant, name=f"{SECRET}-{tag}-view", type="v",
                                                     entity_type="DEVICE", entity_id=self.device.pk)
        self.group = make_group(tenant, f"{SECRET}-{tag}-group", GroupType.DEVICE, [self.device])
        self.device_profile = default_profile(tenant)
        from devices.models import AssetProfile

        self.asset_profile = default_profile(tenant, AssetProfile)
        self.converter = Converter.objects.create(tenant=tenant, name=f"{SECRET}-{tag}-converter", type="UPLINK",
                                                  configuration={"scriptLang": "JS", "decoder": "return null;"})
        self.converter_test = ConverterTest.objects.create(tenant=tenant, converter=self.converter,
                                                           name=f"{SECRET}-{tag}-test", payload=b"{}")
        self.integration = Integration.objects.create(
            tenant=tenant, name=f"{SECRET}-{tag}-integration", type="HTTP", default_converter=self.converter,
            configuration={"baseUrl": "http://localhost"})
        self.rule_chain = RuleChain.objects.create(tenant=tenant, name=f"{SECRET}-{tag}-chain")
        self.rule_node = RuleNode.objects.create(tenant=tenant, rule_chain=self.rule_chain, index=0,
                                                 type="org.thingsboard.rule.engine.action.TbLogNode",
                                                 name=f"{SECRET}-{tag}-node")
        self.dashboard = Dashboard.objects.create(tenant=tenant, title=f"{SECRET}-{tag}-dashboard",
                                                  configuration_text=f'{{"description": "{SECRET}"}}')
        self.user = User.objects.create_user(f"{SECRET}-{tag}@example.com", authority=Authority.TENANT_ADMIN,
                                             tenant=tenant)
        self.api_key = ApiKey.objects.create(tenant=tenant, user=self.user, key_hash=f"{tag:0>64}"[-64:],
                                             description=f"{SECRET}-{tag}-api-key")
        self.alarm = Alarm.objects.create(tenant=tenant, originator_type="DEVICE", originator_id=self.device.pk,
                                          type=f"{SECRET}-{tag}-alarm")
        self.alarm_comment = AlarmComment.objects.create(tenant=tenant, alarm=self.alarm, user=self.user,
                                                         comment={"text": f"{SECRET}-{tag}-comment"})
        self.rpc = Rpc.objects.create(tenant=tenant, device=self.device, request_id=1, persistent=True,
                                      request={"method": f"{SECRET}-{tag}-rpc", "params": "{}"},
                                      expiration_time=2**62)
        self.scheduler_event = SchedulerEvent.objects.create(
            tenant=tenant, name=f"{SECRET}-{tag}-event", type="custom", originator_type="DEVICE",
            originator_id=self.device.pk, schedule={"timezone": "UTC", "startTime": 1},
            configuration={"msgBody": SECRET})
        self.calculated_field = CalculatedField.objects.create(
            tenant=tenant, entity_type="DEVICE", entity_id=self.device.pk, kind="SIMPLE", name=f"{SECRET}-{tag}-cf",
            configuration={"type": "SIMPLE", "expression": "a", "output": {"type": "TIME_SERIES", "name": SECRET},
                           "arguments": {"a": {"refEntityKey": {"key": SECRET, "type": "TS_LATEST"}}}})
        self.calculated_job = Job.objects.create(tenant=tenant, key=str(self.calculated_field.pk), status="FAILED",
                                                 entity_id=self.calculated_field.pk, entity_name=f"{SECRET}-{tag}-job",
                                                 result={"results": [{"key": str(self.device.pk), "success": False}]})
        # tenant profiles belong to the system administrator: nobody else reaches one by its id
        self.role = Role.objects.create(tenant=tenant, name=f"{SECRET}-{tag}-role", type="GENERIC",
                                        permissions={"ALL": ["READ"]})
        self.group_permission = GroupPermission.objects.create(
            tenant=tenant, role=self.role, user_group=make_group(tenant, f"{SECRET}-{tag}-users", GroupType.USER))
        self._notifications(tenant, tag)
        self._library(tenant, tag)
        self.ota_package = OtaPackage.objects.create(
            tenant=tenant, device_profile=self.device_profile, type="FIRMWARE", title=f"{SECRET}-{tag}-ota",
            package_version="1", url="https://example.com/fw.bin", has_data=True)
        self.group_ota_package = DeviceGroupOtaPackage.objects.create(
            tenant=tenant, group=self.group, ota_package_type="FIRMWARE", ota_package=self.ota_package)
        from transfer.models import VersionRequest

        self.version_request = VersionRequest.objects.create(tenant=tenant, kind="CREATE",
                                                             body={"versionName": SECRET}, result={"error": SECRET})
        from branding.models import CustomMenu

        self.custom_menu = CustomMenu.objects.create(tenant=tenant, name=f"{SECRET}-{tag}-menu", scope="TENANT",
                                                     config={"items": [{"type": "DEFAULT", "name": SECRET}]})
        from vault import services as secrets

        self.secret = secrets.save(tenant.pk, {"name": f"{SECRET}-{tag}-secret", "type": "TEXT", "value": SECRET,
                                               "description": SECRET})
        self.tenant_profile = limit_tenant(tenant)
        self.tenant_profile.name = f"{SECRET}-{tag}-profile"
        self.tenant_profile.save()

    def _notifications(self, tenant, tag: str) -> None:
        from notifications.models import (
            Notification,
            NotificationRequest,
            NotificationRule,
            NotificationTarget,
            NotificationTemplate,
        )

        self.notification_target = NotificationTarget.objects.create(
            tenant=tenant, name=f"{SECRET}-{tag}-target",
            configuration={"type": "PLATFORM_USERS", "usersFilter": {"type": "ALL_USERS"}})
        self.notification_template = NotificationTemplate.objects.create(
            tenant=tenant, name=f"{SECRET}-{tag}-template", notification_type="ALARM", configuration={
                "deliveryMethodsTemplates": {"WEB": {"method": "WEB", "subject": SECRET, "body": SECRET}}})
        self.notification_rule = NotificationRule.objects.create(
            tenant=tenant, name=f"{SECRET}-{tag}-rule", template=self.notification_template, trigger_type="ALARM",
            trigger_config={"notifyOn": ["CREATED"]},
            recipients_config={"escalationTable": {"0": [str(self.notification_target.pk)]}})
        self.notification_request = NotificationRequest.objects.create(
            tenant=tenant, targets=[str(self.notification_target.pk)], template={"name": SECRET})
        self.notification = Notification.objects.create(request=self.notification_request, recipient=self.user,
                                                         type="GENERAL", subject=SECRET, text=SECRET)

    def _library(self, tenant, tag: str) -> None:
        self.widgets_bundle = WidgetsBundle.objects.create(tenant=tenant, alias=tag, title=f"{SECRET}-{tag}-bundle")
        self.widget_type = WidgetType.objects.create(tenant=tenant, fqn=f"{tag}.w", name=f"{SECRET}-{tag}-widget",
                                                     descriptor_text=f'{{"type":"latest","x":"{SECRET}"}}')
        self.widgets_bundle.rows.create(widget_type=self.widget_type)
        self.resource = Resource.objects.create(
            tenant=tenant, title=f"{SECRET}-{tag}-js", resource_type="JS_MODULE", resource_key=f"{tag}.js",
            file_name=f"{tag}.js", data=SECRET.encode(), etag="0" * 64, media_type="application/javascript")
        self.image = Resource.objects.create(
            tenant=tenant, title=f"{SECRET}-{tag}-image", resource_type="IMAGE", resource_key=f"{tag}.gif",
            file_name=f"{tag}.gif", data=b"GIF89a" + SECRET.encode(), etag="1" * 64, media_type="image/gif",
            public_resource_key=f"{tag}-public", is_public=False)

    def id_of(self, owner: str) -> str:
        return str(getattr(self, owner).pk)


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
