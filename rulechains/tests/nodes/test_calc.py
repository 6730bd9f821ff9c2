"""Math function node (and its exp4j expressions) and calculate delta node."""

import json
import math

import pytest

from devices.attributes import attribute_values, save_attributes
from devices.telemetry import Point, latest, write_points
from rulechains import engine
from rulechains.nodes.base import ConfigError, NodeContext, NodeError
from rulechains.nodes.expressions import Expression
from rulechains.tests.helpers import events_of, install_root, make_node, msg, node, run_node
from tbproject.clock import now_ms
from tbproject.testing.factories import make_device

_TB = "org.thingsboard.rule.engine."
MATH, DELTA = _TB + "math.TbMathNode", _TB + "metadata.CalculateDeltaNode"
SAVE_TIMESERIES, LOG = _TB + "telemetry.TbMsgTimeseriesNode", _TB + "action.TbLogNode"
F_TO_C = {"operation": "CUSTOM", "customFunction": "(x - 32) / 1.8",
          "arguments": [{"name": "x", "type": "MESSAGE_BODY", "key": "temperature", "attributeScope": None,
                         "defaultValue": None}],
          "result": {"type": "MESSAGE_BODY", "key": "temperatureCelsius", "resultValuePrecision": 2,
                     "addToBody": False, "addToMetadata": False, "attributeScope": None}}


@pytest.fixture
def device(tenant):
    return make_device(tenant, "meter-1")


def arg(name, kind, key, **extra):
    return {"name": name, "type": kind, "key": key, "attributeScope": None, "defaultValue": None, **extra}


def result(kind, key, precision=2, **extra):
    return {"type": kind, "key": key, "resultValuePrecision": precision, "addToBody": False, "addToMetadata": False,
            "attributeScope": None, **extra}


@pytest.mark.parametrize("text, variables, expected", [
    ("(x - 32) / 1.8", {"x": 68.0}, 20.0), ("-2^2", {}, -4.0), ("2^3^2", {}, 512.0), ("2^-1", {}, 0.5),
    ("2x + 3(x - 1)", {"x": 2.0}, 7.0), ("x y", {"x": 3.0, "y": 4.0}, 12.0), ("10 % 4 * 2", {}, 4.0),
    ("sin(pi / 2) + ln(e) + lg(100) + logab(2, 8)", {}, 7.0), ("pow(2, 10) - abs(-24)", {}, 1000.0),
    ("sqrt(16) * cbrt(27) + floor(2.7) - ceil(0.2) + signum(-5)", {}, 12.0), ("1e3 + .5", {}, 1000.5),
])
def test_exp4j_expressions_follow_its_precedence_and_functions(text, variables, expected):
    assert Expression(text, list(variables)).evaluate(variables) == pytest.approx(expected)


@pytest.mark.parametrize("text, problem", [
    ("y + 1", "Unknown function or variable 'y'"), ("__import__('os').system('x')", "unknown character"),
    ("(x + 1", "Expected ')'"), ("x +", "Unexpected end"), ("sin(1, 2)", "Invalid number of arguments"),
    ("x.real", "unknown character"), ("(" * 60 + "x" + ")" * 60, "nested"),
])
def test_expressions_that_are_not_exp4j_are_refused_without_running_anything(text, problem):
    with pytest.raises(ConfigError, match="customFunction") as raised:
        Expression(text, ["x"])
    assert problem in str(raised.value)


def test_division_by_zero_in_an_expression_fails_the_message():
    with pytest.raises(NodeError, match="Division by zero!"):
        Expression("1 / (x - 2)", ["x"]).evaluate({"x": 2.0})


def test_the_default_configuration_converts_fahrenheit_to_celsius(tenant):
    outs = run_node(tenant, MATH, [msg(tenant, data={"temperature": 68}), msg(tenant, data={"temperature": "100.4"}),
                                   msg(tenant, data={"t": 1}), msg(tenant, data={"temperature": "hot"}),
                                   msg(tenant, data=[1])], **F_TO_C)
    assert [o[0].msg.data for o in outs[:2]] == [{"temperature": 68, "temperatureCelsius": 20.0},
                                                 {"temperature": "100.4", "temperatureCelsius": 38.0}]
    assert [o[0].error for o in outs[2:]] == ["Message body has no 'temperature'!",
                                              "Can't convert value 'hot' to double!",
                                              "Message body is not a JSON object!"]


def test_operations_constants_metadata_templates_and_precision(tenant):
    message = msg(tenant, data={"a": 7}, metadata={"b": "2.5", "which": "a"})
    out = run_node(tenant, MATH, [message], operation="MULT",
                   arguments=[arg("x", "MESSAGE_BODY", "${which}"), arg("y", "MESSAGE_METADATA", "b")],
                   result=result("MESSAGE_METADATA", "product_${which}", 0))[0][0]
    assert out.msg.metadata["product_a"] == "17"  # precision 0: an integer, truncated as Java's (long)
    out = run_node(tenant, MATH, [message], operation="DIV",
                   arguments=[arg("x", "CONSTANT", "1"), arg("y", "CONSTANT", "3")],
                   result=result("MESSAGE_METADATA", "third", 3))[0][0]
    assert out.msg.metadata["third"] == "0.333"
    out = run_node(tenant, MATH, [message], operation="SQRT", arguments=[arg("x", "MESSAGE_METADATA", "missing",
                                                                             defaultValue=1e16)],
                   result=result("MESSAGE_METADATA", "root", 1))[0][0]
    assert out.msg.metadata["root"] == "1.0E8"  # Java's Double.toString
    [[zero]] = run_node(tenant, MATH, [message], operation="DIV",
                        arguments=[arg("x", "CONSTANT", "1"), arg("y", "CONSTANT", "0")],
                        result=result("MESSAGE_BODY", "r"))
    assert zero.relation == "Failure" and "not a finite number" in zero.error


def test_attribute_results_chain_within_a_batch_and_read_one_query_per_kind(tenant, device,
                                                                          django_assert_max_num_queries):
    save_attributes(device.pk, "SERVER_SCOPE", {"total": 100})
    instance = make_node(tenant, MATH, operation="ADD",
                         arguments=[arg("a", "ATTRIBUTE", "total"), arg("b", "MESSAGE_BODY", "delta")],
                         result=result("ATTRIBUTE", "total", 0, addToMetadata=True))
    batch = [msg(tenant, device, data={"delta": 5}), msg(tenant, device, data={"delta": 7.9})]
    with django_assert_max_num_queries(6):  # originators, attributes, then one upsert (+ savepoint)
        outs = instance.process_batch(NodeContext(tenant.pk, now_ms()), batch)
    assert [o[0].msg.metadata["total"] for o in outs] == ["105", "112"]
    assert attribute_values([device.pk], "SERVER_SCOPE", ["total"])[(device.pk, "total")][1] == 112


def test_time_series_arguments_and_results_use_the_stored_latest_values(tenant, device):
    write_points([Point(device.pk, "energy", 1000, 40), Point(device.pk, "ratio", 1000, "0.5")])
    [[out]] = run_node(tenant, MATH, [msg(tenant, device, data={"x": 1})], operation="CUSTOM",
                       customFunction="e1 * r", arguments=[arg("e1", "TIME_SERIES", "energy"),
                                                           arg("r", "TIME_SERIES", "ratio")],
                       result=result("TIME_SERIES", "scaled", 2, addToBody=True))
    assert out.relation == "Success" and out.msg.data == {"x": 1, "scaled": 20.0}
    assert latest(device.pk, ["scaled"])["scaled"][1] == 20.0


def test_another_tenants_device_reads_as_not_found_and_gets_nothing_saved(tenant, other_tenant):
    theirs = make_device(other_tenant, "theirs")
    save_attributes(theirs.pk, "SERVER_SCOPE", {"total": 100})
    [[read]] = run_node(tenant, MATH, [msg(tenant, theirs, data={"d": 1})], operation="ADD",
                        arguments=[arg("a", "ATTRIBUTE", "total"), arg("b", "MESSAGE_BODY", "d")],
                        result=result("MESSAGE_BODY", "sum"))
    assert read.relation == "Failure"
    assert read.error == f"Attribute: total with scope: SERVER_SCOPE not found for entity: {theirs.pk}"
    [[write]] = run_node(tenant, MATH, [msg(tenant, theirs, data={"d": 1})], operation="ABS",
                         arguments=[arg("a", "MESSAGE_BODY", "d")], result=result("ATTRIBUTE", "total", 0))
    assert write.relation == "Failure" and "not found" in write.error
    assert attribute_values([theirs.pk], "SERVER_SCOPE", ["total"])[(theirs.pk, "total")][1] == 100


@pytest.mark.parametrize("changes, problem", [
    ({"operation": "ADD"}, "Args count: 1 does not match operation: ADD"), ({"operation": "NOPE"}, "operation"),
    ({"customFunction": " "}, "Custom function is blank!"), ({"customFunction": "x+" * 200}, "too complex"),
    ({"customFunction": "x + z"}, "Unknown function or variable 'z'"),
    ({"result": result("CONSTANT", "k")}, "result.type"), ({"result": result("MESSAGE_BODY", "")}, "result.key"),
    ({"arguments": [arg("x", "CONSTANT", "abc")]}, "Can't convert value 'abc' to double!"),
    ({"arguments": [arg("x", "ATTRIBUTE", "k", attributeScope="EVERYWHERE")]}, "attributeScope"),
    ({"arguments": [arg("sin", "MESSAGE_BODY", "k")]}, "name"),
])
def test_math_node_refuses_bad_configurations(tenant, changes, problem):
    with pytest.raises(ConfigError) as raised:
        make_node(tenant, MATH, **{**F_TO_C, **changes})
    assert problem in str(raised.value)


def test_a_thingsboard_export_with_a_math_node_saves_its_result(tenant, device):
    nodes = [node(MATH, "consumption", True, operation="ADD",
                  arguments=[arg("total", "ATTRIBUTE", "totalWater", attributeScope="SERVER_SCOPE", defaultValue=0),
                             arg("delta", "MESSAGE_BODY", "deltaWater")],
                  customFunction="", result=result("ATTRIBUTE", "totalWater", 1, attributeScope="SERVER_SCOPE",
                                                   addToBody=True)),
             node(LOG, "after", True, jsScript="return 'ok';")]
    chain = install_root(tenant, nodes, [(0, 1, "Success")])
    engine.process([msg(tenant, device, data={"deltaWater": 1.25})])
    engine.process([msg(tenant, device, data={"deltaWater": 2.5})])
    assert attribute_values([device.pk], "SERVER_SCOPE", ["totalWater"])[(device.pk, "totalWater")][1] == 3.8
    after = [json.loads(e["data"]) for e in events_of(chain.nodes.get(index=1), "IN")]
    assert [d["totalWater"] for d in after] == [1.3, 3.8]


# --- calculate delta ----------------------------------------------------------------------------

def delta_config(**changes):
    return {"inputValueKey": "pulseCounter", "outputValueKey": "delta", "useCache": False,
            "addPeriodBetweenMsgs": True, "periodValueKey": "periodInMs", "round": None,
            "tellFailureIfDeltaIsNegative": True, "excludeZeroDeltas": False, **changes}


def reading(tenant, device, value, ts, **extra):
    return msg(tenant, device, data={"pulseCounter": value, **extra}, metadata={"ts": str(ts)})


def test_delta_against_the_stored_latest_value_and_within_a_batch(tenant, device):
    write_points([Point(device.pk, "pulseCounter", 1_000, 100)])
    outs = run_node(tenant, DELTA, [reading(tenant, device, 150, 4_000), reading(tenant, device, 152.5, 5_000),
                                    msg(tenant, device, data={"other": 1}),
                                    msg(tenant, device, msg_type="POST_ATTRIBUTES_REQUEST", data={"pulseCounter": 1})],
                    **delta_config())
    assert [o[0].relation for o in outs] == ["Success", "Success", "Other", "Other"]
    assert outs[0][0].msg.data == {"pulseCounter": 150, "delta": 50, "periodInMs": 3_000}
    assert outs[1][0].msg.data == {"pulseCounter": 152.5, "delta": 2.5, "periodInMs": 1_000}


def test_negative_zero_rounding_and_first_readings(tenant, device):
    write_points([Point(device.pk, "pulseCounter", 1_000, 100)])
    [[negative]] = run_node(tenant, DELTA, [reading(tenant, device, 90, 2_000)], **delta_config())
    assert negative.relation == "Failure" and negative.error == "Delta value is negative!"
    original = reading(tenant, device, 100, 2_000)
    [[zero]] = run_node(tenant, DELTA, [original], **delta_config(excludeZeroDeltas=True))
    assert zero.relation == "Success" and zero.msg is original
    [[rounded]] = run_node(tenant, DELTA, [reading(tenant, device, 100.456, 2_000)], **delta_config(round=2))
    assert rounded.msg.data["delta"] == 0.46
    [[first]] = run_node(tenant, DELTA, [reading(tenant, make_device(tenant, "new"), 7, 2_000)], **delta_config())
    assert first.msg.data == {"pulseCounter": 7, "delta": 0, "periodInMs": 0}


def test_a_stored_uplink_compares_with_the_reading_before_its_own(tenant, device):
    write_points([Point(device.pk, "pulseCounter", ts, v) for ts, v in ((1_000, 10), (2_000, 14), (3_000, 20))])
    uplink = msg(tenant, device, data=[{"ts": 2_000, "values": {"pulseCounter": 14}},
                                       {"ts": 3_000, "values": {"pulseCounter": 20, "x": 1}}], stored=True)
    [[out]] = run_node(tenant, DELTA, [uplink], **delta_config())
    assert out.msg.data == [{"ts": 2_000, "values": {"pulseCounter": 14, "delta": 4, "periodInMs": 1_000}},
                            {"ts": 3_000, "values": {"pulseCounter": 20, "x": 1, "delta": 6, "periodInMs": 1_000}}]
    assert out.msg.stored is False


def test_another_tenants_reading_is_not_read_and_bad_stored_values_fail(tenant, other_tenant, device):
    theirs = make_device(other_tenant, "theirs")
    write_points([Point(theirs.pk, "pulseCounter", 1_000, 5), Point(device.pk, "pulseCounter", 1_000, "lots")])
    [[foreign]] = run_node(tenant, DELTA, [reading(tenant, theirs, 50, 2_000)], **delta_config())
    assert foreign.msg.data["delta"] == 0
    [[bad]] = run_node(tenant, DELTA, [reading(tenant, device, 50, 2_000)], **delta_config())
    assert bad.relation == "Failure"
    assert bad.error == "Calculation failed. Unable to parse value [lots] of telemetry [pulseCounter] to Double"


@pytest.mark.parametrize("changes, problem", [
    ({"inputValueKey": ""}, "Input value key should be specified!"), ({"outputValueKey": None}, "Output value key"),
    ({"periodValueKey": " "}, "Period value key"), ({"round": "two"}, "round"), ({"round": 10**6}, "round"),
])
def test_calculate_delta_refuses_bad_configurations(tenant, changes, problem):
    with pytest.raises(ConfigError, match=problem):
        make_node(tenant, DELTA, **delta_config(**changes))


def _delta_chain(tenant, **configuration):
    return install_root(tenant, [node(DELTA, "delta", True, **configuration),
                                 node(LOG, "after", True, jsScript="return 'ok';")], [(0, 1, "Success")])


@pytest.mark.parametrize("use_cache, second_delta", [(True, 5), (False, 0)])
def test_the_cache_carries_readings_across_batches_and_without_it_the_database_is_read(tenant, device, use_cache,
                                                                                      second_delta):
    chain = _delta_chain(tenant, **{**delta_config(useCache=use_cache, addPeriodBetweenMsgs=False), "version": 1})
    engine.process([reading(tenant, device, 10, 1_000)])
    engine.process([reading(tenant, device, 15, 2_000)])  # nothing saved the first reading
    deltas = [json.loads(e["data"])["delta"] for e in events_of(chain.nodes.get(index=1), "IN")]
    assert deltas == [0, second_delta]
    write_points([Point(device.pk, "pulseCounter", 2_500, 11)])
    engine.process([reading(tenant, device, 20, 3_000)])
    deltas = [json.loads(e["data"])["delta"] for e in events_of(chain.nodes.get(index=1), "IN")]
    assert deltas[-1] == (5 if use_cache else 9)


def test_thingsboard_defaults_load(tenant):
    from rulechains.nodes import NODES

    for kind in (MATH, DELTA):
        cls = NODES.load(kind)
        assert cls.clean_config(dict(cls.defaults))
    assert not math.isnan(Expression("x", ["x"]).evaluate({"x": 1.0}))


def test_test_runs_compute_without_saving_or_caching(tenant, device):
    ctx = NodeContext(tenant.pk, now_ms())
    delta = make_node(tenant, DELTA, **delta_config(useCache=True))
    [[trial]] = delta.simulate(ctx, [reading(tenant, device, 999, 1_000)])
    assert trial.msg.data["delta"] == 0
    outs = [delta.process_batch(ctx, [reading(tenant, device, v, ts)]) for v, ts in ((10, 2_000), (12, 3_000))]
    assert [o[0][0].msg.data["delta"] for o in outs] == [0, 2]  # the cache never saw 999
    math_node = make_node(tenant, MATH, operation="ABS", arguments=[arg("a", "MESSAGE_BODY", "v")],
                          result=result("TIME_SERIES", "absolute", 1, addToBody=True))
    [[simulated]] = math_node.simulate(ctx, [msg(tenant, device, data={"v": -2.5})])
    assert simulated.msg.data == {"v": -2.5, "absolute": 2.5} and latest(device.pk, ["absolute"]) == {}


@pytest.mark.parametrize("ts", ["\u00b2", "9" * 5000])
def test_a_metadata_ts_that_is_not_a_long_counts_from_now(tenant, ts):
    """"²" is a digit to str.isdigit (int() refuses it); 5,000 nines are beyond int's digit limit."""
    device = make_device(tenant, "meter")
    outs = run_node(tenant, DELTA, [msg(tenant, device, data={"v": 1}, metadata={"ts": ts}),
                                    msg(tenant, device, data={"v": 3})],
                    inputValueKey="v", outputValueKey="d", useCache=False)
    assert [(o.relation, o.msg.data) for [o] in outs] == [("Success", {"v": 1, "d": 0}), ("Success", {"v": 3, "d": 2})]
