"""Delay and generator nodes through the engine, with chains in ThingsBoard's export JSON."""

import pytest

from devices.telemetry import history
from integrations.tests.brokers import wait_until
from rulechains import engine, nodes, tasks
from rulechains.nodes import timers
from rulechains.nodes.base import ConfigError
from rulechains.tests.helpers import events_of, install_root, make_node, msg, node
from tbproject.testing.factories import make_device

COUNTER_JS = ("var n = (prevMsg.n || 0) + 1;\n"
              "return {msg: {n: n}, metadata: {step: n}, msgType: 'POST_TELEMETRY_REQUEST'};")
COUNTER_TBEL = ("var n = prevMsg.n == null ? 1 : prevMsg.n + 1;\n"
                "return {msg: {n: n}, metadata: {step: n}, msgType: 'POST_TELEMETRY_REQUEST'};")


def delay_chain(tenant, **configuration):
    return install_root(tenant, [
        node(nodes.SWITCH, "switch"), node(nodes.DELAY, "wait", True, **configuration),
        node(nodes.LOG, "after", True),
    ], [(0, 1, "Post telemetry"), (1, 2, "Success")])


@pytest.mark.django_db(transaction=True)
def test_the_delay_node_sends_the_message_on_after_its_period_embedded(tenant):
    device = make_device(tenant, "d")
    chain = delay_chain(tenant, periodValue=1, periodTimeUnit="SECONDS", maxPendingMsgs=1000,
                        usePeriodValuePattern=False, usePeriodTimeUnitPattern=False)
    after = chain.nodes.get(index=2)
    engine.process([msg(tenant, device, data={"t": 7})])
    assert events_of(after) == []  # held
    wait_until(lambda: events_of(after, "IN"), timeout=15, message="the delayed message")
    [arrived] = events_of(after, "IN")
    assert arrived["data"] == '{"t": 7}' and arrived["relationType"] == "Success"
    # the timer thread records the event, then ends: it must not stay behind (it may still be returning)
    wait_until(lambda: not any(t.is_alive() for t in timers.TIMERS), timeout=5, message="the timer thread's end")


def test_the_delay_node_caps_pending_messages_and_parses_patterns(tenant, monkeypatch):
    scheduled = []
    monkeypatch.setattr(timers, "_schedule", lambda payload, delay: scheduled.append(delay))
    device = make_device(tenant, "d")
    node_ = make_node(tenant, nodes.DELAY, periodInSeconds=5, useMetadataPeriodInSecondsPatterns=True,
                      periodInSecondsPattern="${wait}", maxPendingMsgs=1)
    outs = node_.process_batch(_ctx(tenant), [msg(tenant, device, metadata={"wait": "3"}),
                                              msg(tenant, device, metadata={"wait": "4"}),
                                              msg(tenant, device, metadata={"wait": "soon"})])
    assert outs[0] == [] and scheduled == [3]
    assert "Max limit of pending messages reached" in outs[1][0].error
    assert "Can't parse period value" in outs[2][0].error


@pytest.fixture
def brokered():
    """Tasks go to a broker (what apply_async is asked is recorded instead of sent)."""
    from tbproject.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = app.conf.CELERY_TASK_ALWAYS_EAGER = False
    yield
    app.conf.task_always_eager = app.conf.CELERY_TASK_ALWAYS_EAGER = before


def test_with_a_worker_the_delay_is_a_celery_countdown_and_the_task_sends_it_on(tenant, monkeypatch, brokered):
    sent = []
    monkeypatch.setattr(tasks.resume_delayed_task, "apply_async", lambda args, countdown: sent.append((args,
                                                                                                      countdown)))
    device = make_device(tenant, "d")
    chain = delay_chain(tenant, periodValue=2, periodTimeUnit="MINUTES", maxPendingMsgs=10)
    engine.process([msg(tenant, device, data={"t": 8})])
    [([payload], countdown)] = sent
    assert countdown == 120 and events_of(chain.nodes.get(index=2)) == []
    tasks.resume_delayed_task(payload)  # what the worker runs when the countdown ends
    [arrived] = events_of(chain.nodes.get(index=2), "IN")
    assert arrived["data"] == '{"t": 8}'


@pytest.mark.parametrize("configuration, message", [
    ({"periodTimeUnit": "DAYS"}, "Unsupported time unit"), ({"maxPendingMsgs": 0}, "maximum pending"),
])
def test_the_delay_node_refuses_configurations_it_cannot_run(tenant, configuration, message):
    with pytest.raises(ConfigError, match=message):
        make_node(tenant, nodes.DELAY, **configuration)


@pytest.mark.parametrize("lang, script", [("JS", COUNTER_JS), ("TBEL", COUNTER_TBEL)])
def test_the_generator_makes_messages_every_period_up_to_its_count(tenant, lang, script):
    device = make_device(tenant, "gen")
    chain = install_root(tenant, [
        node(nodes.SWITCH, "switch"),
        node(nodes.GENERATOR, "generate", True, msgCount=2, periodInSeconds=5, originatorType="DEVICE",
             originatorId=str(device.pk), scriptLang=lang, jsScript=script if lang == "JS" else "",
             tbelScript=script if lang == "TBEL" else ""),
        node(nodes.SAVE_TIMESERIES, "save", True, defaultTTL=0),
    ], [(1, 2, "Success")])
    start = 1_700_000_000_000
    assert timers.run_generators(start) == 1
    assert timers.run_generators(start + 1000) == 0  # not due yet
    assert timers.run_generators(start + 5000) == 1
    assert timers.run_generators(start + 10_000) == 0  # msgCount reached
    assert history(device.pk, ["n"], 0, start + 20_000, order="ASC") == {"n": [(start, 1), (start + 5000, 2)]}
    assert len(events_of(chain.nodes.get(index=1), "OUT")) == 2  # the generator's own debug events
    [first, _] = events_of(chain.nodes.get(index=2), "IN")
    assert first["msgType"] == "POST_TELEMETRY_REQUEST" and '"step": "1"' in first["metadata"]


def test_a_generator_without_an_originator_sends_as_itself_and_survives_a_failing_script(tenant):
    chain = install_root(tenant, [
        node(nodes.GENERATOR, "generate", periodInSeconds=1,
             jsScript="if (prevMsg.n) throw new Error('once'); return {msg: {n: 1}, msgType: 'X'};"),
        node(nodes.LOG, "log", True),
    ], [(0, 1, "Success")])
    generator = chain.nodes.get(index=0)
    assert timers.run_generators(1000) == 1 and timers.run_generators(2000) == 0  # the second run threw
    [arrived] = events_of(chain.nodes.get(index=1), "IN")
    assert arrived["entityType"] == "RULE_NODE" and arrived["entityId"] == str(generator.pk)


@pytest.mark.parametrize("kind, whose, name", [("DEVICE", "theirs", "Device"), ("ASSET", "mine", "Asset"),
                                               ("TENANT", "other tenant", "Tenant")])
def test_a_generators_message_as_an_entity_not_of_its_tenant_is_dropped(tenant, other_tenant, kind, whose, name):
    """Another tenant's device, the tenant's device named as an asset, another tenant: the engine
    drops the message where it comes out of the generator; the generator's debug says why."""
    theirs, mine = make_device(other_tenant, "theirs"), make_device(tenant, "mine")
    pk = {"theirs": theirs.pk, "mine": mine.pk, "other tenant": other_tenant.pk}[whose]
    chain = install_root(tenant, [
        node(nodes.GENERATOR, "generate", True, periodInSeconds=1, originatorType=kind, originatorId=str(pk),
             jsScript="return {msg: {n: 1}, msgType: 'POST_TELEMETRY_REQUEST'};"),
        node(nodes.SAVE_TIMESERIES, "save", True, defaultTTL=0),
    ], [(0, 1, "Success")])
    assert timers.run_generators(1000) == 0  # made, and dropped: nothing sent as that entity
    assert history(theirs.pk, ["n"], 0, 10_000) == {} and history(mine.pk, ["n"], 0, 10_000) == {}
    [dropped] = events_of(chain.nodes.get(index=0), "OUT")
    assert dropped["error"] == (f"{name} with id [{pk}] is not found: the message is dropped, its originator is not "
                                "an entity of this tenant")
    assert events_of(chain.nodes.get(index=1)) == []


@pytest.mark.parametrize("kind", ["DEVICE", "TENANT"])
def test_a_generator_sends_as_an_entity_of_its_tenant(tenant, kind):
    mine = make_device(tenant, "mine")
    install_root(tenant, [
        node(nodes.GENERATOR, "generate", periodInSeconds=1, originatorType=kind,
             originatorId=str(mine.pk if kind == "DEVICE" else tenant.pk),
             jsScript="return {msg: {n: 1}, msgType: 'POST_TELEMETRY_REQUEST'};"),
        node(nodes.SAVE_TIMESERIES, "save", defaultTTL=0),
    ], [(0, 1, "Success")])
    assert timers.run_generators(1000) == 1
    saved_on = mine.pk if kind == "DEVICE" else tenant.pk
    assert history(saved_on, ["n"], 0, 10_000) == {"n": [(1000, 1)]}


def _ctx(tenant):
    from rulechains.nodes.base import NodeContext
    from tbproject.clock import now_ms

    return NodeContext(tenant.pk, now_ms())


def test_a_message_delayed_in_a_called_chain_still_returns_to_its_caller(tenant, monkeypatch, brokered):
    from rulechains import services
    from rulechains.tests.helpers import chain_json

    sent = []
    monkeypatch.setattr(tasks.resume_delayed_task, "apply_async", lambda args, countdown: sent.append(args[0]))
    called = services.create_chain(tenant.pk, chain_json("Slow", [
        node(nodes.DELAY, "wait", periodValue=0, periodTimeUnit="SECONDS", maxPendingMsgs=10),
        node(nodes.RULE_CHAIN_OUTPUT, "Done")], [(0, 1, "Success")]))
    root = install_root(tenant, [node(nodes.RULE_CHAIN_INPUT, "call", ruleChainId=str(called.pk)),
                                 node(nodes.LOG, "after", True)], [(0, 1, "Done")])
    engine.process([msg(tenant, make_device(tenant, "d"), data={"t": 3})])
    [payload] = sent
    tasks.resume_delayed_task(payload)
    [arrived] = events_of(root.nodes.get(index=1), "IN")
    assert arrived["relationType"] == "Done" and arrived["data"] == '{"t": 3}'


def test_the_delay_node_says_that_embedded_mode_loses_waiting_messages_on_restart():
    """Embedded mode keeps delayed messages on timer threads (not persisted): the component
    descriptor's details and the period's help in the node form say so (README, rule nodes)."""
    from rulechains.components import descriptor

    definition = descriptor(nodes.DELAY)["configurationDescriptor"]["nodeDefinition"]
    assert "LOST when the process stops or restarts" in definition["details"]
    [period] = [f for f in definition["fields"] if f["name"] == "periodValue"]
    assert "lost when the process restarts" in period["help"]
