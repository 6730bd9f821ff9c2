"""Save time series, save attributes and log nodes."""

import logging

import pytest

from devices.attributes import get_attributes
from devices.telemetry import history, latest
from rulechains import nodes
from rulechains.nodes.base import ConfigError
from rulechains.tests.helpers import make_node, msg, run_node
from tbproject.testing.factories import make_device


@pytest.fixture
def device(tenant):
    return make_device(tenant, "meter-1")


def test_save_timeseries_writes_every_shape_and_skips_what_the_pipeline_stored(tenant, device):
    batch = [msg(tenant, device, data={"a": 1}, metadata={"ts": "1000"}),
             msg(tenant, device, data=[{"ts": 2000, "values": {"b": 2}}, {"ts": 3000, "values": {"b": 3}}]),
             msg(tenant, device, data={"c": 9}, stored=True)]
    outs = run_node(tenant, nodes.SAVE_TIMESERIES, batch, defaultTTL=0)
    assert [o.relation for [o] in outs] == ["Success"] * 3
    assert history(device.pk, ["a", "b"], 0, 10_000, order="ASC") == {"a": [(1000, 1)], "b": [(2000, 2), (3000, 3)]}
    assert "c" not in latest(device.pk)


def test_save_timeseries_fails_other_types_and_bad_data_alone(tenant, device):
    batch = [msg(tenant, device, msg_type="POST_ATTRIBUTES_REQUEST"), msg(tenant, device, data={"x": None}),
             msg(tenant, device, data={"ok": 1})]
    outs = run_node(tenant, nodes.SAVE_TIMESERIES, batch)
    assert [o.relation for [o] in outs] == ["Failure", "Failure", "Success"]
    assert "Unsupported msg type: POST_ATTRIBUTES_REQUEST" in outs[0][0].error and "null" in outs[1][0].error
    assert set(latest(device.pk)) == {"ok"}


def test_save_attributes_writes_in_the_configured_scope_and_skips_stored_messages(tenant, device):
    batch = [msg(tenant, device, "POST_ATTRIBUTES_REQUEST", data={"fw": "1.0"}),
             msg(tenant, device, "POST_ATTRIBUTES_REQUEST", data={"other": 1}, stored=True)]
    outs = run_node(tenant, nodes.SAVE_ATTRIBUTES, batch, scope="CLIENT_SCOPE", notifyDevice="false")
    assert [o.relation for [o] in outs] == ["Success", "Success"]
    assert [(a["scope"], a["key"], a["value"]) for a in get_attributes(device.pk)] == [("CLIENT_SCOPE", "fw", "1.0")]


def test_save_attributes_takes_the_scope_the_message_names_before_the_configured_one(tenant, device):
    batch = [msg(tenant, device, "POST_ATTRIBUTES_REQUEST", data={"shared": 1}, metadata={"scope": "SHARED_SCOPE"}),
             msg(tenant, device, "POST_ATTRIBUTES_REQUEST", data={"odd": 2}, metadata={"scope": "NOWHERE"}),
             msg(tenant, device, "POST_ATTRIBUTES_REQUEST", data={"plain": 3})]
    outs = run_node(tenant, nodes.SAVE_ATTRIBUTES, batch, scope="SERVER_SCOPE")
    assert [o.relation for [o] in outs] == ["Success"] * 3
    assert sorted((a["key"], a["scope"]) for a in get_attributes(device.pk)) == [
        ("odd", "SERVER_SCOPE"), ("plain", "SERVER_SCOPE"), ("shared", "SHARED_SCOPE")]


def test_save_attributes_refuses_an_unknown_scope(tenant):
    with pytest.raises(ConfigError, match="scope"):
        make_node(tenant, nodes.SAVE_ATTRIBUTES, scope="EVERYWHERE")


def test_the_log_node_logs_what_its_script_returns(tenant, caplog):
    caplog.set_level(logging.INFO, logger="rulechains.log")
    script = "return 'got ' + msg.t + ' ' + msgType;"
    [[out]] = run_node(tenant, nodes.LOG, [msg(tenant, data={"t": 5})], jsScript=script)
    assert out.relation == "Success"
    assert "got 5 POST_TELEMETRY_REQUEST" in caplog.text


def test_a_log_node_without_a_script_logs_the_message_as_thingsboards_default_script(tenant, caplog):
    caplog.set_level(logging.INFO, logger="rulechains.log")
    [[out]] = run_node(tenant, nodes.LOG, [msg(tenant, data={"t": 6})], scriptLang="TBEL")
    assert out.relation == "Success" and 'Incoming message:\n{"t":6}' in caplog.text


def test_a_tbel_log_node_logs_what_its_script_returns(tenant, caplog):
    caplog.set_level(logging.INFO, logger="rulechains.log")
    [[out]] = run_node(tenant, nodes.LOG, [msg(tenant, data={"t": 7})], scriptLang="TBEL",
                       tbelScript="return 'tbel saw ' + msg.t + ' ' + msgType;")
    assert out.relation == "Success" and "tbel saw 7 POST_TELEMETRY_REQUEST" in caplog.text


def test_save_timeseries_gives_its_series_the_ttl_and_retention_removes_older_points(tenant, device):
    from devices.models import SeriesTtl
    from devices.tasks import telemetry_retention
    from devices.telemetry import series_ttl
    from rulechains import engine
    from rulechains.tests.helpers import install_root, node
    from tbproject.clock import now_ms

    install_root(tenant, [node(nodes.SWITCH, "switch"), node(nodes.SAVE_TIMESERIES, "save", defaultTTL=60,
                                                             useServerTs=False)],
                 [(0, 1, "Post telemetry")])
    now = now_ms()
    engine.process([msg(tenant, device, data=[{"ts": now - 120_000, "values": {"a": 1}},
                                              {"ts": now - 1000, "values": {"a": 2}}]),
                    msg(tenant, device, data={"b": 1}, metadata={"ts": str(now - 7_200_000), "TTL": "3600"}),
                    msg(tenant, device, data={"c": 5}, stored=True)])  # stored by the pipeline: TTL only
    ttls = dict(SeriesTtl.objects.values_list("key__key", "ttl_ms"))
    assert ttls == {"a": 60_000, "b": 3_600_000, "c": 60_000}
    telemetry_retention()
    assert history(device.pk, ["a", "b"], 0, now + 1, order="ASC") == {"a": [(now - 1000, 2)]}
    assert latest(device.pk, ["b"])["b"][1] == 1  # latest values outlive their history, as ThingsBoard's
    series_ttl.set_ttls([(device.pk, "a", 0)])
    assert not SeriesTtl.objects.filter(key__key="a").exists()
    with pytest.raises(ConfigError, match="defaultTTL"):
        make_node(tenant, nodes.SAVE_TIMESERIES, defaultTTL=-1)


def test_the_device_profile_node_passes_devices_on_and_fails_unknown_ones(tenant, other_tenant, device):
    from rulechains import engine
    from rulechains.tests.helpers import events_of, install_root, node
    from tbproject.testing.factories import make_asset

    chain = install_root(tenant, [
        node(nodes.DEVICE_PROFILE, "Device Profile Node", True, persistAlarmRulesState=False,
             fetchAlarmRulesStateOnStart=False),
        node(nodes.SWITCH, "Message Type Switch"), node(nodes.LOG, "failed", True),
    ], [(0, 1, "Success"), (0, 2, "Failure")])
    foreign = make_device(other_tenant, "theirs")
    report = engine.process([msg(tenant, device), msg(tenant, foreign), msg(tenant, make_asset(tenant), kind="ASSET")])
    assert report.refused == 1  # another tenant's device never reaches the node (the engine's entry check)
    relations = sorted(e["relationType"] for e in events_of(chain.nodes.get(index=0), "OUT"))
    assert relations == ["Success", "Success"]
    assert events_of(chain.nodes.get(index=2), "IN") == []
    # the node itself still fails a device it cannot find (one deleted while its message ran)
    [[out]] = run_node(tenant, nodes.DEVICE_PROFILE, [msg(tenant)])
    assert out.relation == "Failure" and out.error.startswith("Device with id [")
