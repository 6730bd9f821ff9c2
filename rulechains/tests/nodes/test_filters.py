"""Message type switch and script filter nodes."""

import pytest

from rulechains import nodes
from rulechains.nodes.base import ConfigError
from rulechains.tests.helpers import make_node, msg, run_node
from tbproject.testing.factories import make_device


@pytest.mark.parametrize("msg_type, relation", [
    ("POST_TELEMETRY_REQUEST", "Post telemetry"), ("POST_ATTRIBUTES_REQUEST", "Post attributes"),
    ("ATTRIBUTES_UPDATED", "Attributes Updated"), ("RPC_CALL_FROM_SERVER_TO_DEVICE", "RPC Request to Device"),
    ("TO_SERVER_RPC_REQUEST", "RPC Request from Device"), ("ALARM", "Other"), ("CUSTOM_TYPE", "Other"),
])
def test_the_switch_routes_by_thingsboards_relation_names(tenant, msg_type, relation):
    [[out]] = run_node(tenant, nodes.SWITCH, [msg(tenant, msg_type=msg_type)], version=0)
    assert out.relation == relation and out.error is None


def test_the_script_filter_routes_true_false_and_failure_in_one_batch(tenant):
    script = "if (msg.t === 3) throw new Error('boom'); return msg.t > 1 && metadata.site === 'n' && msgType !== 'X';"
    batch = [msg(tenant, data={"t": 2}, metadata={"site": "n"}), msg(tenant, data={"t": 0}, metadata={"site": "n"}),
             msg(tenant, data={"t": 3})]
    outs = run_node(tenant, nodes.SCRIPT_FILTER, batch, jsScript=script)
    assert [o.relation for [o] in outs] == ["True", "False", "Failure"]
    assert "boom" in outs[2][0].error and outs[0][0].msg is batch[0]


def test_the_script_filter_fails_a_result_that_is_not_a_boolean(tenant):
    [[out]] = run_node(tenant, nodes.SCRIPT_FILTER, [msg(tenant)], jsScript="return 'yes';")
    assert out.relation == "Failure" and "boolean" in out.error


def test_script_errors_report_the_users_line(tenant):
    [[out]] = run_node(tenant, nodes.SCRIPT_FILTER, [msg(tenant)], jsScript="var a = 1;\nreturn nope.x;")
    assert out.relation == "Failure" and "nope" in out.error and "line 2" in out.error


def test_a_script_that_runs_too_long_fails_within_the_converter_limits(tenant, settings):
    settings.CONVERTER_TIMEOUT_MS = 200
    [[out]] = run_node(tenant, nodes.SCRIPT_FILTER, [msg(tenant)], jsScript="for(;;){}")
    assert out.relation == "Failure" and "timeout" in out.error


@pytest.mark.parametrize("configuration, message", [
    ({}, "jsScript"), ({"scriptLang": "TBEL", "jsScript": "return true;"}, "tbelScript"),
    ({"scriptLang": "LUA", "jsScript": "return true;"}, "scriptLang must be JS or TBEL"),
])
def test_the_script_filter_refuses_configurations_it_cannot_run(tenant, configuration, message):
    with pytest.raises(ConfigError, match=message):
        make_node(tenant, nodes.SCRIPT_FILTER, **configuration)


def test_a_tbel_filter_runs_its_tbel_script(tenant):
    script = "var limit = 20;\nreturn msg.t > limit && metadata.deviceType == 'thermostat';"
    meta = {"deviceType": "thermostat"}
    outs = run_node(tenant, nodes.SCRIPT_FILTER, [msg(tenant, data={"t": 25}, metadata=meta),
                                                  msg(tenant, data={"t": 5}, metadata=meta)],
                    scriptLang="TBEL", tbelScript=script)
    assert [out.relation for [out] in outs] == ["True", "False"]
    with pytest.raises(ConfigError, match="line 2"):
        nodes.get_node(nodes.SCRIPT_FILTER).check({"scriptLang": "TBEL", "tbelScript": "var a = 1;\nreturn (;"})


def test_a_script_that_does_not_compile_is_refused_at_save_with_its_line(tenant):
    node_class = nodes.get_node(nodes.SCRIPT_FILTER)
    node_class.check({"jsScript": "return true;"})
    with pytest.raises(ConfigError, match="line 2"):
        node_class.check({"jsScript": "var a = 1;\nreturn (;"})


# --- script switch (TbJsSwitchNode), through the engine ---------------------------------------

SWITCH_JS = ("function nextRelation(metadata, msg) {\n    return ['one', 'nine'];\n}\n"
             "if (msgType === 'POST_TELEMETRY_REQUEST') {\n    return ['two'];\n}\nreturn nextRelation(metadata, msg);")
SWITCH_TBEL = "if (msg.t > 10) {\n    return ['hot', 'logged'];\n}\nreturn 'cold';"


def _switch_chain(tenant, **configuration):
    from rulechains.tests.helpers import install_root, node

    names = ["one", "two", "nine", "hot", "cold", "logged", "Failure"]
    return install_root(tenant, [node(nodes.SCRIPT_SWITCH, "switch", True, **configuration)]
                        + [node(nodes.LOG, name, True) for name in names],
                        [(0, i + 1, name) for i, name in enumerate(names)])


def _arrivals(chain):
    from rulechains.tests.helpers import events_of

    return sorted(n.name for n in chain.nodes.exclude(index=0) for _ in events_of(n, "IN"))


def test_the_script_switch_routes_by_every_relation_its_script_returns(tenant):
    from rulechains import engine

    chain = _switch_chain(tenant, scriptLang="JS", jsScript=SWITCH_JS, tbelScript="")
    device = make_device(tenant)
    engine.process([msg(tenant, device), msg(tenant, device, msg_type="POST_ATTRIBUTES_REQUEST")])
    assert _arrivals(chain) == ["nine", "one", "two"]


def test_a_tbel_script_switch_and_its_failures(tenant):
    from rulechains import engine

    chain = _switch_chain(tenant, scriptLang="TBEL", tbelScript=SWITCH_TBEL, jsScript="")
    device = make_device(tenant)
    engine.process([msg(tenant, device, data={"t": 20}), msg(tenant, device, data={"t": 1})])
    assert _arrivals(chain) == ["cold", "hot", "logged"]
    [[bad]] = run_node(tenant, nodes.SCRIPT_SWITCH, [msg(tenant)], jsScript="return 42;")
    assert bad.relation == "Failure" and "relation name" in bad.error
    with pytest.raises(ConfigError, match="line 2"):
        nodes.get_node(nodes.SCRIPT_SWITCH).check({"jsScript": "var a;\nreturn [;"})
