"""Integer options (rulechains.nodes.base.int_option), read as ThingsBoard's JSON reader reads an
int, with one error text, and the nodes that take them."""

import pytest

from rulechains import nodes
from rulechains.nodes.base import INT_MAX, INT_MIN, ConfigError, int_option
from rulechains.tests.helpers import make_node

_TB = "org.thingsboard.rule.engine."
DEDUP = _TB + "deduplication.TbMsgDeduplicationNode"
MATH = _TB + "math.TbMathNode"
DELTA = _TB + "metadata.CalculateDeltaNode"
EVENTS = _TB + "geo.TbGpsGeofencingActionNode"
TELEMETRY = _TB + "metadata.TbGetTelemetryNode"
ASSIGN = _TB + "action.TbAssignToCustomerNode"
MAIL = _TB + "mail.TbSendEmailNode"
RELATED = _TB + "metadata.TbGetRelatedAttributeNode"
ORIGINATOR = _TB + "transform.TbChangeOriginatorNode"
DEVICE_ATTRIBUTES = _TB + "metadata.TbGetDeviceAttrNode"


@pytest.mark.parametrize("value, expected", [
    (7, 7), ("7", 7), (" -7 ", -7), ("+7", 7), (7.0, 7), (None, 3), ("", 3), ("  ", 3), (0, 0), ("010", 10),
])
def test_numbers_their_text_and_integral_floats_are_read_null_and_blank_are_the_default(value, expected):
    assert int_option({"n": value}, "n", 3, low=-10, high=10) == expected
    assert int_option({}, "n", 3, low=-10, high=10) == 3


@pytest.mark.parametrize("value, shown", [
    (11, "'11'"), (-11, "'-11'"), ("11", "'11'"), (1.5, "'1.5'"), (True, "'True'"), ("1e3", "'1e3'"),
    ("\u00b2", "'\u00b2'"), ("9" * 5000, repr("9" * 40)), (float("inf"), "'inf'"), (float("nan"), "'nan'"),
    ([1], "'[1]'"), ({"n": 1}, repr("{'n': 1}")),
])
def test_anything_else_is_one_error_naming_the_key_and_the_range(value, shown):
    with pytest.raises(ConfigError) as refused:
        int_option({"n": value}, "n", 3, low=-10, high=10)
    assert str(refused.value) == f"n must be an integer from -10 to 10, got {shown}"


def test_the_range_is_a_java_int_unless_given_and_floats_may_be_cut_as_jackson_does():
    assert int_option({"n": INT_MAX}, "n", 0) == INT_MAX and int_option({"n": str(INT_MIN)}, "n", 0) == INT_MIN
    with pytest.raises(ConfigError, match=f"n must be an integer from {INT_MIN} to {INT_MAX}, got '2147483648'"):
        int_option({"n": INT_MAX + 1}, "n", 0)
    assert int_option({"n": 1.9}, "n", 0, truncate=True) == 1 and int_option({"n": -1.9}, "n", 0, truncate=True) == -1
    with pytest.raises(ConfigError):
        int_option({"n": float("inf")}, "n", 0, truncate=True)


def test_a_default_of_none_is_none_unless_the_option_is_required():
    assert int_option({"n": None}, "n", None, low=1, high=5) is None
    with pytest.raises(ConfigError, match="n must be an integer from 1 to 5, got null"):
        int_option({"n": None}, "n", None, low=1, high=5, required=True)


@pytest.mark.parametrize("kind, configuration, key, read, bad, text", [
    (DEDUP, {"interval": "30"}, "interval", 30, {"interval": 0}, f"interval must be an integer from 1 to {INT_MAX}"),
    (DEDUP, {"maxPendingMsgs": 50.0}, "maxPendingMsgs", 50, {"maxPendingMsgs": 5000},
     "maxPendingMsgs must be an integer from 1 to 1000"),
    (DEDUP, {"maxRetries": None}, "maxRetries", 3, {"maxRetries": 101}, "maxRetries must be an integer from 0 to 100"),
    (TELEMETRY, {"startInterval": "5"}, "start", 5 * 60_000, {"startInterval": -1},
     f"startInterval must be an integer from 0 to {INT_MAX}"),
    (TELEMETRY, {"limit": ""}, "limit", 1000, {"limit": "ten"}, f"limit must be an integer from 0 to {INT_MAX}"),
    (DELTA, {"round": "2"}, "round", 2, {"round": 301}, "round must be an integer from -300 to 300"),
    (EVENTS, {"minInsideDuration": 1.5}, "minInside", 60_000, {"minInsideDuration": "soon"},
     f"minInsideDuration must be an integer from {INT_MIN} to {INT_MAX}"),
])
def test_each_node_reads_its_integer_options_alike(tenant, kind, configuration, key, read, bad, text):
    base = {**nodes.get_node(kind).defaults, **_required(kind)}
    assert make_node(tenant, kind, **{**base, **configuration}).config[key] == read
    with pytest.raises(ConfigError, match=text):
        make_node(tenant, kind, **{**base, **bad})


def _required(kind) -> dict:
    """What the node's defaults leave out and its configuration check needs."""
    if kind == TELEMETRY:
        return {"latestTsKeyNames": ["t"], "startIntervalTimeUnit": "MINUTES", "endIntervalTimeUnit": "MINUTES"}
    if kind == DELTA:
        return {"inputValueKey": "v", "outputValueKey": "d"}
    if kind == EVENTS:
        return {"fetchPerimeterInfoFromMessageMetadata": False, "perimeterType": "POLYGON",
                "polygonsDefinition": "[[1,1],[1,2],[2,2],[2,1]]", "minInsideDurationTimeUnit": "MINUTES"}
    return {}


def test_the_math_precision_and_the_cache_expirations_read_alike(tenant):
    math_node = make_node(tenant, MATH, operation="ADD", arguments=[
        {"type": "CONSTANT", "key": "1"}, {"type": "CONSTANT", "key": "2"}],
        result={"type": "MESSAGE_BODY", "key": "r", "resultValuePrecision": "2"})
    assert math_node.config["result"]["precision"] == 2
    with pytest.raises(ConfigError, match="resultValuePrecision must be an integer from -300 to 300, got '301'"):
        make_node(tenant, MATH, operation="ADD", arguments=[{"type": "CONSTANT", "key": "1"},
                                                            {"type": "CONSTANT", "key": "2"}],
                  result={"type": "MESSAGE_BODY", "key": "r", "resultValuePrecision": 301})
    make_node(tenant, ASSIGN, customerNamePattern="x", customerCacheExpiration="300")
    make_node(tenant, ASSIGN, customerNamePattern="x", customerCacheExpiration=1.5)  # as Jackson: 1
    with pytest.raises(ConfigError, match="customerCacheExpiration must be an integer from"):
        make_node(tenant, ASSIGN, customerNamePattern="x", customerCacheExpiration="soon")


def _level(config):
    return config["query"].max_level


@pytest.mark.parametrize("kind, configuration, read, value, bad, text", [
    (MAIL, {"useSystemSmtpSettings": False, "timeout": "2500"}, lambda c: c["timeout"], 2.5, {"timeout": -1},
     f"timeout must be an integer from 0 to {INT_MAX}, got '-1'"),
    (MAIL, {"useSystemSmtpSettings": False, "timeout": None}, lambda c: c["timeout"], 10.0, {"timeout": 2.5},
     f"timeout must be an integer from 0 to {INT_MAX}, got '2.5'"),
    (MAIL, {"useSystemSmtpSettings": False, "timeout": 0.0}, lambda c: c["timeout"], 10.0, {"timeout": True},
     f"timeout must be an integer from 0 to {INT_MAX}, got 'True'"),
    (nodes.GENERATOR, {"msgCount": "3"}, lambda c: c["msgCount"], 3, {"msgCount": -1},
     f"msgCount must be an integer from 0 to {INT_MAX}, got '-1'"),
    (nodes.GENERATOR, {"periodInSeconds": 5.0}, lambda c: (c["periodInSeconds"], c["period"]), (5, 5),
     {"periodInSeconds": "often"}, f"periodInSeconds must be an integer from 0 to {INT_MAX}, got 'often'"),
    (nodes.GENERATOR, {"msgCount": None, "periodInSeconds": " 0 "}, lambda c: (c["msgCount"], c["period"]), (0, 1),
     {"periodInSeconds": 1.5}, f"periodInSeconds must be an integer from 0 to {INT_MAX}"),
    (nodes.DELAY, {"periodValue": "15", "maxPendingMsgs": 10.0}, lambda c: (c["value"], c["max"]), (15, 10),
     {"periodValue": -1}, f"periodValue must be an integer from 0 to {INT_MAX}, got '-1'"),
    (nodes.DELAY, {"periodValue": None, "maxPendingMsgs": None}, lambda c: (c["value"], c["max"]), (60, 1000),
     {"maxPendingMsgs": "many"}, f"maxPendingMsgs must be an integer from {INT_MIN} to {INT_MAX}, got 'many'"),
    (nodes.DELAY, {"maxPendingMsgs": "100000"}, lambda c: c["max"], 100_000, {"maxPendingMsgs": "100001"},
     "Invalid maximum pending messages limit \\[100001\\]"),
    (RELATED, {"relationsQuery": {"direction": "FROM", "maxLevel": "3"}}, _level, 3,
     {"relationsQuery": {"direction": "FROM", "maxLevel": 1.5}},
     f"relationsQuery.maxLevel must be an integer from {INT_MIN} to {INT_MAX}, got '1.5'"),
    (RELATED, {"relationsQuery": {"direction": "TO", "maxLevel": None}}, _level, 1,
     {"relationsQuery": {"direction": "TO", "maxLevel": "deep"}}, "relationsQuery.maxLevel must be an integer"),
    (RELATED, {"relationsQuery": {"direction": "TO", "maxLevel": -1.0}}, _level, -1,
     {"relationsQuery": {"direction": "TO", "maxLevel": True}}, "relationsQuery.maxLevel must be an integer"),
    (ORIGINATOR, {"originatorSource": "RELATED", "relationsQuery": {"direction": "FROM", "maxLevel": " 2 "}},
     _level, 2, {"originatorSource": "RELATED", "relationsQuery": {"direction": "FROM", "maxLevel": [2]}},
     "relationsQuery.maxLevel must be an integer"),
    (DEVICE_ATTRIBUTES, {"deviceRelationsQuery": {"direction": "FROM", "maxLevel": 4.0}}, _level, 4,
     {"deviceRelationsQuery": {"direction": "FROM", "maxLevel": str(INT_MAX + 1)}},
     f"deviceRelationsQuery.maxLevel must be an integer from {INT_MIN} to {INT_MAX}, got '2147483648'"),
    (DEVICE_ATTRIBUTES, {"deviceRelationsQuery": {"direction": "FROM", "maxLevel": ""}}, _level, 1,
     {"deviceRelationsQuery": {"direction": "FROM", "maxLevel": "1e2"}}, "deviceRelationsQuery.maxLevel must be"),
])
def test_the_nodes_that_had_their_own_parsers_read_integers_alike(tenant, kind, configuration, read, value, bad,
                                                                   text):
    base = {**nodes.get_node(kind).defaults, **configuration}
    assert read(make_node(tenant, kind, **base).config) == value
    with pytest.raises(ConfigError, match=text):
        make_node(tenant, kind, **{**base, **bad})
