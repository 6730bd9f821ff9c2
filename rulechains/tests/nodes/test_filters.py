"""Message type switch and script filter nodes."""

import pytest

from rulechains import nodes
from rulechains.nodes.base import ConfigError
from rulechains.tests.helpers import make_node, msg, run_node


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
