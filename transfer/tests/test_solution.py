"""ThingsBoard PE 4.4's solution export/import (``/api/solution/export|import|validate``): a small solution
made through the API in one tenant, exported, imported into another tenant with its references remapped,
imported again without duplicates, validated, and refused where it should be."""

import copy

import pytest
from tb_pe_client.models import SolutionImportResult, SolutionValidationResult

from dashboards.models import Dashboard
from devices.models import Asset, Attribute, Device, DeviceProfile, EntityRelation
from rulechains.models import RuleChain
from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as
from tbproject.testing.limits import limit_tenant
from transfer.models import ExternalId
from transfer.vc import entities
from transfer.vc.calls import CallError

pytestmark = pytest.mark.django_db

CHAIN_INPUT = "org.thingsboard.rule.engine.flow.TbRuleChainInputNode"
NO_SETTINGS_CREDENTIALS = {"exportRelations": True, "exportAttributes": True, "exportCredentials": False}


def ok(res):
    assert res.status_code == 200, res.content[:800]
    return res.json() if res.content else None


def make_solution(api) -> dict:
    """A device profile with its rule chain and dashboard, two devices with attributes, an asset that contains
    them, and a second rule chain the first one calls (by a bare id in a node's configuration)."""
    profile = ok(api.post("/api/deviceProfile", {"name": "Thermometers"}, format="json"))
    t1 = ok(api.post("/api/device", {"name": "t-1", "deviceProfileId": profile["id"]}, format="json"))
    t2 = ok(api.post("/api/device", {"name": "t-2", "deviceProfileId": profile["id"]}, format="json"))
    asset = ok(api.post("/api/asset", {"name": "Building", "type": "building"}, format="json"))
    alarms = ok(api.post("/api/ruleChain", {"name": "Alarms"}, format="json"))
    main = ok(api.post("/api/ruleChain", {"name": "Thermo main"}, format="json"))
    node = {"type": CHAIN_INPUT, "name": "to alarms", "configuration": {"ruleChainId": alarms["id"]["id"]}}
    ok(api.post("/api/ruleChain/metadata", {"ruleChainId": main["id"], "firstNodeIndex": 0, "nodes": [node],
                                            "connections": []}, format="json"))
    aliases = {"a1": {"id": "a1", "alias": "one", "filter": {"type": "singleEntity", "singleEntity": t1["id"]}},
               "a2": {"id": "a2", "alias": "all", "filter": {"type": "entityList", "entityType": "DEVICE",
                                                             "entityList": [t1["id"]["id"], t2["id"]["id"]]}}}
    dashboard = ok(api.post("/api/dashboard", {"title": "Plant", "configuration": {"entityAliases": aliases,
                                                                                   "widgets": {}}}, format="json"))
    profile = ok(api.post("/api/deviceProfile", {**profile, "defaultRuleChainId": main["id"],
                                                 "defaultDashboardId": dashboard["id"]}, format="json"))
    t1_id = t1["id"]["id"]
    ok(api.post(f"/api/plugins/telemetry/DEVICE/{t1_id}/attributes/SERVER_SCOPE",
                {"floor": 3, "cfg": {"mode": "eco"}}, format="json"))
    ok(api.post(f"/api/plugins/telemetry/DEVICE/{t1_id}/attributes/SHARED_SCOPE", {"target": 21.5}, format="json"))
    for device in (t1, t2):
        ok(api.post("/api/relation", {"from": asset["id"], "to": device["id"], "type": "Contains",
                                      "typeGroup": "COMMON"}, format="json"))
    return {"DEVICE_PROFILE": profile, "t1": t1, "t2": t2, "ASSET": asset, "alarms": alarms, "main": main,
            "DASHBOARD": dashboard}


def export(api, made, settings=NO_SETTINGS_CREDENTIALS, **extra) -> dict:
    ids = [made[k]["id"] for k in ("DEVICE_PROFILE", "t1", "t2", "ASSET", "alarms", "main", "DASHBOARD")]
    return ok(api.post("/api/solution/export", {"internalIds": ids, "settings": settings, **extra}, format="json"))


def counts(tenant) -> dict:
    return {model.__name__: model.objects.filter(tenant=tenant).count()
            for model in (Device, DeviceProfile, Asset, RuleChain, Dashboard, EntityRelation)}


def test_it_exports_a_solution_grouped_by_type_that_the_client_models_read(api):
    made = make_solution(api)
    # t-1 again by its external id (its own id: it was made here): once in the solution
    answer = export(api, made, externalIds=[made["t1"]["id"]])
    entities = answer["solution"]["entities"]
    assert {k: len(v) for k, v in entities.items()} == {"RULE_CHAIN": 2, "DASHBOARD": 1, "DEVICE_PROFILE": 1,
                                                        "ASSET": 1, "DEVICE": 2}
    t1 = next(d for d in entities["DEVICE"] if d["entity"]["name"] == "t-1")
    assert t1["entityType"] == "DEVICE" and "credentials" not in t1
    server = {a["key"]: a for a in t1["attributes"]["SERVER_SCOPE"]}
    assert server["floor"]["longValue"] == 3 and server["cfg"]["jsonValue"] == '{"mode": "eco"}'
    assert t1["attributes"]["SHARED_SCOPE"][0]["doubleValue"] == 21.5
    assert {r["type"] for r in t1["relations"]} == {"Contains"}
    main = next(c for c in entities["RULE_CHAIN"] if c["entity"]["name"] == "Thermo main")
    assert main["metaData"]["nodes"][0]["configuration"]["ruleChainId"] == made["alarms"]["id"]["id"]
    # the asset's profile is left out: said so, with its name
    assert any("ASSET 'Building' references ASSET_PROFILE 'building'" in w for w in answer["warnings"]), answer
    # (the client's models read all of it: tests/test_tb_client_solution.py)

    with_credentials = export(api, made, settings=None)["solution"]["entities"]["DEVICE"][0]
    assert with_credentials["credentials"]["credentialsType"] == "ACCESS_TOKEN"
    assert with_credentials["credentials"]["deviceId"] == made["t1"]["id"]


def test_it_imports_into_another_tenant_with_references_remapped_and_again_without_duplicates(
        api, mallory_api, other_tenant):
    made = make_solution(api)
    solution = export(api, made)["solution"]
    result = ok(mallory_api.post("/api/solution/import", solution, format="json"))
    assert SolutionImportResult.from_dict(result).success is True
    assert result["created"] == {"RULE_CHAIN": 2, "DASHBOARD": 1, "DEVICE_PROFILE": 1, "ASSET": 1, "DEVICE": 2}
    mapping = result["idMapping"]
    new = {key: mapping[made[key]["id"]["id"]] for key in made}
    assert not set(new.values()) & {made[k]["id"]["id"] for k in made}  # new ids everywhere

    profile = ok(mallory_api.get(f"/api/deviceProfile/{new['DEVICE_PROFILE']}"))
    assert profile["defaultRuleChainId"]["id"] == new["main"]
    assert profile["defaultDashboardId"]["id"] == new["DASHBOARD"]
    for key in ("t1", "t2"):
        device = ok(mallory_api.get(f"/api/device/{new[key]}"))
        assert device["deviceProfileId"]["id"] == new["DEVICE_PROFILE"] and device["type"] == "Thermometers"
    aliases = ok(mallory_api.get(f"/api/dashboard/{new['DASHBOARD']}"))["configuration"]["entityAliases"]
    assert aliases["a1"]["filter"]["singleEntity"] == {"entityType": "DEVICE", "id": new["t1"]}
    assert aliases["a2"]["filter"]["entityList"] == [new["t1"], new["t2"]]
    nodes = ok(mallory_api.get(f"/api/ruleChain/{new['main']}/metadata"))["nodes"]
    assert nodes[0]["configuration"]["ruleChainId"] == new["alarms"]
    attributes = ok(mallory_api.get(f"/api/plugins/telemetry/DEVICE/{new['t1']}/values/attributes/SERVER_SCOPE"))
    assert {a["key"]: a["value"] for a in attributes} == {"floor": 3, "cfg": {"mode": "eco"}}
    assert sorted(str(r.to_id) for r in EntityRelation.objects.filter(tenant=other_tenant, type="Contains")) == \
        sorted([new["t1"], new["t2"]])
    assert all(str(r.from_id) == new["ASSET"] for r in EntityRelation.objects.filter(tenant=other_tenant))
    # the asset's profile was not in the solution: the asset gets the one of its type here
    assert ok(mallory_api.get(f"/api/asset/{new['ASSET']}"))["type"] == "building"

    counts = (Device.objects.filter(tenant=other_tenant).count(), RuleChain.objects.filter(tenant=other_tenant).count(),
              EntityRelation.objects.filter(tenant=other_tenant).count())
    again = ok(mallory_api.post("/api/solution/import", solution, format="json"))
    assert again["created"] == {} and again["idMapping"] == mapping
    assert (Device.objects.filter(tenant=other_tenant).count(), RuleChain.objects.filter(tenant=other_tenant).count(),
            EntityRelation.objects.filter(tenant=other_tenant).count()) == counts
    # the imported entities export with the solution's ids (their external ids, by which they are found too),
    # bare ids in aliases and rule nodes included, so a round trip is stable
    back = ok(mallory_api.post("/api/solution/export", {
        "externalIds": [made[k]["id"] for k in ("t1", "t2", "main")],
        "internalIds": [{"entityType": "DASHBOARD", "id": new["DASHBOARD"]}]}, format="json"))["solution"]["entities"]
    assert [d["entity"]["id"]["id"] for d in back["DEVICE"]] == [made["t1"]["id"]["id"], made["t2"]["id"]["id"]]
    assert back["DASHBOARD"][0]["entity"]["configuration"]["entityAliases"]["a2"][
        "filter"]["entityList"] == [made["t1"]["id"]["id"], made["t2"]["id"]["id"]]
    assert back["RULE_CHAIN"][0]["metaData"]["nodes"][0]["configuration"]["ruleChainId"] == made["alarms"]["id"]["id"]
    # the main chain alone: its node's bare id names the alarms chain this tenant imported before, not in this one
    main_only = {"entities": {"RULE_CHAIN": [c for c in solution["entities"]["RULE_CHAIN"]
                                             if c["entity"]["name"] == "Thermo main"]}}
    ok(mallory_api.post("/api/ruleChain/metadata", {"ruleChainId": {"entityType": "RULE_CHAIN", "id": new["main"]},
                                                    "nodes": [], "connections": []}, format="json"))
    assert ok(mallory_api.post("/api/solution/import", main_only, format="json"))["created"] == {}
    nodes = ok(mallory_api.get(f"/api/ruleChain/{new['main']}/metadata"))["nodes"]
    assert nodes[0]["configuration"]["ruleChainId"] == new["alarms"]
    # into the tenant it came from: every entity updates itself
    assert ok(api.post("/api/solution/import", solution, format="json"))["created"] == {}


def test_credentials_travel_only_when_exported_and_never_onto_a_taken_token(api, mallory_api, other_tenant):
    made = make_solution(api)
    token = ok(api.get(f"/api/device/{made['t1']['id']['id']}/credentials"))["credentialsId"]
    without = export(api, made)["solution"]
    with_credentials = export(api, made, settings=None)["solution"]
    res = mallory_api.post("/api/solution/import", with_credentials, format="json")
    assert "t-1': its credentials are another device's" in assert_error(res, 409)["message"]
    assert not Device.objects.filter(tenant=other_tenant).exists()
    for key in ("t1", "t2"):
        assert api.delete(f"/api/device/{made[key]['id']['id']}").status_code == 200
    ids = ok(mallory_api.post("/api/solution/import", with_credentials, format="json"))["idMapping"]
    assert ok(mallory_api.get(f"/api/device/{ids[made['t1']['id']['id']]}/credentials"))["credentialsId"] == token
    # exported without them, a device made again where it was deleted gets a token of its own
    devices = {"entities": {"DEVICE": without["entities"]["DEVICE"]}}
    again = ok(api.post("/api/solution/import", devices, format="json"))
    assert again["created"] == {"DEVICE": 2}
    assert ok(api.get(f"/api/device/{again['idMapping'][made['t1']['id']['id']]}/credentials"))["credentialsId"] \
        not in (token, None)


def test_validate_reports_missing_dependencies_and_conflicts_and_writes_nothing(api, mallory_api, other_tenant):
    made = make_solution(api)
    solution = export(api, made)["solution"]
    devices_only = {"entities": {"DEVICE": solution["entities"]["DEVICE"]}}
    result = ok(mallory_api.post("/api/solution/validate", devices_only, format="json"))
    assert SolutionValidationResult.from_dict(result).valid is True
    assert result["entitySummary"] == {"DEVICE": 2} and result["conflicts"] == []
    profile_id = made["DEVICE_PROFILE"]["id"]["id"]
    assert f"DEVICE 't-1' references DEVICE_PROFILE {profile_id}, which is neither in the solution nor in this " \
           "tenant: it is imported without that reference" in result["warnings"]
    assert any("'Contains' relation with ASSET" in w for w in result["warnings"])
    assert not Device.objects.filter(tenant=other_tenant).exists()

    ok(mallory_api.post("/api/device", {"name": "t-2"}, format="json"))
    clash = ok(mallory_api.post("/api/solution/validate", solution, format="json"))
    assert clash["valid"] is False
    assert any(c.startswith("DEVICE 't-2': this tenant has another device of that name") for c in clash["conflicts"])
    assert not any("DEVICE_PROFILE" in w for w in clash["warnings"])  # the profile is in this solution
    res = mallory_api.post("/api/solution/import", solution, format="json")
    assert "this tenant has another device of that name" in assert_error(res, 409)["message"]
    assert Device.objects.filter(tenant=other_tenant).count() == 1
    assert not DeviceProfile.objects.filter(tenant=other_tenant, name="Thermometers").exists()

    broken = copy.deepcopy(devices_only)
    broken["entities"]["WIDGET_TYPE"] = []
    del broken["entities"]["DEVICE"][1]["entity"]["id"]
    checked = ok(mallory_api.post("/api/solution/validate", broken, format="json"))
    assert checked["valid"] is False and len(checked["conflicts"]) == 2
    assert any("Unsupported entity type WIDGET_TYPE" in c for c in checked["conflicts"])
    assert any(c.startswith("entities.DEVICE[1]: entity.id must be") for c in checked["conflicts"])


def test_another_tenants_ids_are_not_found_and_bad_requests_are_400(api, mallory_api):
    made = make_solution(api)
    theirs = made["t1"]["id"]
    for key in ("internalIds", "externalIds"):
        res = mallory_api.post("/api/solution/export", {key: [theirs]}, format="json")
        assert assert_error(res, 404)["message"].startswith("DEVICE ")
    unknown = {"entityType": "DEVICE", "id": "6e1f4b1c-0000-4000-8000-000000000001"}
    assert_error(mallory_api.post("/api/solution/export", {"internalIds": [unknown]}, format="json"), 404)
    for body in ({}, {"internalIds": [], "externalIds": []}, {"internalIds": None}):
        res = api.post("/api/solution/export", body, format="json")
        assert_error(res, 400, "At least one of 'internalIds' or 'externalIds' must be non-empty")
    assert_error(api.post("/api/solution/export", [theirs], format="json"), 400, "SolutionExportRequest")
    assert_error(api.post("/api/solution/export", {"internalIds": [{"entityType": "TENANT", "id": theirs["id"]}]},
                          format="json"), 400, "TENANT cannot be exported")
    assert_error(api.post("/api/solution/export", {"internalIds": [{"entityType": "DEVICE", "id": "nope"}]},
                          format="json"), 400, "Invalid UUID string")
    assert_error(api.post("/api/solution/export", {"internalIds": [theirs], "settings": {"exportRelations": "yes"}},
                          format="json"), 400, "settings.exportRelations")


def test_a_malformed_solution_is_a_400_and_a_failing_one_writes_nothing(api, mallory_api, other_tenant, monkeypatch):
    for body in ([], {"entities": []}, {"entities": {}}, {"entities": {"DEVICE": "x"}}, {"entities": {"DEVICE": [1]}},
                 {"entities": {"DEVICE": [{"entityType": "DEVICE", "entity": {"name": "x"}}]}}):
        for path in ("/api/solution/import", "/api/solution/validate"):
            res = mallory_api.post(path, body, format="json")
            if res.status_code == 200:  # validate answers what is wrong inside a solution
                assert path.endswith("validate") and res.json()["valid"] is False, (body, res.json())
            else:
                assert_error(res, 400)
    res = mallory_api.post("/api/solution/import", b"{not json", content_type="application/json")
    assert_error(res, 400)

    made = make_solution(api)
    solution = export(api, made)["solution"]
    unknown = copy.deepcopy(solution)
    chain = next(c for c in unknown["entities"]["RULE_CHAIN"] if c["entity"]["name"] == "Thermo main")
    chain["metaData"]["nodes"].append({"type": "org.example.NoSuchNode", "name": "bad", "configuration": {}})
    checked = ok(mallory_api.post("/api/solution/validate", unknown, format="json"))
    assert "unsupported rule node type org.example.NoSuchNode" in checked["conflicts"][0]
    assert_error(mallory_api.post("/api/solution/import", unknown, format="json"), 400, "org.example.NoSuchNode")

    # a connection to a node that is not there: the rule chain endpoint refuses it once everything else was saved
    chain = next(c for c in solution["entities"]["RULE_CHAIN"] if c["entity"]["name"] == "Thermo main")
    chain["metaData"]["connections"] = [{"fromIndex": 0, "toIndex": 7, "type": "Success"}]
    before = (counts(other_tenant), Attribute.objects.count(), ExternalId.objects.filter(tenant=other_tenant).count())
    assert ok(mallory_api.post("/api/solution/validate", solution, format="json"))["valid"] is True
    res = mallory_api.post("/api/solution/import", solution, format="json")
    assert "RULE_CHAIN 'Thermo main': " in assert_error(res, 400)["message"]
    assert (counts(other_tenant), Attribute.objects.count(),
            ExternalId.objects.filter(tenant=other_tenant).count()) == before

    # the last step, the relations, refused (after every entity, its attributes and external id were saved)
    def refuse(user, data):
        raise CallError(400, "relation refused")

    monkeypatch.setattr(entities, "import_relations", refuse)
    res = mallory_api.post("/api/solution/import", export(api, made)["solution"], format="json")
    assert "relations: relation refused" in assert_error(res, 400)["message"]
    assert (counts(other_tenant), Attribute.objects.count(),
            ExternalId.objects.filter(tenant=other_tenant).count()) == before


def test_entity_limits_hold_on_import(api, mallory_api, other_tenant):
    made = make_solution(api)
    solution = export(api, made)["solution"]
    limit_tenant(other_tenant, maxDevices=1)
    checked = ok(mallory_api.post("/api/solution/validate", solution, format="json"))
    assert checked["valid"] is False
    assert "Devices limit reached: the solution creates 2, this tenant has 0 of 1" in checked["conflicts"]
    assert_error(mallory_api.post("/api/solution/import", solution, format="json"), 400, "Devices limit reached")
    assert not Device.objects.filter(tenant=other_tenant).exists()


def test_only_tenant_administrators_with_version_control_write(api, customer_api, tenant):
    from devices.models import EntityGroup
    from roles.models import GroupPermission, Role
    from tenants.choices import Authority
    from tenants.models import User

    made = make_solution(api)
    body = {"internalIds": [made["t1"]["id"]]}
    solution = export(api, made)["solution"]
    for path, payload in (("export", body), ("import", solution), ("validate", solution)):
        assert_error(customer_api.post(f"/api/solution/{path}", payload, format="json"), 403)

    reader = User.objects.create_user("vc-reader@example.com", authority=Authority.TENANT_ADMIN, tenant=tenant)
    EntityGroup.objects.get(tenant=tenant, type="USER", name="Tenant Administrators").users.remove(reader)
    group = EntityGroup.objects.create(tenant=tenant, type="USER", name="VC readers")
    group.users.add(reader)
    role = Role.objects.create(tenant=tenant, name="VC reader", type="GENERIC",
                               permissions={"VERSION_CONTROL": ["READ"], "DEVICE": ["READ"]})
    GroupPermission.objects.create(tenant=tenant, role=role, user_group=group)
    client = api_as(reader)
    for path, payload in (("export", body), ("import", solution), ("validate", solution)):
        assert_error(client.post(f"/api/solution/{path}", payload, format="json"), 403)
