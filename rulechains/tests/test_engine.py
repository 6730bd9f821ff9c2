"""The engine: walking chains, relations, the loop guard, node debug events, batching and dispatch."""

import importlib
import json
import logging

import pytest
from django.apps import apps

from integrations import handoff
from rulechains import engine, nodes, tasks
from rulechains.models import RuleChain
from rulechains.tests.helpers import events_of, install_root, msg, node
from tbproject.testing.factories import make_device

COUNT = "metadata.n = String(Number(metadata.n || 0) + 1); return {metadata: metadata};"


@pytest.fixture
def device(tenant):
    return make_device(tenant, "d-1")


def test_the_loop_guard_stops_a_message_circling_in_a_chain(tenant, device, settings, caplog):
    settings.RULE_ENGINE_MAX_HOPS = 5
    chain = install_root(tenant, [node(nodes.SCRIPT_TRANSFORM, "again", True, jsScript=COUNT)], [(0, 0, "Success")])
    [looping] = chain.nodes.all()
    with caplog.at_level(logging.WARNING, logger="rulechains.engine"):
        report = engine.process([msg(tenant, device)])
    assert (report.node_runs, report.hop_limited) == (5, 1)
    assert "RULE_ENGINE_MAX_HOPS" in caplog.text and "loop" in caplog.text
    outs = events_of(looping, "OUT")
    assert sorted(json.loads(e["metadata"])["n"] for e in outs) == ["1", "2", "3", "4", "5"]
    [stopped] = [e for e in events_of(looping, "IN") if e.get("error")]
    assert "ran 5 rule nodes" in stopped["error"]


def test_fan_out_counts_against_the_same_budget(tenant, device, settings):
    settings.RULE_ENGINE_MAX_HOPS = 20
    # each run of "a" sends a copy to itself and one to "b", which sends it back: the copies grow
    # exponentially without a budget shared by all copies of one message
    install_root(tenant, [node(nodes.SWITCH, "a"), node(nodes.SWITCH, "b")],
                 [(0, 0, "Post telemetry"), (0, 1, "Post telemetry"), (1, 0, "Post telemetry")])
    report = engine.process([msg(tenant, device)])
    assert report.node_runs == 20 and report.hop_limited > 0


def test_a_failure_follows_the_failure_relation_with_the_error_recorded(tenant, device):
    chain = install_root(tenant, [node(nodes.SCRIPT_FILTER, "check", jsScript="throw new Error('bad input');"),
                                  node(nodes.LOG, "on failure", True), node(nodes.LOG, "on true", True)],
                         [(0, 1, "Failure"), (0, 2, "True")])
    check, on_failure, on_true = chain.nodes.order_by("index")
    check.debug_failures = True
    check.save()
    report = engine.process([msg(tenant, device, data={"t": 1})])
    assert report.failures == 1 and report.node_runs == 2
    [arrived] = events_of(on_failure, "IN")
    assert arrived["relationType"] == "Failure" and arrived["data"] == '{"t": 1}'
    assert events_of(on_true) == []
    [failed] = events_of(check)  # failures only: no IN event, the failing OUT with its error
    assert failed["type"] == "OUT" and "bad input" in failed["error"]


def test_node_debug_events_are_served_by_the_events_api(api, tenant, device):
    chain = install_root(tenant, [node(nodes.SWITCH, "switch", True)], [])
    [switch] = chain.nodes.all()
    engine.process([msg(tenant, device, metadata={"deviceName": "d-1"})])
    res = api.get(f"/api/events/RULE_NODE/{switch.pk}/DEBUG_RULE_NODE?tenantId={tenant.pk}&pageSize=10&page=0")
    assert res.status_code == 200, res.content
    bodies = sorted((e["body"]["type"], e["body"]["relationType"]) for e in res.json()["data"])
    assert bodies == [("IN", ""), ("OUT", "Post telemetry")]
    event = res.json()["data"][0]
    assert event["entityId"] == {"entityType": "RULE_NODE", "id": str(switch.pk)}
    assert event["body"]["entityId"] == str(device.pk) and event["body"]["msgType"] == "POST_TELEMETRY_REQUEST"


def test_node_debug_events_filter_by_relation_and_hide_another_tenants_node(api, mallory_api, tenant, other_tenant,
                                                                          device):
    chain = install_root(tenant, [node(nodes.SWITCH, "switch", True)], [])
    [switch] = chain.nodes.all()
    engine.process([msg(tenant, device, metadata={"deviceName": "d-1"})])
    url = f"/api/events/RULE_NODE/{switch.pk}?tenantId={tenant.pk}&pageSize=10&page=0"
    res = api.post(url, {"eventType": "DEBUG_RULE_NODE", "relationType": "telemetry"}, format="json")
    assert res.status_code == 200, res.content
    assert [e["body"]["type"] for e in res.json()["data"]] == ["OUT"]
    by_type = f"/api/events/RULE_NODE/{switch.pk}/DEBUG_RULE_NODE?tenantId={other_tenant.pk}&pageSize=10&page=0"
    assert mallory_api.get(by_type).status_code == 404


def test_node_debug_events_expire_with_the_other_debug_events():
    from converters.choices import DEBUG_EVENT_TYPES

    assert "DEBUG_RULE_NODE" in DEBUG_EVENT_TYPES


def test_messages_of_each_tenant_run_through_their_own_root_chain(tenant, other_tenant, device):
    ours = install_root(tenant, [node(nodes.SWITCH, "ours", True)], [])
    theirs = install_root(other_tenant, [node(nodes.SWITCH, "theirs", True)], [])
    foreign = make_device(other_tenant, "x")
    engine.process([msg(tenant, device), msg(other_tenant, foreign), msg(other_tenant, foreign)])
    assert len(events_of(ours.nodes.get(), "IN")) == 1 and len(events_of(theirs.nodes.get(), "IN")) == 2


def test_a_tenant_without_a_root_chain_drops_its_messages_quietly(tenant, device):
    RuleChain.objects.filter(tenant=tenant).delete()
    assert engine.process([msg(tenant, device)]).unrouted == 1


def test_a_node_whose_stored_configuration_is_broken_fails_its_messages(tenant, device):
    chain = install_root(tenant, [node(nodes.SCRIPT_FILTER, "f", jsScript="return true;"), node(nodes.LOG, "l", True)],
                         [(0, 1, "Failure")])
    broken = chain.nodes.get(index=0)
    broken.configuration = {}
    broken.save()
    assert engine.process([msg(tenant, device)]).failures == 1
    [arrived] = events_of(chain.nodes.get(index=1), "IN")
    assert arrived["relationType"] == "Failure"


@pytest.fixture
def acting_root(tenant):
    """A root chain that does something with stored telemetry: a log node after the switch."""
    return install_root(tenant, [node(nodes.SWITCH, "switch"), node(nodes.LOG, "log")], [(0, 1, "Post telemetry")])


def test_dispatch_leaves_out_what_the_root_chain_only_passes_through(tenant, device, monkeypatch):
    calls = []
    monkeypatch.setattr(tasks.process_messages, "delay", lambda payload: calls.append(payload))
    handoff.dispatch([msg(tenant, device, data={"t": 1})])  # ThingsBoard's default root chain
    assert calls == []
    # any other node on the way, or a node with debug on, and the messages go to the engine
    install_root(tenant, [node(nodes.SWITCH, "switch"), node(nodes.SAVE_TIMESERIES, "save", True)],
                 [(0, 1, "Post telemetry")])
    handoff.dispatch([msg(tenant, device, data={"t": 2})])
    install_root(tenant, [node(nodes.SWITCH, "switch"), node(nodes.SAVE_TIMESERIES, "save"),
                          node(nodes.LOG, "log")], [(0, 1, "Post telemetry"), (1, 2, "Success")])
    handoff.dispatch([msg(tenant, device, data={"t": 3})])
    handoff.dispatch([msg(tenant, device, msg_type="POST_ATTRIBUTES_REQUEST", data={"a": 4})])  # not on its way
    assert [[item["d"] for item in payload] for payload in calls] == [[{"t": 2}], [{"t": 3}]]


def test_dispatch_queues_one_task_per_batch_marked_as_stored(tenant, device, monkeypatch, acting_root):
    calls = []
    monkeypatch.setattr(tasks.process_messages, "delay", lambda payload: calls.append(payload))
    handoff.dispatch([msg(tenant, device, data={"t": i}) for i in range(3)])
    [payload] = calls
    assert [item["d"] for item in payload] == [{"t": 0}, {"t": 1}, {"t": 2}] and all(item["s"] for item in payload)


def test_dispatch_never_raises_and_keeps_the_good_messages(tenant, device, monkeypatch, caplog, acting_root):
    calls = []
    monkeypatch.setattr(tasks.process_messages, "delay", lambda payload: calls.append(payload))
    handoff.dispatch([msg(tenant, device, data={"bad": float("nan")}), msg(tenant, device, data={"ok": 1})])
    assert [item["d"] for item in calls[0]] == [{"ok": 1}]

    def broken(payload):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.process_messages, "delay", broken)
    with caplog.at_level(logging.ERROR):
        handoff.dispatch([msg(tenant, device)])
    assert "could not queue" in caplog.text


def test_dispatch_survives_an_engine_failure_when_tasks_run_inline(tenant, device, monkeypatch):
    def explode(messages, **kwargs):
        raise RuntimeError("engine bug")

    monkeypatch.setattr(engine, "process", explode)
    handoff.dispatch([msg(tenant, device)])  # eager task: the error reaches dispatch, which logs it


def test_the_data_migration_gives_existing_tenants_a_root_chain(tenant, other_tenant):
    RuleChain.objects.filter(tenant=tenant).delete()
    migration = importlib.import_module("rulechains.migrations.0002_root_chains")
    migration.create_root_chains(apps, None)
    root = RuleChain.objects.get(tenant=tenant, root=True)
    assert root.nodes.count() == 6 and root.connections.count() == 5
    assert RuleChain.objects.filter(tenant=other_tenant).count() == 1
