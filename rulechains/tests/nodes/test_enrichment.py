"""Originator fields and originator attributes nodes."""

import pytest

from devices.attributes import save_attributes
from devices.telemetry import Point, write_points
from rulechains import nodes
from rulechains.nodes.base import ConfigError
from rulechains.tests.helpers import make_node, msg, run_node
from tbproject.testing.factories import make_device


@pytest.fixture
def device(tenant):
    return make_device(tenant, "thermo-7", label="Kitchen")


def test_originator_fields_go_to_the_metadata_with_the_old_and_new_mapping_keys(tenant, device):
    [[old]] = run_node(tenant, nodes.ORIGINATOR_FIELDS, [msg(tenant, device)],
                       fieldsMapping={"name": "deviceName", "type": "deviceType"})
    assert old.relation == "Success" and old.msg.metadata == {"deviceName": "thermo-7", "deviceType": "default"}
    [[new]] = run_node(tenant, nodes.ORIGINATOR_FIELDS, [msg(tenant, device, data={"t": 1})],
                       dataMapping={"label": "where", "id": "devId", "nosuch": "x"}, fetchTo="DATA")
    assert new.msg.data == {"t": 1, "where": "Kitchen", "devId": str(device.pk)} and new.msg.stored is False


def test_originator_fields_fail_for_an_originator_of_another_tenant(tenant, other_tenant):
    foreign = make_device(other_tenant, "theirs")
    [[out]] = run_node(tenant, nodes.ORIGINATOR_FIELDS, [msg(tenant, foreign)], dataMapping={"name": "deviceName"})
    assert out.relation == "Failure" and "not found" in out.error


def test_originator_fields_need_a_mapping(tenant):
    with pytest.raises(ConfigError, match="dataMapping"):
        make_node(tenant, nodes.ORIGINATOR_FIELDS, fetchTo="METADATA")


def test_originator_attributes_are_added_with_thingsboards_prefixes_in_one_query_per_scope(tenant, device,
                                                                                         django_assert_max_num_queries):
    other = make_device(tenant, "thermo-8")
    save_attributes(device.pk, "SHARED_SCOPE", {"fw": "1.2", "period": 60})
    save_attributes(device.pk, "SERVER_SCOPE", {"site": "north"})
    save_attributes(other.pk, "SHARED_SCOPE", {"fw": "2.0"})
    write_points([Point(device.pk, "temperature", 1000, 21.5)])
    node = make_node(tenant, nodes.ORIGINATOR_ATTRIBUTES, sharedAttributeNames=["fw", "${key}"],
                     serverAttributeNames=["site"], latestTsKeyNames=["temperature"], tellFailureIfAbsent=False)
    from rulechains.nodes.base import NodeContext

    batch = [msg(tenant, device, metadata={"key": "period"}), msg(tenant, other)]
    with django_assert_max_num_queries(4):  # shared, server, latest (+ key ids)
        outs = node.process_batch(NodeContext(tenant.pk, 0), batch)
    assert outs[0][0].msg.metadata == {"key": "period", "shared_fw": "1.2", "shared_period": "60", "ss_site": "north",
                                       "temperature": "21.5"}
    assert outs[1][0].msg.metadata == {"shared_fw": "2.0"} and outs[1][0].relation == "Success"


def test_missing_attributes_fail_by_default_and_latest_values_may_carry_their_ts(tenant, device):
    write_points([Point(device.pk, "temperature", 1000, 21.5)])
    [[out]] = run_node(tenant, nodes.ORIGINATOR_ATTRIBUTES, [msg(tenant, device)], clientAttributeNames=["nope"],
                       latestTsKeyNames=["temperature"], getLatestValueWithTs=True, fetchTo="DATA")
    assert out.relation == "Failure" and "cs_nope" in out.error
    assert out.msg.data == {"t": 1, "temperature": {"ts": 1000, "value": 21.5}}


def test_empty_key_lists_pass_the_message_unchanged(tenant, device):
    original = msg(tenant, device, stored=True)
    [[out]] = run_node(tenant, nodes.ORIGINATOR_ATTRIBUTES, [original], clientAttributeNames=[],
                       sharedAttributeNames=[], serverAttributeNames=[], latestTsKeyNames=[])
    assert out.relation == "Success" and out.msg == original


# --- originator telemetry (TbGetTelemetryNode), through the engine -----------------------------

def _telemetry_chain(tenant, **configuration):
    from rulechains.tests.helpers import install_root, node

    return install_root(tenant, [node(nodes.ORIGINATOR_TELEMETRY, "history", True, **configuration),
                                 node(nodes.LOG, "after", True)], [(0, 1, "Success")])


def _metadata_after(chain):
    import json

    from rulechains.tests.helpers import events_of

    return [json.loads(e["metadata"]) for e in events_of(chain.nodes.get(index=1), "IN")]


@pytest.mark.parametrize("mode, expected", [
    ("FIRST", {"temp": "20", "state": "on"}), ("LAST", {"temp": "22.5", "state": "off"}),
    ("ALL", {"temp": '[{"ts":T1,"value":20},{"ts":T2,"value":21},{"ts":T3,"value":22.5}]',
             "state": '[{"ts":T1,"value":"on"},{"ts":T3,"value":"off"}]'}),
])
def test_originator_telemetry_puts_history_in_the_metadata(tenant, device, mode, expected):
    from rulechains import engine
    from tbproject.clock import now_ms

    now = now_ms()
    t1, t2, t3 = now - 90_000, now - 80_000, now - 70_000
    points = [("temp", t1, 20), ("temp", t2, 21), ("temp", t3, 22.5), ("state", t1, "on"), ("state", t3, "off"),
              ("temp", now - 10_000, 99)]  # the last one is after the interval's end
    write_points([Point(device.pk, key, ts, value) for key, ts, value in points])
    chain = _telemetry_chain(tenant, latestTsKeyNames=["temp", "state", "absent"], fetchMode=mode, orderBy="ASC",
                             aggregation="NONE", limit=1000, useMetadataIntervalPatterns=False, startInterval=2,
                             startIntervalTimeUnit="MINUTES", endInterval=1, endIntervalTimeUnit="MINUTES",
                             startIntervalPattern="", endIntervalPattern="")
    engine.process([msg(tenant, device, metadata={"keep": "me"})], now=now)
    [metadata] = _metadata_after(chain)
    want = {k: v.replace("T1", str(t1)).replace("T2", str(t2)).replace("T3", str(t3)) for k, v in expected.items()}
    assert metadata == {"keep": "me", **want}


def test_originator_telemetry_with_metadata_intervals_and_aggregation(tenant, device):
    write_points([Point(device.pk, "temp", ts, v) for ts, v in ((1000, 1), (2000, 3), (3000, 100))])
    [[out]] = run_node(tenant, nodes.ORIGINATOR_TELEMETRY, [msg(tenant, device, metadata={"from": "0", "to": "2500"})],
                       latestTsKeyNames=["temp"], aggregation="AVG", useMetadataIntervalPatterns=True,
                       startIntervalPattern="${from}", endIntervalPattern="${to}")
    assert out.relation == "Success" and float(out.msg.metadata["temp"]) == 2.0
    [[bad]] = run_node(tenant, nodes.ORIGINATOR_TELEMETRY, [msg(tenant, device, metadata={"from": "x"})],
                       latestTsKeyNames=["temp"], useMetadataIntervalPatterns=True,
                       startIntervalPattern="${from}", endIntervalPattern="${to}")
    assert bad.relation == "Failure" and "from" in bad.error
    [[empty]] = run_node(tenant, nodes.ORIGINATOR_TELEMETRY, [msg(tenant, device)], latestTsKeyNames=[])
    assert empty.relation == "Failure" and "Telemetry is not selected" in empty.error
    with pytest.raises(ConfigError, match="fetchMode"):
        make_node(tenant, nodes.ORIGINATOR_TELEMETRY, latestTsKeyNames=["a"], fetchMode="SOME")
