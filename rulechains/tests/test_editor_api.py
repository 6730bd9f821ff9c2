"""What the rule chain page stands on: the node types as ThingsBoard's ComponentDescriptors, a node
configuration checked on the server, metadata saves refused when the chain changed since it was read
(409), "Test this chain" (a path, nothing stored), and the duration in rule-node debug events."""

import pytest

from converters.models import DebugEvent
from devices.telemetry import latest_many
from rulechains import engine, nodes
from rulechains.components import GROUPS, descriptors
from rulechains.models import RuleChain
from rulechains.nodes import NODES
from rulechains.nodes.base import ConfigError
from rulechains.tests.helpers import events_of, install_root, msg, node
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_device

pytestmark = pytest.mark.django_db

#: types whose defaults cannot run until the user names something of theirs (an integration, a chain)
NEEDS_A_REFERENCE = {nodes.INTEGRATION_DOWNLINK, nodes.RULE_CHAIN_INPUT,
                     "org.thingsboard.rule.engine.filter.TbCheckRelationNode",  # checkForSingleEntity, no entity
                     # a cloud account's credentials (ThingsBoard's defaults leave them empty)
                     "org.thingsboard.rule.engine.aws.sns.TbSnsNode", "org.thingsboard.rule.engine.aws.sqs.TbSqsNode",
                     "org.thingsboard.rule.engine.gcp.pubsub.TbPubSubNode",
                     "org.thingsboard.rule.engine.ai.TbAiNode"}  # an AI model of the tenant's (ai/)
FIELD_KINDS = {"text", "secret", "number", "bool", "select", "script", "list", "json"}


def create_chain(api, name="Edited", metadata=None) -> dict:
    chain = api.post("/api/ruleChain", {"name": name}, format="json").json()
    if metadata is not None:
        body = {**metadata, "ruleChainId": chain["id"]}
        res = api.post("/api/ruleChain/metadata", body, format="json")
        assert res.status_code == 200, res.content
    return chain


def test_it_describes_every_node_type_of_the_table_in_thingsboards_groups(api):
    res = api.get("/api/components")
    assert res.status_code == 200
    found = {d["clazz"]: d for d in res.json()}
    assert set(found) == set(NODES.kinds())
    assert [d["type"] for d in res.json()] == sorted((d["type"] for d in res.json()), key=GROUPS.index)
    switch = found[nodes.SWITCH]["configurationDescriptor"]["nodeDefinition"]
    assert found[nodes.SWITCH]["type"] == "FILTER" and "Post telemetry" in switch["relationTypes"]
    assert found[nodes.SCRIPT_FILTER]["configurationDescriptor"]["nodeDefinition"]["relationTypes"] == [
        "True", "False", "Failure"]
    assert found[nodes.SCRIPT_SWITCH]["configurationDescriptor"]["nodeDefinition"]["customRelations"] is True
    assert found[nodes.RULE_CHAIN_OUTPUT]["configurationDescriptor"]["nodeDefinition"]["outEnabled"] is False
    assert found[nodes.SAVE_TIMESERIES]["configurationDescriptor"]["nodeDefinition"]["sideEffects"] is True
    filtered = api.get("/api/components?componentTypes=EXTERNAL,flow").json()
    assert {d["type"] for d in filtered} == {"EXTERNAL", "FLOW"}
    assert_error(api.get("/api/components?componentTypes=FILTER,MAGIC"), 400, "MAGIC")


@pytest.mark.parametrize("kind", NODES.kinds())
def test_each_types_defaults_and_form_fit_the_type(kind):
    node_class = NODES.load(kind)
    assert node_class.group in GROUPS
    names = [f["name"] for f in node_class.fields]
    assert len(names) == len(set(names)) and {f["kind"] for f in node_class.fields} <= FIELD_KINDS
    assert all(f["choices"] for f in node_class.fields if f["kind"] == "select")
    if kind in NEEDS_A_REFERENCE:
        with pytest.raises(ConfigError):
            node_class.check(dict(node_class.defaults))
    else:
        node_class.check(dict(node_class.defaults))  # a node dragged in runs as it comes, scripts compile


def test_the_descriptors_carry_the_defaults_the_form_starts_from():
    [log] = [d for d in descriptors(["ACTION"]) if d["clazz"] == nodes.LOG]
    definition = log["configurationDescriptor"]["nodeDefinition"]
    assert definition["defaultConfiguration"]["scriptLang"] == "JS"
    assert [f["name"] for f in definition["fields"]] == ["scriptLang", "jsScript", "tbelScript"]


def test_it_validates_a_node_configuration_on_the_server(api):
    url = "/api/ruleChain/node/validate"
    ok = api.post(url, {"type": nodes.SAVE_ATTRIBUTES, "configuration": {"scope": "SHARED_SCOPE"}}, format="json")
    assert ok.status_code == 200 and ok.json() == {"valid": True}
    assert_error(api.post(url, {"type": nodes.SAVE_ATTRIBUTES, "configuration": {"scope": "NOWHERE"}}, format="json"),
                 400, "scope must be one of")
    broken = {"scriptLang": "JS", "jsScript": "return msg.t >;"}
    assert_error(api.post(url, {"type": nodes.SCRIPT_FILTER, "configuration": broken}, format="json"), 400,
                 "does not compile")
    assert_error(api.post(url, {"type": "org.example.Nope", "configuration": {}}, format="json"), 400,
                 "Unsupported rule node type")
    assert_error(api.post(url, {"type": nodes.LOG, "configuration": [1]}, format="json"), 400, "JSON object")
    assert_error(api.post(url, "not json", content_type="application/json"), 400)


def test_a_save_with_the_version_read_passes_and_a_stale_one_is_refused(api):
    chain = create_chain(api, metadata={"firstNodeIndex": 0, "nodes": [node(nodes.SWITCH, "A")], "connections": []})
    read = api.get(f"/api/ruleChain/{chain['id']['id']}/metadata").json()
    first = {**read, "nodes": [{**read["nodes"][0], "name": "B"}]}
    saved = api.post("/api/ruleChain/metadata", first, format="json")
    assert saved.status_code == 200 and saved.json()["version"] == read["version"] + 1
    stale = {**read, "nodes": [{**read["nodes"][0], "name": "C"}]}
    res = api.post("/api/ruleChain/metadata", stale, format="json")
    assert_error(res, 409, "already changed by someone else")
    assert res.json()["errorCode"] == 35
    assert api.get(f"/api/ruleChain/{chain['id']['id']}/metadata").json()["nodes"][0]["name"] == "B"
    unversioned = {k: v for k, v in stale.items() if k != "version"}  # clients that send none are not checked
    assert api.post("/api/ruleChain/metadata", unversioned, format="json").status_code == 200
    assert_error(api.post("/api/ruleChain/metadata", {**read, "version": "7"}, format="json"), 400, "version")


def sample_chain(api) -> dict:
    metadata = {"firstNodeIndex": 0, "nodes": [
        node(nodes.SWITCH, "Switch"),
        node(nodes.SCRIPT_FILTER, "Hot?", scriptLang="JS", jsScript="return msg.temperature > 20;"),
        node(nodes.SAVE_TIMESERIES, "Save", debug=True, defaultTTL=0)],
        "connections": [{"fromIndex": 0, "toIndex": 1, "type": "Post telemetry"},
                        {"fromIndex": 1, "toIndex": 2, "type": "True"}]}
    chain = create_chain(api, "Tested", metadata)
    return {"chain": chain, "metadata": api.get(f"/api/ruleChain/{chain['id']['id']}/metadata").json()}


def test_a_test_run_shows_the_path_and_stores_nothing(api, tenant):
    made = sample_chain(api)
    device = make_device(tenant, "tested-device")
    body = {"metadata": made["metadata"], "msg": {"msgType": "POST_TELEMETRY_REQUEST", "metadata": {"ts": "1000"},
                                                 "data": '{"temperature": 25}',
                                                 "originator": {"entityType": "DEVICE", "id": str(device.pk)}}}
    res = api.post(f"/api/ruleChain/{made['chain']['id']['id']}/test", body, format="json")
    assert res.status_code == 200, res.content
    steps = [(s["name"], s["direction"], s["relationType"], s["index"]) for s in res.json()["steps"]]
    assert steps == [("Switch", "IN", "", 0), ("Switch", "OUT", "Post telemetry", 0),
                     ("Hot?", "IN", "Post telemetry", 1), ("Hot?", "OUT", "True", 1),
                     ("Save", "IN", "True", 2), ("Save", "OUT", "Success", 2)]
    save_out = res.json()["steps"][-1]
    assert save_out["simulated"] is True and save_out["duration"] >= 0 and '"temperature": 25' in save_out["data"]
    assert latest_many({device.pk}, ["temperature"]) == {}  # the save node did not run
    assert not DebugEvent.objects.filter(entity_type="RULE_NODE").exists()  # debug on, yet nothing recorded

    cold = {**body, "msg": {**body["msg"], "data": {"temperature": 5}}}
    path = api.post(f"/api/ruleChain/{made['chain']['id']['id']}/test", cold, format="json").json()["steps"]
    assert [s["relationType"] for s in path if s["direction"] == "OUT"] == ["Post telemetry", "False"]


def test_a_test_run_uses_the_posted_edits_not_the_stored_chain(api):
    made = sample_chain(api)
    edited = made["metadata"]
    edited["nodes"][1]["configuration"]["jsScript"] = "return false;"
    body = {"metadata": edited, "msg": {"data": {"temperature": 25}}}
    steps = api.post(f"/api/ruleChain/{made['chain']['id']['id']}/test", body, format="json").json()["steps"]
    assert [s["relationType"] for s in steps if s["direction"] == "OUT"] == ["Post telemetry", "False"]


def test_a_test_run_refuses_bad_input_and_other_tenants_chains(api, mallory_api):
    made = sample_chain(api)
    url = f"/api/ruleChain/{made['chain']['id']['id']}/test"
    assert_error(api.post(url, {"msg": {}}, format="json"), 400, "metadata")
    assert_error(api.post(url, {"metadata": made["metadata"], "msg": {"metadata": [1]}}, format="json"), 400,
                 "msg.metadata")
    assert_error(api.post(url, {"metadata": made["metadata"], "msg": {"originator": {"id": "x"}}}, format="json"),
                 400, "UUID")
    broken = {**made["metadata"], "connections": [{"fromIndex": 0, "toIndex": 9, "type": "Success"}]}
    assert_error(api.post(url, {"metadata": broken, "msg": {}}, format="json"), 400, "does not exist")
    assert_error(mallory_api.post(url, {"metadata": made["metadata"], "msg": {}}, format="json"), 404)
    empty = api.post(url, {"metadata": {"nodes": [], "connections": []}, "msg": {}}, format="json").json()
    assert empty["steps"] == [] and empty["firstNodeIndex"] is None


def test_debug_events_of_a_real_run_say_how_long_the_node_took(tenant):
    install_root(tenant, [node(nodes.SWITCH, "Switch", debug=True)], [])
    engine.process([msg(tenant, make_device(tenant))])
    [row] = RuleChain.objects.get(tenant=tenant, root=True).nodes.all()
    [out] = events_of(row, "OUT")
    assert out["relationType"] == "Post telemetry" and isinstance(out["duration"], float) and out["duration"] >= 0
    assert "duration" not in events_of(row, "IN")[0]
