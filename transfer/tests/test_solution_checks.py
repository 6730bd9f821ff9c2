"""The solution import's checks and costs (transfer/solution/): relations checked as the relation API checks them,
JSON nested too deeply, queries per entity bounded, rule-engine messages only after commit, export warnings
naming only what the caller may read, derived credentials ids, CLIENT_SCOPE attributes."""

import copy
import json
import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from devices.models import Asset, Device, EntityRelation
from devices.tests.test_device_credentials import PEM
from rulechains import outbox
from rulechains.tasks import process_messages
from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as
from transfer.models import ExternalId
from transfer.tests.test_solution import export, make_solution, ok
from transfer.vc import entities
from transfer.vc.calls import CallError

pytestmark = pytest.mark.django_db

BAD_RELATIONS = [({"type": ""}, "'type' must be a non-empty string"),
                 ({"typeGroup": "BOGUS"}, "Invalid relationTypeGroup: BOGUS"),
                 ({"typeGroup": {"a": 1}}, "Invalid relationTypeGroup"),
                 ({"type": "x" * 300}, "'type' must be at most 255 characters"),
                 ({"additionalInfo": [1, 2]}, "'additionalInfo' must be an object or null")]


def ref(kind: str, pk) -> dict:
    return {"entityType": kind, "id": str(pk)}


def devices_solution(n: int, prefix: str, relations: int = 1) -> dict:
    """An asset and ``n`` devices, each with two attributes and ``relations`` relations from the asset."""
    asset = {"entityType": "ASSET", "entity": {"id": ref("ASSET", uuid.uuid4()), "name": f"{prefix}-site",
                                               "type": "site"}}
    devices = []
    for i in range(n):
        pk = ref("DEVICE", uuid.uuid4())
        devices.append({"entityType": "DEVICE", "entity": {"id": pk, "name": f"{prefix}-{i}", "type": "default"},
                        "attributes": {"SERVER_SCOPE": [{"key": "floor", "longValue": i}],
                                       "SHARED_SCOPE": [{"key": "target", "doubleValue": 20.5}]},
                        "relations": [{"from": asset["entity"]["id"], "to": pk, "type": f"Contains{j}",
                                       "typeGroup": "COMMON"} for j in range(relations)]})
    return {"entities": {"ASSET": [asset], "DEVICE": devices}}


def test_a_relation_the_relation_api_refuses_is_a_400_and_validate_reports_it(api, mallory_api, other_tenant):
    solution = export(api, make_solution(api))["solution"]
    for bad, message in BAD_RELATIONS:
        broken = copy.deepcopy(solution)
        broken["entities"]["DEVICE"][0]["relations"][0].update(bad)
        checked = ok(mallory_api.post("/api/solution/validate", broken, format="json"))
        assert checked["valid"] is False and any(message in c for c in checked["conflicts"]), (bad, checked)
        assert message in assert_error(mallory_api.post("/api/solution/import", broken, format="json"), 400)["message"]
    assert not Device.objects.filter(tenant=other_tenant).exists()
    assert not EntityRelation.objects.filter(tenant=other_tenant).exists()


def test_version_control_checks_relations_the_same_way(tenant_admin):
    device = {"entityType": "DEVICE", "entity": {"id": ref("DEVICE", uuid.uuid4()), "name": "d"}}
    for bad, message in BAD_RELATIONS:
        rel = {"from": ref("ASSET", uuid.uuid4()), "to": device["entity"]["id"], "type": "Contains", **bad}
        assert message in entities.file_problem({**device, "relations": [rel]}, "DEVICE")
        with pytest.raises(CallError) as refused:
            entities.import_relations(tenant_admin, {**device, "relations": [rel]})
        assert refused.value.status == 400 and message in refused.value.message
    assert entities.file_problem({**device, "relations": [{"type": "Contains", "typeGroup": None}]}, "DEVICE") is None


def test_json_nested_too_deeply_is_a_400(mallory_api, other_tenant):
    deep = {}
    for _ in range(600):
        deep = {"a": deep}
    board = {"entityType": "DASHBOARD", "entity": {"id": ref("DASHBOARD", uuid.uuid4()), "title": "Deep",
                                                   "configuration": deep}}
    for path in ("/api/solution/validate", "/api/solution/import"):
        res = mallory_api.post(path, {"entities": {"DASHBOARD": [board]}}, format="json")
        assert_error(res, 400, "nested too deeply")
    assert not ExternalId.objects.filter(tenant=other_tenant).exists()


def _queries(client, path: str, body: dict) -> int:
    with CaptureQueriesContext(connection) as captured:
        ok(client.post(path, body, format="json"))
    return len(captured)


#: queries per more device of an import (22 on SQLite): its save, its credentials' and attributes' rows (two
#: scopes), its external id, its relation, each through the endpoints as the caller. Before the bulk lookups it
#: was 33: each entity's id looked up three times, its name and credentials checked one by one.
PER_DEVICE = 25


def test_queries_per_entity_are_bounded(mallory_api, other_tenant):
    small, large = devices_solution(4, "s"), devices_solution(12, "l")
    ok(mallory_api.post("/api/solution/import", devices_solution(1, "w"), format="json"))  # caches, profile
    assert _queries(mallory_api, "/api/solution/validate", small) == \
        _queries(mallory_api, "/api/solution/validate", large)  # validate: per type, never per entity
    first = _queries(mallory_api, "/api/solution/import", small)
    second = _queries(mallory_api, "/api/solution/import", large)
    assert (second - first) / 8 <= PER_DEVICE, (first, second)
    assert Device.objects.filter(tenant=other_tenant).count() == 17
    # again: each updates itself, found by the one bulk lookup
    assert ok(mallory_api.post("/api/solution/import", large, format="json"))["created"] == {}


def test_solution_caps_are_settings(mallory_api, settings):
    settings.SOLUTION_MAX_ENTITIES = 3
    assert "at most 3 entities" in assert_error(
        mallory_api.post("/api/solution/import", devices_solution(3, "a"), format="json"), 400)["message"]
    settings.SOLUTION_MAX_ENTITIES, settings.SOLUTION_MAX_RELATIONS = 100, 5
    assert "at most 5 relations (6 here)" in assert_error(
        mallory_api.post("/api/solution/import", devices_solution(2, "b", relations=3), format="json"),
        400)["message"]
    settings.SOLUTION_MAX_RELATIONS, settings.SOLUTION_MAX_ATTRIBUTES = 100, 3
    checked = ok(mallory_api.post("/api/solution/validate", devices_solution(2, "c"), format="json"))
    assert "A solution holds at most 3 attributes (4 here)" in checked["conflicts"]
    assert not Asset.objects.filter(name__in=["a-site", "b-site", "c-site"]).exists()


@pytest.fixture
def sent(monkeypatch):
    """The rule-engine messages handed on: to Celery at once (eagerly) or to the outbox's publish (batched)."""
    out = []
    monkeypatch.setattr(process_messages, "delay", lambda payload: out.extend(payload))
    monkeypatch.setattr(process_messages, "apply_async", lambda args, **kw: out.extend(args[0]))
    monkeypatch.setattr(outbox, "publish", lambda items: out.extend(items))
    return out


def test_rule_engine_messages_leave_only_with_a_committed_import(mallory_api, other_tenant, sent,
                                                                 django_capture_on_commit_callbacks):
    failing = devices_solution(2, "f")
    # the rule chain endpoint refuses a connection to a missing node in the last pass, after the devices' attributes
    failing["entities"]["RULE_CHAIN"] = [{"entityType": "RULE_CHAIN", "entity": {
        "id": ref("RULE_CHAIN", uuid.uuid4()), "name": "Broken"}, "metaData": {
        "nodes": [], "connections": [{"fromIndex": 0, "toIndex": 7, "type": "Success"}]}}]
    res = mallory_api.post("/api/solution/import", failing, format="json")
    assert "RULE_CHAIN 'Broken'" in assert_error(res, 400)["message"]
    assert sent == [] and not Device.objects.filter(tenant=other_tenant).exists()

    with django_capture_on_commit_callbacks(execute=True):
        ok(mallory_api.post("/api/solution/import", devices_solution(2, "g"), format="json"))
    assert len([m for m in sent if "ATTRIBUTES_UPDATED" in str(m)]) == 4  # two scopes of two devices


def test_export_warnings_name_only_what_the_caller_may_read(api, tenant):
    from devices.models import EntityGroup
    from roles.models import GroupPermission, Role
    from tenants.choices import Authority
    from tenants.models import User

    made = make_solution(api)
    body = {"internalIds": [made["DEVICE_PROFILE"]["id"]]}
    assert any("RULE_CHAIN 'Thermo main'" in w for w in ok(api.post("/api/solution/export", body,
                                                                    format="json"))["warnings"])
    user = User.objects.create_user("vc-devices@example.com", authority=Authority.TENANT_ADMIN, tenant=tenant)
    EntityGroup.objects.get(tenant=tenant, type="USER", name="Tenant Administrators").users.remove(user)
    group = EntityGroup.objects.create(tenant=tenant, type="USER", name="VC devices")
    group.users.add(user)
    role = Role.objects.create(tenant=tenant, name="VC devices", type="GENERIC",
                               permissions={"VERSION_CONTROL": ["READ", "WRITE"], "DEVICE_PROFILE": ["READ"],
                                            "DASHBOARD": ["READ"]})
    GroupPermission.objects.create(tenant=tenant, role=role, user_group=group)
    warnings = ok(api_as(user).post("/api/solution/export", body, format="json"))["warnings"]
    assert f"DEVICE_PROFILE 'Thermometers' references RULE_CHAIN {made['main']['id']['id']}, which is not in the " \
           "solution" in warnings, warnings
    assert not any("Thermo main" in w for w in warnings)
    assert any("references DASHBOARD 'Plant'" in w for w in warnings)  # readable: named


@pytest.mark.parametrize("kind, value", [
    ("MQTT_BASIC", {"clientId": "c1", "userName": "u1", "password": "p"}),
    ("X509_CERTIFICATE", None)])
def test_derived_credentials_of_another_device_are_a_409(api, mallory_api, other_tenant, kind, value):
    made = make_solution(api)
    creds = {"credentialsType": kind, "credentialsId": None,
             "credentialsValue": PEM if value is None else json.dumps(value)}
    current = ok(api.get(f"/api/device/{made['t1']['id']['id']}/credentials"))
    ok(api.post("/api/device/credentials", {**current, **creds}, format="json"))
    solution = export(api, made, settings=None)["solution"]
    mine = next(d for d in solution["entities"]["DEVICE"] if d["entity"]["name"] == "t-1")
    mine["credentials"]["credentialsId"] = "not-the-derived-one"
    checked = ok(mallory_api.post("/api/solution/validate", solution, format="json"))
    assert any("t-1': its credentials are another device's" in c for c in checked["conflicts"]), checked
    assert "its credentials are another device's" in assert_error(
        mallory_api.post("/api/solution/import", solution, format="json"), 409)["message"]
    assert not Device.objects.filter(tenant=other_tenant).exists()


def test_client_scope_attributes_are_not_imported_and_said_so(mallory_api, other_tenant):
    solution = devices_solution(1, "c")
    solution["entities"]["DEVICE"][0]["attributes"]["CLIENT_SCOPE"] = [{"key": "fw", "strValue": "1.0"}]
    checked = ok(mallory_api.post("/api/solution/validate", solution, format="json"))
    assert "DEVICE 'c-0': its CLIENT_SCOPE attributes are not imported (the device reports them)" in \
        checked["warnings"]
    pk = ok(mallory_api.post("/api/solution/import", solution, format="json"))["idMapping"][
        solution["entities"]["DEVICE"][0]["entity"]["id"]["id"]]
    assert ok(mallory_api.get(f"/api/plugins/telemetry/DEVICE/{pk}/values/attributes/CLIENT_SCOPE")) == []


def test_version_control_write_without_device_write_imports_nothing(tenant):
    from devices.models import EntityGroup
    from roles.models import GroupPermission, Role
    from tenants.choices import Authority
    from tenants.models import User

    user = User.objects.create_user("vc-writer@example.com", authority=Authority.TENANT_ADMIN, tenant=tenant)
    EntityGroup.objects.get(tenant=tenant, type="USER", name="Tenant Administrators").users.remove(user)
    group = EntityGroup.objects.create(tenant=tenant, type="USER", name="VC writers")
    group.users.add(user)
    role = Role.objects.create(tenant=tenant, name="VC writer", type="GENERIC",
                               permissions={"VERSION_CONTROL": ["READ", "WRITE"], "ASSET": ["READ", "WRITE"],
                                            "DEVICE": ["READ"]})
    GroupPermission.objects.create(tenant=tenant, role=role, user_group=group)
    client, solution = api_as(user), devices_solution(2, "v")
    assert ok(client.post("/api/solution/validate", solution, format="json"))["valid"] is True  # a dry run
    res = client.post("/api/solution/import", solution, format="json")
    assert "DEVICE 'v-0': " in assert_error(res, 403)["message"]
    assert not Asset.objects.filter(tenant=tenant).exists() and not Device.objects.filter(tenant=tenant).exists()
    assert not ExternalId.objects.filter(tenant=tenant).exists()
