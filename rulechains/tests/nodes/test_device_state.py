"""ThingsBoard's device state node: the device's state attributes, its event message, rate limits."""

import pytest

from devices.attributes import attribute_values
from rulechains import engine, nodes
from rulechains.nodes.base import ConfigError
from rulechains.tests.helpers import events_of, install_root, msg, node, run_node
from tbproject.testing.factories import make_asset, make_device

pytestmark = pytest.mark.django_db

STATE = "org.thingsboard.rule.engine.action.TbDeviceStateNode"
NOW = 1_700_000_000_000


@pytest.fixture(autouse=True)
def _no_limits(settings):
    settings.DEVICE_STATE_NODE_RATE_LIMIT_CONFIGURATION = ""


def state(device) -> dict:
    return {k: v for (_, k), (_, v) in attribute_values([device.pk], "SERVER_SCOPE",
                                                        ["active", "lastActivityTime", "lastConnectTime"]).items()}


def test_activity_marks_the_device_active_and_sends_the_event_once(tenant):
    device = make_device(tenant, "d")
    chain = install_root(tenant, [node(nodes.SWITCH, "switch"), node(STATE, "state", event="ACTIVITY_EVENT"),
                                  node(nodes.LOG, "activity", True)],
                         [(0, 1, "Post telemetry"), (0, 2, "Activity Event")])
    engine.process([msg(tenant, device, metadata={"ts": str(NOW)})], now=NOW)
    assert state(device) == {"active": True, "lastActivityTime": NOW}
    [event] = events_of(chain.nodes.get(index=2), "IN")
    assert event["msgType"] == "ACTIVITY_EVENT" and event["entityId"] == str(device.pk)
    engine.process([msg(tenant, device, metadata={"ts": str(NOW + 5)})], now=NOW + 5)
    assert state(device)["lastActivityTime"] == NOW + 5
    assert len(events_of(chain.nodes.get(index=2), "IN")) == 1  # already active: no second ACTIVITY_EVENT


def test_other_originators_fail_and_another_tenants_device_is_not_touched(tenant, other_tenant):
    asset, theirs = make_asset(tenant, "a"), make_device(other_tenant, "x")
    [[out_a], [out_b]] = run_node(tenant, STATE, [msg(tenant, asset, kind="ASSET"), msg(tenant, theirs)],
                                  event="CONNECT_EVENT")
    assert out_a.error == "Unsupported originator entity type: [ASSET]. Only DEVICE entity type is supported."
    assert out_b.relation == "Failure" and state(theirs) == {}


def test_the_rate_limit_routes_by_rate_limited(tenant, settings):
    settings.DEVICE_STATE_NODE_RATE_LIMIT_CONFIGURATION = "1:60"
    device = make_device(tenant, "d")
    outs = run_node(tenant, STATE, [msg(tenant, device), msg(tenant, device)], event="DISCONNECT_EVENT")
    assert [o[0].relation for o in outs] == ["Success", "Rate limited"]


@pytest.mark.parametrize("event, error", [(None, "Event cannot be null!"), ("REBOOT", "Unsupported event")])
def test_bad_events_are_refused(event, error):
    with pytest.raises(ConfigError, match=error):
        nodes.get_node(STATE).clean_config({"event": event})


def test_inactivity_marks_the_device_inactive_and_malformed_limits_are_ignored(tenant, settings):
    settings.DEVICE_STATE_NODE_RATE_LIMIT_CONFIGURATION = "x:1, 5:0,"
    device = make_device(tenant, "d")
    [[out]] = run_node(tenant, STATE, [msg(tenant, device, metadata={"ts": str(NOW)})], event="INACTIVITY_EVENT")
    assert out.relation == "Success"
    values = attribute_values([device.pk], "SERVER_SCOPE", ["active", "inactivityAlarmTime"])
    assert {k: v for (_, k), (_, v) in values.items()} == {"active": False, "inactivityAlarmTime": NOW}


def test_the_event_data_is_keyed_as_thingsboard_sends_it(tenant):
    import json

    device = make_device(tenant, "d")
    chain = install_root(tenant, [node(nodes.SWITCH, "switch"), node(STATE, "state", event="INACTIVITY_EVENT"),
                                  node(nodes.LOG, "inactive", True)],
                         [(0, 1, "Post telemetry"), (0, 2, "Inactivity Event")])
    engine.process([msg(tenant, device, metadata={"ts": str(NOW)})], now=NOW)
    [event] = events_of(chain.nodes.get(index=2), "IN")
    assert json.loads(event["data"]) == {"lastConnectTime": 0, "lastActivityTime": 0, "lastDisconnectTime": 0,
                                         "lastInactivityAlarmTime": NOW, "inactivityTimeout": 600_000}
