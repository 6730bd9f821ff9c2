"""Roles fail closed: a route the table does not name needs the generic ALL resource; every /api/ route is
classified; the routes whose views used to skip the role hook (any-authenticated-user classes) now ask it."""

import json
from types import SimpleNamespace

import pytest

from devices.models import EntityGroup
from roles import enforcement
from roles.models import GroupPermission, Role
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_asset, make_device
from tbproject.testing.fixtures import api_as
from tbproject.testing.lean import LeanClient
from tenants.choices import Authority
from tenants.models import ApiKey, User

NO = "You don't have permission to perform this operation!"
PAGE = {"pageSize": 10, "page": 0}


@pytest.fixture
def reader(tenant):
    """A tenant administrator whose only role reads devices."""
    user = User.objects.create_user("reader@example.com", authority=Authority.TENANT_ADMIN, tenant=tenant)
    EntityGroup.objects.get(tenant=tenant, type="USER", name="Tenant Administrators").users.remove(user)
    readers = EntityGroup.objects.create(tenant=tenant, type="USER", name="Device readers")
    readers.users.add(user)
    role = Role.objects.create(tenant=tenant, name="Device reader", type="GENERIC", permissions={"DEVICE": ["READ"]})
    GroupPermission.objects.create(tenant=tenant, role=role, user_group=readers)
    return user


def test_every_api_route_is_classified_and_asks_the_hook():
    routes = enforcement.classify_routes()
    print({k: len(v) for k, v in routes.items()})
    assert routes["unclassified"] == [], "classify these routes in roles/enforcement.py: " + str(
        routes["unclassified"])
    checked, unchecked = enforcement.covered_routes()
    assert unchecked == [], f"tabled routes whose views never ask the role hook: {unchecked}"


def test_unknown_routes_and_requests_without_a_route_need_all(reader, tenant_admin):
    for user, allowed in ((reader, False), (tenant_admin, True)):
        request = SimpleNamespace(user=user, method="POST")
        assert enforcement.check(request, None) is allowed
        request = SimpleNamespace(user=user, method="GET", resolver_match=SimpleNamespace(url_name="no-such-route",
                                                                                          kwargs={}))
        assert enforcement.check(request, None) is allowed
    assert enforcement.required("no-such-route", "GET", {}) == ("ALL", "READ")
    assert enforcement.required("group-list", "GET", {"group_type": "NOPE"}) == ("ALL", "READ")


def test_open_routes_stay_open_to_a_restricted_admin(reader):
    c = api_as(reader)
    for path in ("/api/auth/user", "/api/permissions/allowedPermissions", "/api/user/settings/general",
                 "/api/notifications?pageSize=10&page=0", "/api/dashboard/serverTime", "/api/2fa/providers"):
        assert c.get(path).status_code == 200, path


def test_newly_classified_routes_refuse_a_restricted_admin(reader, tenant, tenant_admin):
    c = api_as(reader)
    for path in ("/api/widgetsBundles?pageSize=10&page=0", "/api/schedulerEvents",
                 "/api/otaPackages?pageSize=10&page=0", "/api/notification/targets?pageSize=10&page=0",
                 "/api/audit/logs?pageSize=10&page=0",
                 "/api/usage", "/api/queues?pageSize=10&page=0&serviceType=TB_RULE_ENGINE",
                 f"/api/apiKeys/{tenant_admin.pk}?pageSize=10&page=0", "/api/admin/repositorySettings/exists",
                 "/api/dashboard/home", "/api/calculatedFields?pageSize=10&page=0", "/api/owners?pageSize=10&page=0",
                 f"/api/relations/from/ASSET/{make_asset(tenant).pk}", f"/api/user/{tenant_admin.pk}"):
        assert_error(c.get(path), 403, NO)
    assert_error(c.post("/api/rule-engine/", {"a": 1}, format="json"), 403, NO)
    # the default "Tenant Administrator" keeps every one of them
    full = api_as(tenant_admin)
    for path in ("/api/widgetsBundles?pageSize=10&page=0", "/api/audit/logs?pageSize=10&page=0",
                 "/api/owners?pageSize=10&page=0", f"/api/user/{reader.pk}"):
        assert full.get(path).status_code == 200, path


def test_api_keys_need_api_key_rights(reader, tenant_admin):
    body = {"description": "x", "userId": {"entityType": "USER", "id": str(tenant_admin.pk)}}
    assert_error(api_as(reader).post("/api/apiKey", body, format="json"), 403, NO)
    assert not ApiKey.objects.filter(user=tenant_admin).exists()
    assert api_as(tenant_admin).post("/api/apiKey", body, format="json").status_code == 200


def test_entity_queries_need_read_of_the_queried_type(reader, tenant, tenant_admin):
    make_asset(tenant)
    make_device(tenant, "d-1")

    def query(entity_type):
        return {"entityFilter": {"type": "entityType", "entityType": entity_type}, "pageLink": PAGE,
                "entityFields": [{"type": "ENTITY_FIELD", "key": "name"}]}

    c = api_as(reader)
    assert_error(c.post("/api/entitiesQuery/find", query("ASSET"), format="json"), 403, NO)
    assert_error(c.post("/api/entitiesQuery/count", {"entityFilter": {"type": "relationsQuery"}}, format="json"), 403)
    assert c.post("/api/entitiesQuery/find", query("DEVICE"), format="json").json()["totalElements"] == 1
    assert api_as(tenant_admin).post("/api/entitiesQuery/find", query("ASSET"),
                                     format="json").json()["totalElements"] == 1


def test_relations_need_the_ends_rights(reader, tenant, tenant_admin):
    device, asset = make_device(tenant, "d-1"), make_asset(tenant)
    body = {"from": {"entityType": "ASSET", "id": str(asset.pk)}, "to": {"entityType": "DEVICE", "id": str(device.pk)},
            "type": "Contains"}
    assert_error(api_as(reader).post("/api/relation", body, format="json"), 403, NO)
    assert api_as(tenant_admin).post("/api/relation", body, format="json").status_code == 200


def test_user_routes_of_any_authenticated_user_now_ask_the_hook(reader, tenant, tenant_admin, customer_user):
    c = api_as(reader)
    body = {"email": "new@example.com", "authority": "TENANT_ADMIN",
            "tenantId": {"entityType": "TENANT", "id": str(tenant.pk)}}
    assert_error(c.post("/api/user?sendActivationMail=false", body, format="json"), 403, NO)
    assert not User.objects.filter(email="new@example.com").exists()
    for path in (f"/api/user/{tenant_admin.pk}/activationLink", f"/api/user/{customer_user.pk}/token",
                 f"/api/user/info/{tenant_admin.pk}"):
        assert_error(c.get(path), 403, NO)
    assert_error(c.delete(f"/api/user/{tenant_admin.pk}"), 403, NO)
    assert User.objects.filter(pk=tenant_admin.pk).exists()
    assert c.get(f"/api/tenant/info/{tenant.pk}").status_code == 403
    full = api_as(tenant_admin)
    assert full.post("/api/user?sendActivationMail=false", body, format="json").status_code == 200
    assert full.get(f"/api/tenant/info/{tenant.pk}").status_code == 200


def test_lean_attribute_and_timeseries_saves_apply_the_table(reader, tenant, tenant_admin):
    device = make_device(tenant, "d-1")
    base = f"/api/plugins/telemetry/DEVICE/{device.pk}"
    for path in (f"{base}/attributes/SERVER_SCOPE", f"{base}/timeseries/ANY"):
        lean = LeanClient(api_as(reader)).asgi_post(path, json.dumps({"b": 2}).encode(), "application/json")
        assert lean.status_code == 403, (path, lean.content[:200])
        lean = LeanClient(api_as(tenant_admin)).asgi_post(path, json.dumps({"b": 2}).encode(), "application/json")
        assert lean.status_code == 200, (path, lean.content[:200])
    role = Role.objects.get(tenant=tenant, name="Device reader")
    role.permissions = {"DEVICE": ["READ", "WRITE_ATTRIBUTES"]}
    role.save()
    lean = LeanClient(api_as(reader)).asgi_post(f"{base}/attributes/SERVER_SCOPE", b'{"c": 3}', "application/json")
    assert lean.status_code == 200, lean.content[:200]  # the exact right, not ALL


def test_ones_own_user_needs_profile(reader, tenant):
    c = api_as(reader)
    assert_error(c.get(f"/api/user/{reader.pk}"), 403, NO)
    _role = Role.objects.get(tenant=tenant, name="Device reader")
    _role.permissions = {"DEVICE": ["READ"], "PROFILE": ["ALL"]}
    _role.save()
    me = c.get(f"/api/user/{reader.pk}")
    assert me.status_code == 200
    assert c.post("/api/user", {**me.json(), "firstName": "Me"}, format="json").status_code == 200
    assert User.objects.get(pk=reader.pk).first_name == "Me"
    admins = EntityGroup.objects.get(tenant=tenant, type="USER", name="Tenant Administrators")
    assert_error(c.post(f"/api/user?entityGroupId={admins.pk}", me.json(), format="json"), 403, NO)
    assert not admins.users.filter(pk=reader.pk).exists()


def test_the_debug_events_websocket_needs_read_of_the_entity(reader, tenant, tenant_admin):
    from converters.models import Converter
    from integrations import consumers

    converter = Converter.objects.create(tenant=tenant, name="c", type="UPLINK", configuration={})
    authorise = consumers._authorise.func  # the sync body of the database_sync_to_async wrapper
    assert authorise({"user": reader}, "CONVERTER", str(converter.pk)) == consumers.FORBIDDEN
    assert authorise({"user": tenant_admin}, "CONVERTER", str(converter.pk)) is None
    role = Role.objects.get(tenant=tenant, name="Device reader")
    role.permissions = {"CONVERTER": ["READ"]}
    role.save()
    assert authorise({"user": reader}, "CONVERTER", str(converter.pk)) is None
