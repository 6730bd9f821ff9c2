"""ThingsBoard rule chain exports (rulechains/tests/exports/: ThingsBoard's own default root chain, and
chains in the shape ThingsBoard's UI exports:
debugSettings, configurationVersion, queueName, externalId...) import through the API unchanged
and run: a root chain with the device profile node, the switch, save time series, attribute and
originator enrichment, originator telemetry, a rule chain node calling an alarm chain (script
switch, create and clear alarm with JS and TBEL details, output nodes), a REST call to a loopback
server and a log node; alarms read back through /api/alarm."""

import json
from pathlib import Path

import pytest

from devices.attributes import save_attributes
from devices.telemetry import latest
from rulechains import engine
from rulechains.tests.helpers import events_of, msg
from rulechains.tests.nodes.test_external import server  # noqa: F401  (the loopback HTTP server fixture)
from tbproject.testing.factories import make_device

EXPORTS = Path(__file__).parent / "exports"


def export(name: str) -> dict:
    return json.loads((EXPORTS / name).read_text())


@pytest.fixture
def installed(api, tenant, server):  # noqa: F811
    alarms = api.post("/api/ruleChain/import", export("thermostat_alarms.json"), format="json")
    assert alarms.status_code == 200, alarms.content
    root = export("thermostat_root.json")
    by_name = {n["name"]: n for n in root["metadata"]["nodes"]}
    # what a user does after importing both files: point the rule chain node at the imported chain
    by_name["Thermostat Alarms"]["configuration"]["ruleChainId"] = alarms.json()["ruleChain"]["id"]["id"]
    by_name["Notify operations"]["configuration"]["restEndpointUrlPattern"] = (
        f"http://127.0.0.1:{server.server_address[1]}/alarms/${{deviceName}}")
    res = api.post("/api/ruleChain/import", root, format="json")
    assert res.status_code == 200, res.content
    chain_id = res.json()["ruleChain"]["id"]["id"]
    assert api.post(f"/api/ruleChain/{chain_id}/root").json()["root"] is True
    return res.json()


def test_the_exported_chains_raise_notify_and_clear_an_alarm(api, tenant, installed, server):  # noqa: F811
    device = make_device(tenant, "thermostat-1")
    save_attributes(device.pk, "SERVER_SCOPE", {"threshold": 30})
    engine.process([msg(tenant, device, data={"temperature": 42})])
    engine.process([msg(tenant, device, data={"temperature": 45})])

    assert latest(device.pk, ["temperature"])["temperature"][1] == 45
    page = api.get(f"/api/alarm/DEVICE/{device.pk}?pageSize=10&page=0&searchStatus=ACTIVE").json()
    [alarm] = page["data"]
    assert (alarm["type"], alarm["severity"], alarm["status"]) == ("High Temperature", "CRITICAL", "ACTIVE_UNACK")
    assert alarm["details"] == {"temperature": 45, "threshold": "30"} and alarm["originatorName"] == "thermostat-1"
    posted = [(path, json.loads(body)) for _, path, _, body in server.seen]
    assert [p for p, _ in posted] == ["/alarms/thermostat-1"] * 2
    assert posted[0][1]["type"] == "High Temperature" and posted[1][1]["details"]["temperature"] == 45

    engine.process([msg(tenant, device, data={"temperature": 20})])
    cleared = api.get(f"/api/alarm/info/{alarm['id']['id']}").json()
    assert cleared["status"] == "CLEARED_UNACK" and cleared["details"]["clearedAt"] == 20
    nodes = {n["name"]: n for n in installed["metadata"]["nodes"]}
    log_events = events_of(_row(nodes["Log cleared"]), "IN")
    assert [e["relationType"] for e in log_events] == ["Alarm Cleared"]
    assert len(server.seen) == 2  # clearing is not an "Alarm Raised" output


def test_a_device_without_the_threshold_attribute_stops_at_the_failure_and_raises_nothing(api, tenant, installed):
    device = make_device(tenant, "thermostat-2")
    report = engine.process([msg(tenant, device, data={"temperature": 99})])
    assert report.failures == 1
    assert api.get(f"/api/alarm/DEVICE/{device.pk}?pageSize=10&page=0").json()["totalElements"] == 0


def test_the_imported_chains_export_again_as_they_came(api, installed):
    chain_id = installed["ruleChain"]["id"]["id"]
    again = api.get(f"/api/ruleChain/{chain_id}/export").json()
    original = export("thermostat_root.json")["metadata"]
    assert [(n["type"], n["name"]) for n in again["metadata"]["nodes"]] == [
        (n["type"], n["name"]) for n in original["nodes"]]
    assert sorted((c["fromIndex"], c["toIndex"], c["type"]) for c in again["metadata"]["connections"]) == sorted(
        (c["fromIndex"], c["toIndex"], c["type"]) for c in original["connections"])


def _row(node_json):
    from rulechains.models import RuleNode

    return RuleNode.objects.get(pk=node_json["id"]["id"])


def test_thingsboards_own_default_root_chain_imports_unchanged_and_runs(api, tenant):
    """ThingsBoard's default root rule chain (its public tenant template, Apache-2.0), as it ships:
    telemetry is saved and an RPC to the device leaves through the integration that serves it."""
    from integrations.models import OutgoingDownlink
    from integrations.tests.factories import make_downlink_converter, make_integration

    res = api.post("/api/ruleChain/import", export("thingsboard_default_root.json"), format="json")
    assert res.status_code == 200, res.content
    assert api.post(f"/api/ruleChain/{res.json()['ruleChain']['id']['id']}/root").json()["root"] is True
    integration = make_integration(tenant, "LoRa", downlink_converter=make_downlink_converter(tenant, "LoRa enc"))
    device = make_device(tenant, "tracker-1")
    report = engine.process([msg(tenant, device, data={"temperature": 21}),
                             msg(tenant, device, "RPC_CALL_FROM_SERVER_TO_DEVICE", {"method": "setInterval",
                                                                                    "params": {"s": 60}}),
                             msg(tenant, device, "TO_SERVER_RPC_REQUEST", {"method": "getTime", "params": {}})])
    assert report.failures == 0  # the log nodes' MVEL (TBEL's older name) scripts ran too
    assert latest(device.pk, ["temperature"])["temperature"][1] == 21
    queued = OutgoingDownlink.objects.get(integration=integration)
    assert queued.msg_type == "RPC_CALL_FROM_SERVER_TO_DEVICE" and queued.msg["method"] == "setInterval"
