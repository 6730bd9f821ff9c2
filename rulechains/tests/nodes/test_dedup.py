"""Deduplication and message count nodes: their unit, and chains in ThingsBoard's export JSON
run through the engine, with the periodic job (timers.run_generators) sending what they hold."""

import json
import uuid

import pytest

from devices.telemetry import history
from rulechains import engine, nodes
from rulechains.messages import Msg
from rulechains.nodes import timers
from rulechains.nodes.base import ConfigError, NodeContext
from rulechains.nodes.dedup import MsgDeduplicationNode, service_id
from rulechains.tests.helpers import events_of, install_root, make_node, msg, node
from tbproject.testing.factories import make_device

DEDUP = "org.thingsboard.rule.engine.deduplication.TbMsgDeduplicationNode"
COUNT = "org.thingsboard.rule.engine.action.TbMsgCountNode"
START = 1_700_000_000_000
MINUTE = 60_000


def dedup_chain(tenant, **configuration):
    """[deduplication] -Success-> [log, debug on], as ThingsBoard exports it."""
    return install_root(tenant, [node(DEDUP, "dedup", **configuration), node(nodes.LOG, "after", True)],
                        [(0, 1, "Success")])


def arrived(chain, index=1) -> list[dict]:
    return events_of(chain.nodes.get(index=index), "IN")


def readings(tenant, device, *values, step=1000):
    return [msg(tenant, device, data={"t": v}, metadata={"ts": str(START + i * step), "n": str(i)})
            for i, v in enumerate(values)]


@pytest.mark.parametrize("strategy, expected", [("FIRST", 1), ("LAST", 3)])
def test_first_and_last_send_one_message_per_originator_and_interval(tenant, strategy, expected):
    a, b = make_device(tenant, "a"), make_device(tenant, "b")
    chain = dedup_chain(tenant, interval=60, strategy=strategy, outMsgType=None, maxPendingMsgs=100, maxRetries=3)
    engine.process(readings(tenant, a, 1, 2, 3) + readings(tenant, b, 7), now=START + 5000)
    assert arrived(chain) == []  # held
    assert timers.run_generators(START + 5000 + MINUTE) == 0  # the check is due 1 ms after the interval
    assert timers.run_generators(START + 5001 + MINUTE) == 2
    got = {e["entityId"]: json.loads(e["data"]) for e in arrived(chain)}
    assert got == {str(a.pk): {"t": expected}, str(b.pk): {"t": 7}}
    [first] = [e for e in arrived(chain) if e["entityId"] == str(a.pk)]
    assert json.loads(first["metadata"])["n"] == str(expected - 1) and first["msgType"] == "POST_TELEMETRY_REQUEST"
    assert timers.run_generators(START + 10 * MINUTE) == 0  # nothing left


def test_all_sends_the_pack_as_one_array_message_of_the_output_type(tenant):
    device = make_device(tenant, "a")
    chain = dedup_chain(tenant, interval=10, strategy="ALL", outMsgType="POST_ATTRIBUTES_REQUEST", maxPendingMsgs=100,
                        maxRetries=3)
    engine.process(readings(tenant, device, 1, 2), now=START)
    now = START + 10_001
    assert timers.run_generators(now) == 1
    [out] = arrived(chain)
    assert out["msgType"] == "POST_ATTRIBUTES_REQUEST" and out["entityId"] == str(device.pk)
    assert json.loads(out["metadata"]) == {"ts": str(now)}
    assert json.loads(out["data"]) == [{"msg": {"t": 1}, "metadata": {"ts": str(START), "n": "0"}},
                                       {"msg": {"t": 2}, "metadata": {"ts": str(START + 1000), "n": "1"}}]


def test_a_later_pack_waits_for_its_own_interval(tenant):
    device = make_device(tenant, "a")
    chain = dedup_chain(tenant, interval=60, strategy="FIRST")
    early = msg(tenant, device, data={"t": 1}, metadata={"ts": str(START)})
    late = msg(tenant, device, data={"t": 2}, metadata={"ts": str(START + 90_000)})
    engine.process([early, late], now=START + 10_000)
    check = START + 10_000 + MINUTE + 1
    assert timers.run_generators(check) == 1  # the first pack is over, the second one (from +90 s) not yet
    assert timers.run_generators(check + MINUTE) == 0  # the next check comes one interval (+1 ms) later
    assert timers.run_generators(check + MINUTE + 1) == 0  # ... and the pack ends at +150 s
    assert timers.run_generators(check + 2 * MINUTE + 1) == 0
    assert timers.run_generators(check + 2 * MINUTE + 2) == 1
    assert [json.loads(e["data"]) for e in arrived(chain)] == [{"t": 1}, {"t": 2}]


def test_messages_without_a_ts_count_from_their_arrival(tenant):
    device = make_device(tenant, "a")
    chain = dedup_chain(tenant, interval=1, strategy="LAST")
    engine.process([msg(tenant, device, data={"t": 1}), msg(tenant, device, data={"t": 2})], now=START)
    assert timers.run_generators(START + 1001) == 1
    assert [json.loads(e["data"]) for e in arrived(chain)] == [{"t": 1}]  # same ts: the earlier arrival wins


def test_more_than_max_pending_messages_of_an_originator_go_by_failure(tenant):
    device, other = make_device(tenant, "a"), make_device(tenant, "b")
    instance = make_node(tenant, DEDUP, interval=60, strategy="FIRST", maxPendingMsgs=2)
    outs = instance.process_batch(NodeContext(tenant.pk, START),
                                  readings(tenant, device, 1, 2, 3) + readings(tenant, other, 4))
    assert outs[0] == [] and outs[1] == [] and outs[3] == []
    [[failed]] = [outs[2]]
    assert failed.relation == "Failure"
    assert failed.error == (f"[{instance.id}] Max limit of pending messages reached for deduplication id: "
                            f"[{device.pk}]")


def test_packs_follow_thingsboards_bounds():
    row = type("Row", (), {"pk": uuid.uuid4(), "name": "n", "configuration": {"interval": 10}})()
    instance = MsgDeduplicationNode(row)
    entries = [[100, "a"], [10_099, "b"], [10_100, "c"], [25_000, "d"]]
    done, left = instance.packs(entries, now=20_100)
    assert done == [[[100, "a"], [10_099, "b"]], [[10_100, "c"]]] and left == [[25_000, "d"]]


def test_nodes_of_two_tenants_never_mix_their_pending_messages(tenant, other_tenant):
    shared, their_own = make_device(tenant, "shared"), make_device(other_tenant, "theirs")
    ours = dedup_chain(tenant, interval=5, strategy="LAST")
    theirs = install_root(other_tenant, [node(DEDUP, "dedup", interval=5, strategy="LAST"),
                                         node(nodes.LOG, "after", True)], [(0, 1, "Success")])
    report = engine.process([
        Msg("POST_TELEMETRY_REQUEST", tenant.pk, "DEVICE", shared.pk, {"who": "ours"}, {}),
        # the other tenant's message naming our device: dropped where it enters, never pending
        Msg("POST_TELEMETRY_REQUEST", other_tenant.pk, "DEVICE", shared.pk, {"who": "mallory"}, {}),
        Msg("POST_TELEMETRY_REQUEST", other_tenant.pk, "DEVICE", their_own.pk, {"who": "theirs"}, {})], now=START)
    assert report.refused == 1
    assert timers.run_generators(START + 5001) == 2
    assert [json.loads(e["data"]) for e in arrived(ours)] == [{"who": "ours"}]
    assert [json.loads(e["data"]) for e in arrived(theirs)] == [{"who": "theirs"}]


@pytest.mark.parametrize("configuration, message", [
    ({"strategy": "MIDDLE"}, "strategy must be one of FIRST, LAST, ALL"),
    ({"strategy": "ALL", "outMsgType": ""}, "outMsgType"),
    ({"interval": 0}, "interval must be an integer"),
    ({"interval": True}, "interval"),
    ({"maxPendingMsgs": 5000}, "maxPendingMsgs must be an integer from 1 to 1000"),
    ({"maxRetries": -1}, "maxRetries"),
])
def test_the_deduplication_node_refuses_configurations_it_cannot_run(tenant, configuration, message):
    with pytest.raises(ConfigError, match=message):
        make_node(tenant, DEDUP, **configuration)


def test_an_exported_chain_with_an_older_queue_name_deduplicates_into_saved_telemetry(tenant):
    """The shape ThingsBoard 3.5 exports (``queueName`` before the node's version 1)."""
    device = make_device(tenant, "meter")
    install_root(tenant, [
        {"type": DEDUP, "name": "dedup 1 min", "debugMode": False, "singletonMode": False, "configurationVersion": 0,
         "configuration": {"interval": 60, "strategy": "FIRST", "outMsgType": None, "queueName": None,
                           "maxPendingMsgs": 100, "maxRetries": 3},
         "additionalInfo": {"description": "", "layoutX": 300, "layoutY": 150}},
        {"type": "org.thingsboard.rule.engine.telemetry.TbMsgTimeseriesNode", "name": "save", "debugMode": False,
         "configuration": {"defaultTTL": 0, "skipLatestPersistence": False, "useServerTs": False},
         "additionalInfo": {"layoutX": 600, "layoutY": 150}},
    ], [(0, 1, "Success")], name="Dedup")
    engine.process(readings(tenant, device, 20.5, 21.0, 22.5), now=START + 3000)
    assert history(device.pk, ["t"], 0, START + MINUTE * 10) == {}
    assert timers.run_generators(START + 3001 + MINUTE) == 1
    assert history(device.pk, ["t"], 0, START + MINUTE * 10) == {"t": [(START, 20.5)]}


def count_chain(tenant, **configuration):
    return install_root(tenant, [node(COUNT, "count", **configuration), node(nodes.LOG, "after", True)],
                        [(0, 1, "Success")])


def test_the_count_node_sends_the_count_of_each_interval_from_the_tenant(tenant):
    device = make_device(tenant, "a")
    chain = count_chain(tenant, interval=5, telemetryPrefix="messageCount")
    assert timers.run_generators(START) == 0  # first seen: the first count goes out one interval later
    engine.process([msg(tenant, device)] * 3, now=START + 100)
    assert arrived(chain) == []  # counted messages go no further
    assert timers.run_generators(START + 4999) == 0
    assert timers.run_generators(START + 5200) == 1
    assert timers.run_generators(START + 5300) == 0  # this interval was sent
    assert timers.run_generators(START + 10_000) == 1  # nothing arrived: a count of 0
    first, second = arrived(chain)
    key = f"messageCount_{service_id()}"
    assert json.loads(first["data"]) == {key: 3} and json.loads(second["data"]) == {key: 0}
    assert first["msgType"] == "POST_TELEMETRY_REQUEST"
    assert first["entityType"] == "TENANT" and first["entityId"] == str(tenant.pk)
    assert json.loads(first["metadata"]) == {"delta": "5200"} and json.loads(second["metadata"]) == {"delta": "5000"}


def test_count_nodes_of_two_tenants_count_apart(tenant, other_tenant):
    ours = count_chain(tenant, interval=1, telemetryPrefix="ours")
    theirs = install_root(other_tenant, [node(COUNT, "count", interval=1, telemetryPrefix="theirs"),
                                         node(nodes.LOG, "after", True)], [(0, 1, "Success")])
    timers.run_generators(START)
    engine.process([msg(tenant, make_device(tenant, "a"))] * 2 + [msg(other_tenant, make_device(other_tenant, "b"))],
                   now=START)
    assert timers.run_generators(START + 1000) == 2
    [mine], [their] = arrived(ours), arrived(theirs)
    assert json.loads(mine["data"]) == {f"ours_{service_id()}": 2} and mine["entityId"] == str(tenant.pk)
    assert json.loads(their["data"]) == {f"theirs_{service_id()}": 1} and their["entityId"] == str(other_tenant.pk)


@pytest.mark.parametrize("configuration, message", [
    ({"interval": 0}, "interval"), ({"interval": "soon"}, "interval"), ({"telemetryPrefix": ""}, "telemetryPrefix"),
    ({"telemetryPrefix": 5}, "telemetryPrefix"),
])
def test_the_count_node_refuses_configurations_it_cannot_run(tenant, configuration, message):
    with pytest.raises(ConfigError, match=message):
        make_node(tenant, COUNT, **configuration)


def test_defaults_are_thingsboards():
    assert nodes.get_node(DEDUP).defaults == {"interval": 60, "strategy": "FIRST", "outMsgType": None,
                                              "maxPendingMsgs": 100, "maxRetries": 3}
    assert nodes.get_node(COUNT).defaults == {"interval": 1, "telemetryPrefix": "messageCount"}
    for kind in (DEDUP, COUNT):
        cls = nodes.get_node(kind)
        cls.clean_config(dict(cls.defaults))


def test_a_message_too_deep_to_keep_fails_alone_and_the_batch_is_kept(tenant):
    device = make_device(tenant, "a")
    chain = dedup_chain(tenant, interval=1, strategy="ALL", outMsgType="POST_TELEMETRY_REQUEST")
    instance = MsgDeduplicationNode(chain.nodes.get(index=0))
    deep = {"t": 0}
    for _ in range(900):  # JSON takes it; pickling it inside the pending state would not
        deep = {"a": deep}
    [[too_deep], kept] = instance.process_batch(NodeContext(tenant.pk, START), [
        msg(tenant, device, data=deep, metadata={"ts": str(START)}),
        msg(tenant, device, data={"t": 1}, metadata={"ts": str(START)})])
    assert too_deep.relation == "Failure" and too_deep.error.startswith("the message data cannot be kept")
    assert kept == []  # pending
    assert timers.run_generators(START + 1001) == 1
    [pack] = arrived(chain)
    assert [item["msg"] for item in json.loads(pack["data"])] == [{"t": 1}]
