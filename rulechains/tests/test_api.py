"""The rule chain REST API at ThingsBoard's paths: CRUD, PageData, metadata, root, import/export."""

import copy
import uuid

import pytest

from rulechains import nodes
from rulechains.models import RuleChain, RuleNode
from rulechains.tests.helpers import DOWNLINK_EXAMPLE, chain_json, node
from tbproject.testing.api import assert_error, page_names


def create(api, name="Chain A", **extra):
    res = api.post("/api/ruleChain", {"name": name, **extra}, format="json")
    assert res.status_code == 200, res.content
    return res.json()


def metadata_of(api, chain_id):
    res = api.get(f"/api/ruleChain/{chain_id}/metadata")
    assert res.status_code == 200, res.content
    return res.json()


def test_it_creates_gets_updates_and_deletes_a_chain(api, tenant):
    body = create(api, "Downlinks", debugMode=True)
    assert body["id"]["entityType"] == "RULE_CHAIN" and body["type"] == "CORE" and body["root"] is False
    assert body["tenantId"]["id"] == str(tenant.pk) and body["firstRuleNodeId"] is None and body["debugMode"] is True
    chain_id = body["id"]["id"]
    assert api.get(f"/api/ruleChain/{chain_id}").json()["name"] == "Downlinks"
    body["name"] = "Downlinks 2"
    body["root"] = True  # ignored: the root changes through /root only
    updated = api.post("/api/ruleChain", body, format="json").json()
    assert updated["name"] == "Downlinks 2" and updated["root"] is False and updated["version"] == body["version"] + 1
    assert api.delete(f"/api/ruleChain/{chain_id}").status_code == 200
    assert_error(api.get(f"/api/ruleChain/{chain_id}"), 404)


def test_it_refuses_a_chain_without_a_name(api):
    assert_error(api.post("/api/ruleChain", {"type": "CORE"}, format="json"), 400, "name should be specified")


def test_it_pages_chains_with_text_search_and_sorting(api, tenant):
    for name in ("Beta", "Alpha", "Alps"):
        create(api, name)
    res = api.get("/api/ruleChains?pageSize=2&page=0&sortProperty=name&sortOrder=ASC")
    body = res.json()
    assert body["totalElements"] == 4 and body["hasNext"] is True and body["totalPages"] == 2
    assert [r["name"] for r in body["data"]] == ["Alpha", "Alps"]
    assert page_names(api.get("/api/ruleChains?pageSize=10&page=0&textSearch=AL&sortProperty=name")) == [
        "Alpha", "Alps"]
    assert page_names(api.get("/api/ruleChains?pageSize=10&page=0&textSearch=Root")) == ["Root Rule Chain"]


def test_every_tenant_starts_with_a_root_chain_that_cannot_be_deleted(api, tenant):
    [root] = api.get("/api/ruleChains?pageSize=10&page=0").json()["data"]
    assert root["root"] is True and root["name"] == "Root Rule Chain" and root["firstRuleNodeId"]["entityType"] == \
        "RULE_NODE"
    assert_error(api.delete(f"/api/ruleChain/{root['id']['id']}"), 400, "Root Tenant Rule Chain")
    meta = metadata_of(api, root["id"]["id"])
    assert meta["ruleChainConnections"] == [] and meta["nodes"][meta["firstNodeIndex"]]["type"] == nodes.SWITCH
    relations = {(c["type"], meta["nodes"][c["toIndex"]]["type"]) for c in meta["connections"]}
    assert ("Post telemetry", nodes.SAVE_TIMESERIES) in relations
    assert ("Post attributes", nodes.SAVE_ATTRIBUTES) in relations


def test_it_moves_the_root_to_another_chain(api, tenant):
    old_root = RuleChain.objects.get(tenant=tenant, root=True)
    chain = create(api, "New root")
    res = api.post(f"/api/ruleChain/{chain['id']['id']}/root")
    assert res.status_code == 200 and res.json()["root"] is True
    old_root.refresh_from_db()
    assert old_root.root is False
    assert list(RuleChain.objects.filter(tenant=tenant, root=True).values_list("name", flat=True)) == ["New root"]


def test_another_tenants_chain_is_not_found(api, mallory_api, other_tenant):
    foreign = RuleChain.objects.get(tenant=other_tenant, root=True)
    before = foreign.version
    for res in (api.get(f"/api/ruleChain/{foreign.pk}"), api.delete(f"/api/ruleChain/{foreign.pk}"),
                api.get(f"/api/ruleChain/{foreign.pk}/metadata"), api.post(f"/api/ruleChain/{foreign.pk}/root"),
                api.get(f"/api/ruleChain/{foreign.pk}/export"),
                api.post("/api/ruleChain", {"id": {"entityType": "RULE_CHAIN", "id": str(foreign.pk)}, "name": "x"},
                         format="json"),
                api.post("/api/ruleChain/metadata", {"ruleChainId": {"id": str(foreign.pk)}, "nodes": [],
                                                     "connections": []}, format="json")):
        assert_error(res, 404)
    foreign.refresh_from_db()
    assert foreign.version == before and foreign.nodes.count() == 6  # the default root chain
    assert "Root Rule Chain" not in page_names(api.get("/api/ruleChains?pageSize=10&page=0&textSearch=Mall"))


def test_customer_users_have_no_access(customer_api):
    assert_error(customer_api.get("/api/ruleChains?pageSize=10&page=0"), 403)


def test_it_saves_and_reads_metadata_keeping_node_ids_posted_back(api, tenant):
    chain_id = create(api)["id"]["id"]
    meta = copy.deepcopy(DOWNLINK_EXAMPLE["metadata"])
    meta["ruleChainId"] = {"entityType": "RULE_CHAIN", "id": chain_id}
    res = api.post("/api/ruleChain/metadata", meta, format="json")
    assert res.status_code == 200, res.content
    saved = res.json()
    assert saved["firstNodeIndex"] == 2 and len(saved["nodes"]) == 9 and saved["ruleChainConnections"] == []
    assert [n["name"] for n in saved["nodes"]] == [n["name"] for n in meta["nodes"]]
    first_id = saved["nodes"][2]["id"]["id"]
    assert api.get(f"/api/ruleChain/{chain_id}").json()["firstRuleNodeId"]["id"] == first_id
    # post it back with one node fewer: the others keep their ids
    saved["nodes"].pop(0)
    saved["connections"] = [{**c, "fromIndex": c["fromIndex"] - 1, "toIndex": c["toIndex"] - 1}
                            for c in saved["connections"] if c["toIndex"] != 0]
    saved["firstNodeIndex"] = 1
    again = api.post("/api/ruleChain/metadata", saved, format="json").json()
    assert again["nodes"][1]["id"]["id"] == first_id and len(again["nodes"]) == 8
    assert RuleNode.objects.filter(rule_chain_id=chain_id).count() == 8


@pytest.mark.parametrize("change, message", [
    (lambda m: m["nodes"].append(node("org.thingsboard.rule.engine.edge.TbMsgPushToEdgeNode", "Relate")),
     "Unsupported rule node type: org.thingsboard.rule.engine.edge.TbMsgPushToEdgeNode (node 'Relate')"),
    (lambda m: m["connections"].append({"fromIndex": 2, "toIndex": 42, "type": "Success"}), "does not exist"),
    (lambda m: m.update(firstNodeIndex=12), "firstNodeIndex 12"),
    (lambda m: m["nodes"][8]["configuration"].update(jsScript="return msg.;"), "does not compile"),
    (lambda m: m["nodes"][8]["configuration"].update(scriptLang="TBEL"), "tbelScript must be a non-empty"),
    (lambda m: m["nodes"][5]["configuration"].update(integrationId="nope"), "integrationId"),
    (lambda m: m.update(ruleChainConnections=[{"fromIndex": 0}]), "targetRuleChainId"),
    (lambda m: m.update(ruleChainConnections=[{"fromIndex": 99, "targetRuleChainId": {"id": str(uuid.uuid4())},
                                               "type": "Success"}]), "fromIndex 99"),
    (lambda m: m.update(ruleChainConnections="x"), "ruleChainConnections must be a list"),
    (lambda m: m.update(nodes="x"), "nodes must be a list"),
])
def test_it_refuses_metadata_it_cannot_run_and_changes_nothing(api, tenant, change, message):
    chain_id = create(api)["id"]["id"]
    meta = copy.deepcopy(DOWNLINK_EXAMPLE["metadata"])
    meta["ruleChainId"] = {"id": chain_id}
    change(meta)
    assert_error(api.post("/api/ruleChain/metadata", meta, format="json"), 400, message)
    assert RuleNode.objects.filter(rule_chain_id=chain_id).count() == 0


def test_legacy_rule_chain_connections_become_rule_chain_nodes_as_thingsboard_saves_them(api, tenant):
    target = create(api, name="Target chain")["id"]["id"]
    chain_id = create(api)["id"]["id"]
    meta = copy.deepcopy(DOWNLINK_EXAMPLE["metadata"])
    meta["ruleChainId"] = {"id": chain_id}
    count = len(meta["nodes"])
    layout = {"layoutX": 500, "layoutY": 300, "ruleChainNodeId": "rule-chain-node-9", "description": ""}
    meta["ruleChainConnections"] = [{"fromIndex": 0, "targetRuleChainId": {"entityType": "RULE_CHAIN", "id": target},
                                     "additionalInfo": layout, "type": "Other"}]
    saved = api.post("/api/ruleChain/metadata", meta, format="json")
    assert saved.status_code == 200, saved.content
    saved = saved.json()
    assert saved["ruleChainConnections"] == [] and len(saved["nodes"]) == count + 1
    link = saved["nodes"][count]
    assert (link["type"], link["name"], link["configuration"]["ruleChainId"]) == (
        "org.thingsboard.rule.engine.flow.TbRuleChainInputNode", "Target chain", target)
    assert link["additionalInfo"] == {"layoutX": 500, "layoutY": 300}
    assert {"fromIndex": 0, "toIndex": count, "type": "Other"} in saved["connections"]


def test_it_imports_and_exports_thingsboards_downlink_example_round_trip(api, tenant):
    res = api.post("/api/ruleChain/import", DOWNLINK_EXAMPLE, format="json")
    assert res.status_code == 200, res.content
    imported = res.json()
    assert imported["ruleChain"]["name"] == "Downlink Example Rule Chain" and imported["ruleChain"]["root"] is False
    exported = api.get(f"/api/ruleChain/{imported['ruleChain']['id']['id']}/export").json()
    assert exported == imported

    def shape(data):
        meta = data["metadata"]
        return (data["ruleChain"]["name"], meta["firstNodeIndex"],
                [(n["type"], n["name"], n["debugMode"], n["configuration"], n["additionalInfo"])
                 for n in meta["nodes"]],
                sorted((c["fromIndex"], c["toIndex"], c["type"]) for c in meta["connections"]))

    assert shape(exported) == shape(DOWNLINK_EXAMPLE)
    # and the export imports again as a second chain
    second = api.post("/api/ruleChain/import", exported, format="json").json()
    assert second["ruleChain"]["id"] != exported["ruleChain"]["id"] and shape(second) == shape(DOWNLINK_EXAMPLE)


def test_an_import_with_an_unsupported_node_creates_nothing(api, tenant):
    data = chain_json("Bad", [node(nodes.SWITCH), node("org.example.MyNode", "Mine")], [(0, 1, "Other")])
    assert_error(api.post("/api/ruleChain/import", data, format="json"), 400, "org.example.MyNode (node 'Mine')")
    assert not RuleChain.objects.filter(tenant=tenant, name="Bad").exists()


def test_thingsboards_bulk_export_and_import_round_trip(api, tenant):
    api.post("/api/ruleChain/import", DOWNLINK_EXAMPLE, format="json")
    exported = api.get("/api/ruleChains/export?limit=10").json()
    assert sorted(c["name"] for c in exported["ruleChains"]) == ["Downlink Example Rule Chain", "Root Rule Chain"]
    assert {m["ruleChainId"]["id"] for m in exported["metadata"]} == {c["id"]["id"] for c in exported["ruleChains"]}
    results = api.post("/api/ruleChains/import?overwrite=true", exported, format="json").json()
    assert sorted((r["ruleChainName"], r["updated"], r["error"]) for r in results) == [
        ("Downlink Example Rule Chain", True, None), ("Root Rule Chain", True, None)]
    assert RuleChain.objects.filter(tenant=tenant).count() == 2
    assert RuleChain.objects.get(tenant=tenant, name="Root Rule Chain").root is True  # kept, not changed by import
    exported["metadata"][0]["nodes"].append(node("org.example.Nope", "nope"))
    results = api.post("/api/ruleChains/import", exported, format="json").json()
    failed = [r for r in results if r["error"]]
    assert len(failed) == 1 and "org.example.Nope" in failed[0]["error"] and failed[0]["ruleChainId"] is None
    assert RuleChain.objects.filter(tenant=tenant).count() == 3
    assert_error(api.get("/api/ruleChains/export?limit=x"), 400, "limit")


def test_node_secrets_are_write_only(api, tenant):
    mqtt = node(nodes.MQTT, "publish", topicPattern="t", host="127.0.0.1",
                credentials={"type": "basic", "username": "u", "password": "s3cr3t-rule-node"})
    rest = node(nodes.REST_API_CALL, "call", restEndpointUrlPattern="http://127.0.0.1:9/x",
                credentials={"type": "basic", "username": "u", "password": "s3cr3t-rest"})
    res = api.post("/api/ruleChain/import", chain_json("Secrets", [mqtt, rest], []), format="json")
    assert res.status_code == 200 and "s3cr3t" not in res.content.decode()
    chain_id = res.json()["ruleChain"]["id"]["id"]
    for url in (f"/api/ruleChain/{chain_id}/metadata", f"/api/ruleChain/{chain_id}/export",
                "/api/ruleChains/export?limit=9"):
        body = api.get(url).content.decode()
        assert "s3cr3t" not in body and "******" in body, url
    metadata = api.get(f"/api/ruleChain/{chain_id}/metadata").json()
    metadata["nodes"][0]["configuration"]["topicPattern"] = "changed"
    saved = api.post("/api/ruleChain/metadata", metadata, format="json")
    assert saved.status_code == 200, saved.content
    stored = {n.name: n.configuration for n in RuleNode.objects.filter(rule_chain_id=chain_id)}
    assert stored["publish"]["credentials"]["password"] == "s3cr3t-rule-node"
    assert stored["publish"]["topicPattern"] == "changed" and stored["call"]["credentials"]["password"] == "s3cr3t-rest"
    copied = api.get(f"/api/ruleChain/{chain_id}/export").json()  # masked: importing it as a new chain cannot work
    assert_error(api.post("/api/ruleChain/import", copied, format="json"), 400, "enter it again")
