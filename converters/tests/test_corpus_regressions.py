"""Constructs found failing when real third-party converters were run through testUpLink /
testDownLink (converters/tests/corpus_runner.py); each case is our own few lines reproducing one."""

import base64
import json
from types import SimpleNamespace

import pytest

from converters import engine, ts013, uplink
from converters.tests.envelopes import FRAME, doc, raw


def tbel(body: str, payload: bytes = b""):
    result = engine.decode(None, 0, body, [(payload, {})], lang="TBEL")[0]
    assert result.error is None, result.error
    return json.loads(result.output_json)


@pytest.mark.parametrize("expr, expected", [
    # TbUtils' isX(String) called with a number: MVEL converts it to its text first
    ("isDecimal(2)", 10),
    ("isDecimal(2.5)", 10),
    ("isDecimal('-7')", 10),
    ("isDecimal('1.5E3')", 10),
    ("isDecimal('x1')", -1),
    ("isDecimal(null)", -1),
    ("isBinary(101)", 2),
    ("isOctal(17)", 8),
    ("isHexadecimal(255)", 16),
])
def test_number_checks_take_any_value_as_its_text(expr, expected):
    assert tbel(f"return {expr};") == expected


TYPED = {"type": "UPLINK", "integrationType": "CHIRPSTACK", "converterVersion": 2,
         "configuration": {"scriptLang": "TBEL", "type": "DEVICE", "name": "Sensor $eui", "profile": "P",
                           "attributes": ["fPort"], "telemetry": None}}
SIZE = "return {telemetry: {size: payload.size()}};"


def up(api, payload: bytes, converter=TYPED):
    body = {"payload": base64.b64encode(payload).decode(), "metadata": {"integrationName": "cs"},
            "decoder": SIZE, "converter": converter}
    res = api.post("/api/converter/testUpLink?scriptLang=TBEL", body, format="json")
    assert res.status_code == 200 and res.json()["error"] == "", res.content
    return res.json()


def test_a_typed_converter_is_tested_on_the_network_servers_envelope_posted_whole(api):
    # ThingsBoard's own check of its converters library posts the ChirpStack JSON itself and
    # compares outputMsg with the library's result: the device bytes and the network fields
    # reach the script, and values without a ts of their own show flat.
    res, envelope = up(api, raw("chirpstack_up")), doc("chirpstack_up")
    assert res["outputMsg"] == {"entityType": "DEVICE", "name": f"Sensor {envelope['deviceInfo']['devEui']}",
                                "profile": "P", "telemetry": {"size": len(FRAME)},
                                "attributes": {"fPort": envelope["fPort"]}}


def test_a_payload_that_is_no_envelope_is_used_as_given(api):
    # what ThingsBoard's UI sends after POST /api/converter/unwrap: the device bytes themselves
    assert up(api, FRAME)["outputMsg"]["telemetry"] == {"size": len(FRAME)}
    generic = {**TYPED, "converterVersion": 1}  # a generic converter sees the envelope itself
    assert json.loads(up(api, raw("chirpstack_up"), generic)["output"]) == {
        "telemetry": {"size": len(raw("chirpstack_up"))}}


@pytest.mark.parametrize("expr, expected", [
    # TbUtils' endian-named hex readers and the integer-then-float one
    ("parseBigEndianHexToFloat('3F800000') == 1.0", True),
    ("parseLittleEndianHexToFloat('0000803F') == 1.0", True),
    ("parseBigEndianHexToDouble('3FF8000000000000')", 1.5),
    ("parseLittleEndianHexToDouble('000000000000F83F')", 1.5),
    ("parseHexIntLongToFloat('0x0A', true) == 10.0", True),
    ("parseHexIntLongToFloat('0A00', false) == 10.0", True),
    # type checks: a byte[] or new int[n] is an array, [..] a list, {..} a map
    ("[isArray(base64ToBytes('AQI=')), isArray(new int[2]), isArray([1])]", [True, True, False]),
    ("[isList([1]), isList(new int[2]), isList(toSet([1])), isMap({a: 1}), isMap([1])]",
     [True, False, False, True, False]),
])
def test_tbutils_hex_and_type_helpers(expr, expected):
    assert tbel(f"return {expr};") == expected


def test_sets_keep_insertion_order_and_one_of_each_element():
    assert tbel("""
        var s = newSet();
        var added = [s.add(3), s.add(1), s.add(3)];
        s.addAll([2, 1, '1']);
        var seen = [];
        foreach (x : s) { seen.add(x); }
        s.remove(3);
        return {added: added, seen: seen, set: s, size: s.size(), has: s.contains(2), isSet: isSet(s),
                fromList: toSet([5, 5, 4]), text: '' + toSet([1, 2])};
    """) == {"added": [True, True, False], "seen": [3, 1, 2, "1"], "set": [1, 2, "1"], "size": 3, "has": True,
             "isSet": True, "fromList": [5, 4], "text": "[1, 2]"}


def test_a_long_past_2_pow_53_keeps_every_digit_in_the_output():
    # an 8-byte counter or id read with parseBytesToLong: Jackson writes all its digits
    result = engine.decode(None, 0, "return {id: parseBytesToLong([0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFE]),"
                                    " min: [Long.MIN_VALUE], small: 5L, set: toSet([2.0])};",
                           [(b"", {})], lang="TBEL")[0]
    assert result.output_json == '{"id":9223372036854775806,"min":[-9223372036854775808],"small":5,"set":[2.0]}'


@pytest.mark.parametrize("expr, expected", [
    # a read shorter than the number fills its low end, big- or little-endian (TbUtils 4.x ByteBuffer)
    ("floatToHex(parseBytesToFloat([0x41, 0xEA], 0, 2, false))", "0x0000EA41"),
    ("floatToHex(parseBytesToFloat([0x41, 0xEA], 0, 2, true))", "0x000041EA"),
    ("floatToHex(parseBytesToFloat([0x41, 0xEA, 0x62], 0, 3, false))", "0x0062EA41"),
    ("doubleToHex(parseBytesToDouble([0x40, 0x09], 0, 2, false))", "0x0000000000000940"),
    # Long.toOctalString writes a negative number's 64 bits, unsigned
    ("intLongToRadixString(-8L, 8)", "1777777777777777777770"),
    ("intLongToRadixString(8L, 8)", "10"),
])
def test_short_float_reads_and_radix_strings(expr, expected):
    assert tbel(f"return {expr};") == expected


@pytest.mark.parametrize("expr, expected", [
    # a sign in front of decimal digits (TbUtils 4.x isDecimal), in parseInt/parseLong as in Java
    ("parseInt('+42')", 42),
    ("parseLong('+42') == 42", True),
    # eight bits whole from the start, the first set: a negative byte (the WT201 multicast bitmap)
    ("parseBinaryArrayToInt([1, 1, 1, 1, 1, 0, 1, 0])", -6),
    ("parseBinaryArrayToInt([1, 1, 1, 1, 1, 0, 1, 0], 1, 7)", 122),
    ("parseBinaryArrayToInt([0, 1, 1, 1, 1, 0, 1, 0])", 122),
    ("parseBinaryArrayToInt([1, 0, 1, 1, 0, 1])", 45),
])
def test_signed_decimals_and_binary_arrays(expr, expected):
    assert tbel(f"return {expr};") == expected


@pytest.mark.parametrize("expr, expected", [
    # Java's Instant.toString: no fraction for whole seconds
    ("new Date(1700000000000).toISOString()", "2023-11-14T22:13:20Z"),
    ("new Date(1700000000120).toISOString()", "2023-11-14T22:13:20.120Z"),
    # offsets with seconds and a bare hour
    ("new Date('2024-02-01T10:00:00.00+03:00:00').toISOString()", "2024-02-01T07:00:00Z"),
    ("new Date('Thu, 1 Feb 2024 10:00:00 +013030').toISOString()", "2024-02-01T08:29:30Z"),
    ("new Date('2024-02-01T10:00:00.00-05').toISOString()", "2024-02-01T15:00:00Z"),
    # a text read with a DateTimeFormatter pattern
    ("new Date('2024-02-01 10:00:00.250+01:00', 'yyyy-MM-dd HH:mm:ss.SSSXXX').toISOString()",
     "2024-02-01T09:00:00.250Z"),
    ("new Date('01.02.2024 10:30', 'dd.MM.yyyy HH:mm').toISOString()", "2024-02-01T10:30:00Z"),
    ("new Date('07:05:00 PM 2/1/2024', 'hh:mm:ss a M/d/uuuu').toISOString()", "2024-02-01T19:05:00Z"),
])
def test_dates_as_thingsboard_reads_and_writes_them(expr, expected):
    assert tbel(f"return {expr};") == expected


def test_a_date_that_does_not_match_its_pattern_fails():
    result = engine.decode(None, 0, "return new Date('2024-02-01', 'yyyy/MM/dd');", [(b"", {})], lang="TBEL")[0]
    assert result.error is not None and "could not be parsed" in result.error


def test_lists_and_maps_as_thingsboards_tbel_docs_show_them():
    assert tbel("""
        var l = ['r', 'B', 't'];
        var removed = l.splice(1, 4, 'start', 5, 'end');
        var m = {t: 42, n: '508'};
        var seen = [];
        foreach (e : m) { seen.add(e.key + '=' + e.getValue()); }
        return {pushed: l.push('x'), shifted: l.unshift('first'), l: l, removed: removed,
                spliced: [67, 2, 2].toSpliced(1, 1, 'a', 'b'), at: [67, 2, 2, 2].indexOf(2, 2),
                numbers: [[1, 2.5].validateClazzInArrayIsOnlyNumber(), [1, '2'].validateClazzInArrayIsOnlyNumber()],
                seen: seen, swap: [m.replace('t', 42, 45), m.replace('t', 0, 1), m.replace('t', 7)], m: m};
    """) == {"pushed": True, "l": ["first", "r", "start", 5, "end", "x"], "removed": ["B", "t"],
             "spliced": [67, "a", "b", 2], "at": 2, "numbers": [True, False], "seen": ["t=42", "n=508"],
             "swap": [True, False, 45], "m": {"t": 7, "n": "508"}}


def test_sort_order_and_set_views_of_a_map():
    assert tbel("""
        var l = [2096, '98', 5, '65', 'b', 'A'];
        l.sort();
        var d = toSet(['C', 34, 'A', 34567]);
        d.sort(false);
        var es = {}.entrySet();
        var added = es.addAll(['B', 'A', 'B']);
        var ks = {a: 1}.keySet();
        return {l: l, d: d, added: added, es: es, ks: [ks.add('a'), ks.add('z'), ks]};
    """) == {"l": [5, "65", "98", 2096, "A", "b"], "d": ["C", "A", 34567, 34], "added": True, "es": ["B", "A"],
             "ks": [False, True, ["a", "z"]]}


def test_until_loops_and_rounding_to_int():
    assert tbel("""
        var n = 0;
        until (n >= 3) { n++; }
        var m = 10;
        do { m--; } until (m < 5);
        var until = 'a variable';
        return {n: n, m: m, until: until, ints: [toInt(0.5), toInt(2.7), toInt(0.3), toInt(-2.5)]};
    """) == {"n": 3, "m": 4, "until": "a variable", "ints": [1, 3, 0, -3]}


def typed_up(api, decoder: str, payload: bytes = b"\x01\x02", metadata=None):
    body = {"payload": base64.b64encode(payload).decode(), "metadata": metadata or {"eui": "AA", "ts": "1000"},
            "decoder": decoder, "converter": {**TYPED, "configuration": {**TYPED["configuration"],
                                                                        "attributes": ["eui"]}}}
    res = api.post("/api/converter/testUpLink?scriptLang=TBEL", body, format="json")
    assert res.status_code == 200 and res.json()["error"] == "", res.content
    return res.json()


def test_a_typed_converter_may_return_an_array_of_messages(api):
    # the library's LoRaWAN templates return [device message, gateway messages...]: each one is
    # assembled with the configuration, and the converter output is an array as well
    res = typed_up(api, "return [{telemetry: {ts: 5, values: {n: payload.length}}},"
                        " {name: 'Gateway 1', profile: 'GW', telemetry: {rssi: -1}}];")
    # (ThingsBoard's library: a gateway's message also gets the listed network fields, its own
    # eui winning over the device's)
    assert res["outputMsg"] == [
        {"entityType": "DEVICE", "name": "Sensor AA", "profile": "P", "telemetry": {"ts": 5, "values": {"n": 2}},
         "attributes": {"eui": "AA"}},
        {"entityType": "DEVICE", "name": "Gateway 1", "profile": "GW", "telemetry": {"rssi": -1},
         "attributes": {"eui": "AA"}}]
    assert "warnings" not in res


def test_the_converter_output_keeps_the_scripts_telemetry_shape(api):
    # {ts, values} returned as an object shows as that object; [{ts, values}] as an array
    one = "return {telemetry: {ts: 5, values: {n: 1}}};"
    assert typed_up(api, one)["outputMsg"]["telemetry"] == {"ts": 5, "values": {"n": 1}}
    listed = "return {telemetry: [{ts: 5, values: {n: 1}}]};"
    assert typed_up(api, listed)["outputMsg"]["telemetry"] == [{"ts": 5, "values": {"n": 1}}]


def test_a_script_function_named_as_a_tbutils_one_does_not_replace_it():
    # MVEL consults its imports (TbUtils) before the script's functions: a helper written for
    # JavaScript (String.fromCharCode) is declared but TbUtils' decodeToString is what runs
    assert tbel("""
        function decodeToString(p) { return String.fromCharCode.apply(String, p); }
        function decodeToJson(p) { return JSON.parse(decodeToString(p)); }
        function twice(p) { return decodeToString(p) + decodeToString(p); }
        return {json: decodeToJson(payload), text: twice(payload)};
    """, b'{"a":1}') == {"json": {"a": 1}, "text": '{"a":1}{"a":1}'}


@pytest.mark.parametrize("script, codec", [
    ("function decodeUplink(input) { return {data: {n: input.bytes.length}}; }", True),
    ("exports.decodeUplink = (input) => { return {data: {}}; };", True),
    # a ThingsBoard script that keeps a decodeUplink helper and returns its own result
    ("function decodeUplink(b) { if (b) { return {n: 1}; } return null; }\nvar r = decodeUplink(payload);\n"
     "return {deviceName: 'd', deviceType: 't', telemetry: r};", False),
    ("function decodeUplink(b) { return b; }\nif (payload.length > 0) { return {telemetry: {}}; }", False),
    ("// return here\nvar s = 'return'; function decodeUplink(b) { return {data: {}}; }", True),
])
def test_a_script_returning_at_its_top_level_is_no_ts013_codec(script, codec):
    # such a v1 converter gets the network server's envelope as sent, not the device bytes
    converter = SimpleNamespace(configuration={}, script=script, type="UPLINK", converter_version=1)
    assert ts013.declared(converter) is codec
    item = uplink.prepare(converter, "CHIRPSTACK", raw("chirpstack_up"), {})
    assert (item.payload == raw("chirpstack_up")) is not codec


def test_a_loriot_gw_message_gives_typed_scripts_its_gateways(api):
    # the library's typed LORIOT templates add one message per gateway from metadata.gws when
    # metadata.cmd == "gw": both reach the script as ThingsBoard's unwrap gives them
    envelope = doc("loriot_gw")
    converter = {**TYPED, "integrationType": "LORIOT",
                 "configuration": {**TYPED["configuration"], "attributes": ["fPort"]}}
    script = """var out = [{telemetry: {n: payload.length}}];
        if (metadata.cmd == "gw") {
            foreach (gw : metadata.gws) { out.add({name: 'Gateway ' + gw.gweui, attributes: {eui: gw.gweui}}); }
        }
        return out;"""
    body = {"payload": base64.b64encode(raw("loriot_gw")).decode(), "metadata": {}, "decoder": script,
            "converter": converter}
    res = api.post("/api/converter/testUpLink?scriptLang=TBEL", body, format="json").json()
    assert res["error"] == "", res
    gateways = [gw["gweui"] for gw in envelope["gws"]]
    assert [m["name"] for m in res["outputMsg"][1:]] == [f"Gateway {eui}" for eui in gateways]
    assert res["outputMsg"][1]["attributes"] == {"eui": gateways[0], "fPort": envelope["port"]}


@pytest.mark.parametrize("expr, expected", [
    # Java's Character.forDigit / digit: a nibble turned into its hex character and back
    ("'' + Character.forDigit(0, 16) + Character.forDigit(11, 16)", "0b"),
    ("Character.toLowerCase(Character.forDigit(15, 16))", "f"),
    ("Integer.parseInt('' + Character.forDigit(7, 8) + 'a', 16)", 122),
    ("Character.forDigit(16, 16) == Character.forDigit(-1, 10)", True),
    ("Character.digit('c', 16)", 12),
    ("Character.digit('z', 10)", -1),
])
def test_character_converts_digits_both_ways(expr, expected):
    assert tbel(f"return {expr};") == expected


@pytest.mark.parametrize("expr, expected", [
    # Java's Double.toHexString / Float.toHexString, as the JDK prints them
    ("Double.toHexString(1.0)", "0x1.0p0"),
    ("Double.toHexString(-1.0)", "-0x1.0p0"),
    ("Double.toHexString(3.0)", "0x1.8p1"),
    ("Double.toHexString(0.5)", "0x1.0p-1"),
    ("Double.toHexString(0.1)", "0x1.999999999999ap-4"),
    ("Double.toHexString(0.0)", "0x0.0p0"),
    ("Double.toHexString(-0.0)", "-0x0.0p0"),
    ("Double.toHexString(Double.MAX_VALUE)", "0x1.fffffffffffffp1023"),
    ("Double.toHexString(Double.MIN_VALUE)", "0x0.0000000000001p-1022"),
    ("Double.toHexString(Double.NaN)", "NaN"),
    ("Double.toHexString(Double.NEGATIVE_INFINITY)", "-Infinity"),
    ("Double.toHexString(255)", "0x1.fep7"),
    ("Float.toHexString(1.0f)", "0x1.0p0"),
    ("Float.toHexString(0.1f)", "0x1.99999ap-4"),
    ("Float.toHexString(Float.MAX_VALUE)", "0x1.fffffep127"),
    ("Float.toHexString(Float.MIN_VALUE)", "0x0.000002p-126"),
    ("Float.toHexString(-2.5f)", "-0x1.4p1"),
])
def test_double_and_float_print_as_java_hex(expr, expected):
    assert tbel(f"return {expr};") == expected


LAMBDA_IN_UNCALLED_FUNCTION = """
function unused(list) {
    var doubled = list.map(function(x) { return x * 2; });
    var pick = def (y) { y > 1 ? y : 0 };
    return doubled;
}
return {telemetry: {n: payload.size()}};
"""


def test_a_lambda_in_a_function_never_called_does_not_stop_the_script():
    # ThingsBoard's sandbox compiles an anonymous function and refuses it only when it runs
    assert tbel(LAMBDA_IN_UNCALLED_FUNCTION, b"\x01\x02") == {"telemetry": {"n": 2}}


@pytest.mark.parametrize("body", [
    "var f = function(x) { return x; }; return {telemetry: {v: 1}};",
    "var f = def (x) { x }; return {telemetry: {v: 1}};",
])
def test_a_lambda_fails_when_it_is_reached(body):
    result = engine.decode(None, 0, body, [(b"", {})], lang="TBEL")[0]
    assert result.error and "Invalid statement" in result.error


def test_a_lambda_with_a_broken_body_is_still_a_syntax_error():
    result = engine.decode(None, 0, "function u() { var f = function(x) { return x + ; }; }\nreturn {};",
                           [(b"", {})], lang="TBEL")[0]
    assert result.error
