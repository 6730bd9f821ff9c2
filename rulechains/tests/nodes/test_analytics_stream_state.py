"""The aggregate stream node's state: concurrent batches (PostgreSQL), its size and its bounds."""

import json
import threading

import pytest
from django.db import connection

from rulechains import engine, nodes
from rulechains.node_state_models import RuleNodeState
from rulechains.nodes import analytics_stream
from rulechains.nodes.analytics_stream import SimpleAggMsgNode
from rulechains.nodes.base import ConfigError
from rulechains.tests.helpers import install_root, msg, node
from tbproject.testing.factories import make_device

STREAM = "org.thingsboard.rule.engine.analytics.incoming.TbSimpleAggMsgNode"
HOUR = 3_600_000
START = 1_700_000_000_000 - 1_700_000_000_000 % HOUR


def stream_chain(tenant, **c):
    config = {"mathFunction": "COUNT", "aggIntervalType": "HOUR", "inputValueKey": "t", "outputValueKey": "n", **c}
    return install_root(tenant, [node(STREAM, "stream", **config), node(nodes.LOG, "after")], [(0, 1, "Success")])


def reading(tenant, device, value, ts):
    return msg(tenant, device, data={"t": value}, metadata={"ts": str(ts)})


def run_together(monkeypatch, batches):
    """Run the batches in threads of their own (connections of their own), each reaching the node's
    state at the same moment: both have read that no row exists yet."""
    barrier = threading.Barrier(len(batches), timeout=20)
    original = SimpleAggMsgNode.load

    def synced_load(self, *args, **kwargs):
        if kwargs.get("lock") and threading.current_thread() is not threading.main_thread():
            barrier.wait()
        return original(self, *args, **kwargs)

    monkeypatch.setattr(SimpleAggMsgNode, "load", synced_load)
    errors = []

    def run(batch):
        try:
            engine.process(batch, now=START + 10)
        except Exception as e:  # reported below
            errors.append(repr(e)[:300])
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(b,)) for b in batches]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    return errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_first_batches_of_an_entity_both_count(tenant, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): row locks")
    d = make_device(tenant, "a")
    stream_chain(tenant)
    errors = run_together(monkeypatch, [[reading(tenant, d, v, START + v)] for v in (1, 2)])
    assert not errors
    assert RuleNodeState.objects.get(tenant=tenant).state_data["intervals"][str(START)]["n"] == 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_batches_of_the_same_new_entities_in_opposite_orders_do_not_deadlock(tenant, monkeypatch):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): row locks")
    devices = [make_device(tenant, f"d{i}") for i in range(300)]
    stream_chain(tenant)
    batches = [[reading(tenant, d, 1, START + 5) for d in order] for order in (devices, devices[::-1])]
    errors = run_together(monkeypatch, batches)
    assert not errors
    counts = [row.state_data["intervals"][str(START)]["n"] for row in RuleNodeState.objects.filter(tenant=tenant)]
    assert len(counts) == 300 and set(counts) == {2}


@pytest.mark.django_db
def test_unique_values_are_kept_as_small_hashes(tenant):
    d = make_device(tenant, "a")
    stream_chain(tenant, mathFunction="COUNT_UNIQUE", intervalPersistencePolicy="ON_EACH_MESSAGE")
    big = "x" * 100_000
    values = [f"{i % 20}{big}" for i in range(30)]
    engine.process([reading(tenant, d, v, START + i) for i, v in enumerate(values)], now=START + 100)
    slot = RuleNodeState.objects.get(tenant=tenant).state_data["intervals"][str(START)]
    assert len(json.dumps(slot)) < 2_000 and len(slot["u"]) == 20 and slot["u"] == sorted(slot["u"])
    engine.process([reading(tenant, d, values[0], START + 50), reading(tenant, d, "new", START + 51)],
                   now=START + 100)
    assert len(RuleNodeState.objects.get(tenant=tenant).state_data["intervals"][str(START)]["u"]) == 21


@pytest.mark.django_db
def test_data_more_than_an_interval_ahead_is_ignored(tenant):
    d = make_device(tenant, "a")
    stream_chain(tenant)
    far = START + 1000 * 365 * 24 * HOUR
    engine.process([reading(tenant, d, 1, far + i * HOUR) for i in range(50)], now=START)
    assert not RuleNodeState.objects.filter(tenant=tenant).exists()
    engine.process([reading(tenant, d, 1, START + HOUR + 5)], now=START + 10)  # the next hour: kept
    assert list(RuleNodeState.objects.get(tenant=tenant).state_data["intervals"]) == [str(START + HOUR)]


@pytest.mark.django_db
def test_open_intervals_per_entity_are_capped_dropping_the_oldest(tenant, monkeypatch, caplog):
    monkeypatch.setattr(analytics_stream, "MAX_INTERVALS", 5)
    d = make_device(tenant, "a")
    stream_chain(tenant)
    engine.process([reading(tenant, d, 1, START + i * HOUR) for i in range(8)], now=START + 8 * HOUR)
    intervals = RuleNodeState.objects.get(tenant=tenant).state_data["intervals"]
    assert sorted(map(int, intervals)) == [START + i * HOUR for i in range(3, 8)]
    assert "MAX_INTERVALS" in caplog.text


def test_a_custom_interval_shorter_than_a_second_is_refused():
    node_class = nodes.get_node(STREAM)
    config = {**node_class.defaults, "aggIntervalType": "CUSTOM", "aggIntervalValue": 500,
              "aggIntervalTimeUnit": "MILLISECONDS"}
    with pytest.raises(ConfigError, match="at least 1 s"):
        node_class.clean_config(config)
    node_class.clean_config({**config, "aggIntervalValue": 1000})
