"""Copy, rename and delete keys, JSONPath and split array nodes; a chain in ThingsBoard's export JSON."""

import json

import pytest

from devices.telemetry import latest
from rulechains import engine
from rulechains.nodes.base import ConfigError
from rulechains.tests.helpers import events_of, install_root, make_node, msg, node, run_node
from tbproject.testing.factories import make_device

_TB = "org.thingsboard.rule.engine."
COPY, RENAME, DELETE = _TB + "transform.TbCopyKeysNode", _TB + "transform.TbRenameKeysNode", \
    _TB + "transform.TbDeleteKeysNode"
JSON_PATH, SPLIT = _TB + "transform.TbJsonPathNode", _TB + "transform.TbSplitArrayMsgNode"
SAVE_TIMESERIES, LOG = _TB + "telemetry.TbMsgTimeseriesNode", _TB + "action.TbLogNode"


def one(tenant, kind, message, **configuration):
    [[out]] = run_node(tenant, kind, [message], **configuration)
    return out


def test_copy_keys_from_the_data_to_the_metadata_by_whole_regex_match(tenant):
    data = {"temp": 21.5, "tempMax": 30, "on": True, "where": {"room": 2}, "label": "k", "xtemp": 1}
    out = one(tenant, COPY, msg(tenant, data=data, metadata={"ts": "1"}), copyFrom="DATA",
              keys=["temp.*", "on", "where", "label"])
    assert out.relation == "Success" and out.msg.data == data
    assert out.msg.metadata == {"ts": "1", "temp": "21.5", "tempMax": "30", "on": "true", "where": '{"room":2}',
                                "label": "k"}


def test_copy_keys_from_the_metadata_with_the_older_from_metadata_flag(tenant):
    out = one(tenant, COPY, msg(tenant, data={"a": 1}, metadata={"deviceName": "d1", "ts": "5"}, stored=True),
              fromMetadata=True, keys=["device.*"])
    assert out.msg.data == {"a": 1, "deviceName": "d1"} and out.msg.stored is False
    unchanged = msg(tenant, data={"a": 1}, stored=True)
    assert one(tenant, COPY, unchanged, fromMetadata="false", keys=["zzz"]).msg is unchanged


def test_copy_keys_leave_data_that_is_not_an_object_unchanged(tenant):
    original = msg(tenant, data=[{"temp": 1}], metadata={"temp": "2"})
    out = one(tenant, COPY, original, copyFrom="METADATA", keys=["temp"])
    assert out.relation == "Success" and out.msg is original


@pytest.mark.parametrize("configuration, problem", [
    ({"copyFrom": "BODY", "keys": []}, "copyFrom"), ({"keys": ["a"]}, "copyFrom"),
    ({"fromMetadata": "maybe", "keys": []}, "fromMetadata"), ({"copyFrom": "DATA", "keys": ["(unclosed"]}, "keys"),
    ({"copyFrom": "DATA", "keys": "temp"}, "keys"),
])
def test_copy_keys_refuse_bad_configurations(tenant, configuration, problem):
    with pytest.raises(ConfigError, match=problem):
        make_node(tenant, COPY, **configuration)


def test_rename_keys_in_the_data_keeps_values_and_skips_absent_keys(tenant):
    out = one(tenant, RENAME, msg(tenant, data={"t": 21, "h": {"v": 1}, "keep": 0}), renameIn="DATA",
              renameKeysMapping={"t": "temperature", "h": "humidity", "absent": "x"})
    assert out.msg.data == {"keep": 0, "temperature": 21, "humidity": {"v": 1}}


def test_rename_keys_in_the_metadata_and_with_the_older_flag(tenant):
    out = one(tenant, RENAME, msg(tenant, metadata={"deviceName": "d", "ts": "1"}), fromMetadata=True,
              renameKeysMapping={"deviceName": "name"})
    assert out.msg.metadata == {"ts": "1", "name": "d"}
    listed = msg(tenant, data=[1, 2])
    assert one(tenant, RENAME, listed, renameIn="DATA", renameKeysMapping={"a": "b"}).msg is listed


@pytest.mark.parametrize("configuration", [{"renameIn": "DATA"}, {"renameIn": "DATA", "renameKeysMapping": {}},
                                           {"renameIn": "X", "renameKeysMapping": {"a": "b"}},
                                           {"renameIn": "DATA", "renameKeysMapping": {"a": 5}}])
def test_rename_keys_refuse_bad_configurations(tenant, configuration):
    with pytest.raises(ConfigError):
        make_node(tenant, RENAME, **configuration)


def test_delete_keys_by_regex_from_the_data_and_the_metadata(tenant):
    message = msg(tenant, data={"temp": 1, "tmp_a": 2, "tmp_b": 3, "x": 4}, metadata={"secret1": "s", "ts": "1"})
    out = one(tenant, DELETE, message, deleteFrom="DATA", keys=["tmp_.*", "x"])
    assert out.msg.data == {"temp": 1} and out.msg.metadata == message.metadata
    out = one(tenant, DELETE, message, fromMetadata=True, keys=["secret\\d"])
    assert out.msg.metadata == {"ts": "1"} and out.msg.data == message.data
    assert one(tenant, DELETE, message, deleteFrom="DATA", keys=["nothing"]).msg is message


BOOKS = {"store": {"book": [{"author": "Rees", "price": 8.95}, {"author": "Waugh", "price": 12.99},
                            {"author": "Melville", "price": 8.99, "isbn": "0-553"}], "bicycle": {"price": 19.95}},
         "expensive": 10, "name": "s"}


@pytest.mark.parametrize("path, expected", [
    ("$.store.bicycle", {"price": 19.95}), ("$.store.book[-1].author", "Melville"), ("$['name']", "s"),
    ("$.store.book[*].author", ["Rees", "Waugh", "Melville"]), ("$..price", [8.95, 12.99, 8.99, 19.95]),
    ("$.store.book[?(@.price < 10)].author", ["Rees", "Melville"]), ("$..book[?(@.isbn)].author", ["Melville"]),
    ("$..book[?(@.price <= $['expensive'] && @.author =~ /.*REES/i)].price", [8.95]),
    ("$.store.book[0,1].price", [8.95, 12.99]), ("$.store.book[:2].author", ["Rees", "Waugh"]),
    ("$..book[?(@.price > 100)]", []), ("$.store.book.length()", 3), ("$..book[*].price.max()", 12.99),
    ("$.store.book[*].price.sum()", 30.93),
])
def test_json_path_selects_with_jayways_syntax(tenant, path, expected):
    out = one(tenant, JSON_PATH, msg(tenant, data=BOOKS), jsonPath=path)
    assert out.relation == "Success"
    assert out.msg.data == pytest.approx(expected) if isinstance(expected, float) else out.msg.data == expected


@pytest.mark.parametrize("path, error", [
    ("$.store.nothing", "No results for path: $['store']['nothing']"),
    ("$.store.nothing.price", "Missing property in path $['store']['nothing']"),
    ("$.store.book[7]", "No results for path: $['store']['book'][7]"),
    ("$.name.first", "Expected to find an object with property ['first'] in path $['name'] but found "
                     "'com.fasterxml.jackson.databind.node.TextNode'"),
    ("$.store.bicycle[0]", "Filter: [0] can only be applied to arrays. Current context is: {\"price\":19.95}"),
])
def test_json_path_fails_as_jayway_when_a_definite_path_finds_nothing(tenant, path, error):
    out = one(tenant, JSON_PATH, msg(tenant, data=BOOKS), jsonPath=path)
    assert out.relation == "Failure" and out.error.startswith(error) and out.msg.data == BOOKS


def test_json_path_dollar_passes_the_message_and_bad_paths_are_refused(tenant):
    original = msg(tenant, data=BOOKS, stored=True)
    assert one(tenant, JSON_PATH, original, jsonPath="$").msg is original
    for bad in ("", "$.store[?(@.price <", None, 5):
        with pytest.raises(ConfigError, match="jsonPath"):
            make_node(tenant, JSON_PATH, jsonPath=bad)


def test_split_array_sends_one_message_per_element_with_the_same_metadata(tenant):
    outs = run_node(tenant, SPLIT, [msg(tenant, data=[{"a": 1}, 2, "x"], metadata={"ts": "7"}),
                                    msg(tenant, data=[]), msg(tenant, data={"a": 1})])
    assert [(o.relation, o.msg.data, o.msg.metadata) for o in outs[0]] == [
        ("Success", {"a": 1}, {"ts": "7"}), ("Success", 2, {"ts": "7"}), ("Success", "x", {"ts": "7"})]
    assert outs[1] == []  # an empty array is acknowledged: nothing leaves
    assert outs[2][0].relation == "Failure" and outs[2][0].error == "Msg data is not a JSON Array!"


def _export_chain():
    """A rule chain as ThingsBoard 3.5 exports it (version-0 configurations with ``fromMetadata``)."""
    nodes = [
        node(SPLIT, "split readings", True, version=0),
        node(RENAME, "t to temperature", True, fromMetadata=False, renameKeysMapping={"t": "temperature"}),
        node(DELETE, "drop debug keys", True, fromMetadata=False, keys=["dbg.*"]),
        node(COPY, "site from metadata", True, fromMetadata=True, keys=["site"]),
        node(SAVE_TIMESERIES, "save", True, defaultTTL=0),
        node(JSON_PATH, "pick missing", True, jsonPath="$.nothing"),
        node(LOG, "failures", True, jsInterval="", jsScript="return 'x';"),
    ]
    return nodes, [(0, 1, "Success"), (1, 2, "Success"), (2, 3, "Success"), (3, 4, "Success"), (3, 5, "Success"),
                   (5, 6, "Failure")]


def test_a_thingsboard_export_chain_splits_renames_deletes_copies_and_saves(tenant):
    device = make_device(tenant, "meter-1")
    chain = install_root(tenant, *_export_chain())
    ts = 1_700_000_000_000
    report = engine.process([msg(tenant, device, data=[{"t": 20, "dbgA": 1}, {"t": 21.5, "dbgB": 2}],
                                 metadata={"site": "north", "ts": str(ts)})])
    assert report is not None
    assert {k: v for k, (_, v) in latest(device.pk).items()} == {"temperature": 21.5, "site": "north"}
    failed = [json.loads(e["data"]) for e in events_of(chain.nodes.get(index=6), "IN")]
    # two events of one batch share a created time: their order among themselves is not kept
    assert sorted(failed, key=lambda d: d["temperature"]) == [{"temperature": 20, "site": "north"},
                                                             {"temperature": 21.5, "site": "north"}]


# --- hostile patterns and numbers ---------------------------------------------------------------------

#: backtracks catastrophically over "aaaa...!" (seconds with re; the regex package gives up in time)
_REDOS = "(a|aa)+b"


@pytest.mark.parametrize("kind, source", [(_TB + "transform.TbCopyKeysNode", "copyFrom"),
                                          (_TB + "transform.TbDeleteKeysNode", "deleteFrom")])
def test_a_backtracking_key_pattern_fails_its_message_in_time(tenant, kind, source):
    import time

    slow, fine = msg(tenant, data={"a" * 40 + "!": 1}), msg(tenant, data={"ab": 1})
    started = time.monotonic()
    outs = run_node(tenant, kind, [slow, fine], **{source: "DATA", "keys": [_REDOS]})
    assert time.monotonic() - started < 2
    assert [o.relation for [o] in outs] == ["Failure", "Success"]
    assert "took too long" in outs[0][0].error
    [[long_key]] = run_node(tenant, kind, [msg(tenant, data={"k" * 5000: 1})], **{source: "DATA", "keys": ["k+"]})
    assert long_key.relation == "Failure" and "longer than 1024" in long_key.error


@pytest.mark.parametrize("path", ["$.items[?(@.name =~ /(a|aa)+b/)]", "$.items[?match(@.name, '(a|aa)+b')]",
                                  "$.items[?search(@.name, '^(a|aa)+b')]"])
def test_a_backtracking_jsonpath_regex_fails_its_message_in_time(tenant, path):
    import time

    slow = msg(tenant, data={"items": [{"name": "a" * 40 + "!"}]})
    fine = msg(tenant, data={"items": [{"name": "aab"}, {"name": "x"}]})
    started = time.monotonic()
    outs = run_node(tenant, _TB + "transform.TbJsonPathNode", [slow, fine], jsonPath=path)
    assert time.monotonic() - started < 2
    assert [o.relation for [o] in outs] == ["Failure", "Success"] and "took too long" in outs[0][0].error
    assert outs[1][0].msg.data == [{"name": "aab"}]


def test_jsonpath_regex_flags_still_apply(tenant):
    [[out]] = run_node(tenant, _TB + "transform.TbJsonPathNode", [msg(tenant, data={"i": [{"n": "ABC"}, {"n": "x"}]})],
                       jsonPath="$.i[?(@.n =~ /ab.*/i)]")
    assert out.msg.data == [{"n": "ABC"}]


def test_an_aggregate_over_a_number_beyond_a_double_fails_that_message(tenant):
    outs = run_node(tenant, _TB + "transform.TbJsonPathNode",
                    [msg(tenant, data={"values": [10**400, 1]}), msg(tenant, data={"values": [1, 2]})],
                    jsonPath="$.values.sum()")
    assert [o.relation for [o] in outs] == ["Failure", "Success"] and outs[1][0].msg.data == 3.0
    assert "out of the range of a double" in outs[0][0].error
