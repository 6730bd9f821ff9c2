"""ThingsBoard PE's aggregate stream node: per originator and interval, state in the database."""

import json
import zoneinfo

import pytest
from django.core.cache import cache

from rulechains import engine, nodes
from rulechains.node_state_models import RuleNodeState
from rulechains.nodes import timers
from rulechains.nodes.analytics_stream import interval_of
from rulechains.nodes.base import ConfigError
from rulechains.tests.helpers import events_of, install_root, msg, node
from tbproject.testing.factories import make_device

pytestmark = pytest.mark.django_db

STREAM = "org.thingsboard.rule.engine.analytics.incoming.TbSimpleAggMsgNode"
HOUR = 3_600_000
START = 1_700_000_000_000 - 1_700_000_000_000 % HOUR  # an hour's start
MINUTE = 60_000


def stream_chain(tenant, **configuration):
    """[aggregate stream] -Success-> [log, debug on], as ThingsBoard exports it."""
    config = {"mathFunction": "AVG", "aggIntervalType": "HOUR", "intervalPersistencePolicy":
              "ON_EACH_CHECK_AFTER_INTERVAL_END", "intervalCheckValue": 1, "intervalCheckTimeUnit": "MINUTES",
              "intervalTtlValue": 1, "intervalTtlTimeUnit": "DAYS", "inputValueKey": "temperature",
              "outputValueKey": "avgTemperature", "autoCreateIntervals": False,
              "statePersistencePolicy": "ON_EACH_CHANGE", **configuration}
    return install_root(tenant, [node(STREAM, "stream", **config), node(nodes.LOG, "after", True)],
                        [(0, 1, "Success")])


def reading(tenant, device, value, ts):
    return msg(tenant, device, data={"temperature": value}, metadata={"ts": str(ts)})


def sent(chain) -> list:
    return [(e["entityId"], json.loads(e["data"]), json.loads(e["metadata"])["ts"])
            for e in events_of(chain.nodes.get(index=1), "IN")]


def test_the_hours_average_goes_out_at_the_first_check_after_the_hour_and_survives_a_restart(tenant, other_tenant):
    a, b = make_device(tenant, "a"), make_device(tenant, "b")
    chain = stream_chain(tenant)
    engine.process([reading(tenant, a, 10, START + 1), reading(tenant, a, 20, START + 2),
                    reading(tenant, b, 5, START + 3), msg(tenant, a, data={"humidity": 1})], now=START + 10)
    assert RuleNodeState.objects.filter(tenant=tenant).count() == 2  # in the database, not in memory
    cache.clear()  # a restarted worker: nothing of the node is left but its rows
    engine.process([reading(tenant, a, 30, START + 4)], now=START + 20)
    assert timers.run_generators(START + 30) == 0  # the first check is a check period later
    assert timers.run_generators(START + 30 + MINUTE) == 0  # the hour is not over
    assert timers.run_generators(START + HOUR + 2 * MINUTE) == 2
    assert sorted(sent(chain)) == sorted([(str(a.pk), {"avgTemperature": 20}, str(START)),
                                          (str(b.pk), {"avgTemperature": 5}, str(START))])
    assert timers.run_generators(START + HOUR + 3 * MINUTE) == 0  # unchanged: not sent again
    assert timers.run_generators(START + 2 * HOUR + 24 * 60 * MINUTE) == 0  # past the TTL: dropped
    assert not RuleNodeState.objects.filter(tenant=tenant).exists()
    assert not RuleNodeState.objects.filter(tenant=other_tenant).exists()


def test_on_each_message_the_result_leaves_with_the_message(tenant):
    device = make_device(tenant, "a")
    chain = stream_chain(tenant, mathFunction="COUNT_UNIQUE", intervalPersistencePolicy="ON_EACH_MESSAGE")
    engine.process([reading(tenant, device, v, START + i) for i, v in enumerate((1, 1, 2))], now=START + 10)
    # debug events of one batch share their time: compare the results whatever order they are read in
    assert sorted(s[1]["avgTemperature"] for s in sent(chain)) == [1, 1, 2]


def test_a_value_that_is_not_a_number_fails(tenant):
    device = make_device(tenant, "a")
    chain = stream_chain(tenant)
    install_root(tenant, [node(STREAM, "stream", **chain.nodes.get(index=0).configuration),
                          node(nodes.LOG, "failed", True)], [(0, 1, "Failure")])
    report = engine.process([reading(tenant, device, "hot", START)], now=START)
    assert report.failures == 1


def test_calendar_intervals():
    utc, kyiv = zoneinfo.ZoneInfo("UTC"), zoneinfo.ZoneInfo("Europe/Kyiv")
    ts = 1_700_000_000_000  # 2023-11-14T22:13:20Z, a Tuesday
    assert interval_of(ts, "DAY", utc, 0) == (1_699_920_000_000, 1_700_006_400_000)
    assert interval_of(ts, "WEEK", utc, 0)[0] == 1_699_833_600_000  # Monday 13 Nov
    assert interval_of(ts, "WEEK_SUN_SAT", utc, 0)[0] == 1_699_747_200_000  # Sunday 12 Nov
    assert interval_of(ts, "MONTH", utc, 0) == (1_698_796_800_000, 1_701_388_800_000)
    assert interval_of(ts, "DAY", kyiv, 0)[0] == 1_699_920_000_000 + 22 * HOUR  # 15 Nov 00:00 in Kyiv (UTC+2)
    quarter = ts - ts % (15 * MINUTE)
    assert interval_of(ts, "CUSTOM", utc, 15 * MINUTE) == (quarter, quarter + 15 * MINUTE)


@pytest.mark.parametrize("configuration, error", [
    ({"autoCreateIntervals": True}, "autoCreateIntervals"),
    ({"timeZoneId": "Mars/Base"}, "timeZoneId"),
    ({"mathFunction": "MEDIAN"}, "mathFunction"),
    ({"inputValueKey": ""}, "inputValueKey"),
    ({"intervalPersistencePolicy": "NEVER"}, "intervalPersistencePolicy"),
])
def test_bad_configurations_are_refused(configuration, error):
    node_class = nodes.get_node(STREAM)
    with pytest.raises(ConfigError, match=error):
        node_class.clean_config({**node_class.defaults, **configuration})
