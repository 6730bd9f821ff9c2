"""Whole TBEL converters in the style of ThingsBoard's library, limits, error lines, and the engine's
`lang=` parameter (compile errors, cached contexts that must not be shared with JS)."""

import base64
import itertools
import json

# a ChirpStack uplink decoded as ThingsBoard's library converters do it (hoisted function reading a
# global assigned later, switch without fall-through, base64ToBytes, parseBytesToInt, String.format)
from bench.tbel import LIBRARY_TBEL as MILESIGHT_STYLE
from converters import engine
from converters.engine import TIMEOUT, Limits, ScriptError

_keys = itertools.count()



def chirpstack_uplink(raw: bytes) -> bytes:
    return json.dumps({
        "deviceInfo": {"deviceName": "AM307-1", "deviceProfileName": "AM307", "devEui": "24e124"},
        "fPort": 85, "time": "2024-03-01T10:00:00.000+0000", "data": base64.b64encode(raw).decode(),
        "rxInfo": [{"rssi": -71}],
    }).encode()


def decode(source: str, payload: bytes, key=None, version=1):
    result = engine.decode(key, version, source, [(payload, {"integrationName": "ChirpStack"})], lang="TBEL")[0]
    return result


def test_a_library_style_decoder_runs_end_to_end():
    raw = bytes([0x01, 0x75, 0x64, 0x03, 0x67, 0x10, 0x01, 0x04, 0x68, 0x71, 0x05, 0x00, 0x01])
    result = decode(MILESIGHT_STYLE, chirpstack_uplink(raw))
    assert result.error is None, result.error
    out = json.loads(result.output_json)
    assert out["deviceName"] == "AM307-1" and out["attributes"] == {"fPort": 85, "devEui": "24e124"}
    assert out["telemetry"]["ts"] == 1709287200000
    assert out["telemetry"]["values"] == {"battery": 100, "temperature": 27.2, "humidity": 56.5, "pir": "trigger",
                                          "seenAt": 1709287200000, "rssi": -71}


def test_an_unknown_channel_goes_through_string_format_of_ints():
    result = decode(MILESIGHT_STYLE, chirpstack_uplink(bytes([0xFE, 0x0A, 0x00])))
    assert json.loads(result.output_json)["telemetry"]["values"] == {"unknown": "fe0a", "rssi": -71}


HTTP_STYLE = """
var data = decodeToJson(payload);
var telemetry = [];
foreach (m : data.measurements) {
    var values = {};
    values.put(m.name, toFixed(m.value * 1.8 + 32, 1));
    telemetry.add({ts: m.ts, values: values});
}
var attrs = {};
foreach (e : data.meta.entrySet()) {
    attrs[e.key] = e.value;
}
return {deviceName: data.serial, deviceType: metadata.integrationName, telemetry: telemetry, attributes: attrs};
"""


def test_an_http_json_converter_with_lists_maps_and_metadata():
    payload = json.dumps({"serial": "S-1", "measurements": [{"name": "t", "value": 21.5, "ts": 1}],
                          "meta": {"fw": "1.2", "model": "X"}}).encode()
    out = json.loads(decode(HTTP_STYLE, payload).output_json)
    assert out == {"deviceName": "S-1", "deviceType": "ChirpStack", "telemetry": [{"ts": 1, "values": {"t": 70.7}}],
                   "attributes": {"fw": "1.2", "model": "X"}}


HEX_STYLE = """
var bytes = hexToBytes(decodeToJson(payload).payload_hex);
var status = [];
var flags = bytes[0];
for (int bit = 0; bit < 4; bit++) {
    status.add((flags >> bit) & 1);
}
var counter = ((bytes[1] & 0xFF) << 24) | ((bytes[2] & 0xFF) << 16) | ((bytes[3] & 0xFF) << 8) | (bytes[4] & 0xFF);
var volts = (bytes[5] & 0xFF) / 10;
return {deviceName: "hex-1", deviceType: "meter",
        telemetry: {status: String.join("", status), counter: counter, volts: volts, label: "v" + volts,
                    big: parseBytesToLong(bytes, 1, 4) * 1000}};
"""


def test_a_hex_decoder_with_bit_operations():
    out = json.loads(decode(HEX_STYLE, b'{"payload_hex": "0AFFFFFFFE21"}').output_json)
    assert out["telemetry"] == {"status": "0101", "counter": -2, "volts": 3.3, "label": "v3.3",
                                "big": 4294967294000}


def test_a_runtime_error_reports_the_tbel_line():
    source = "var data = decodeToJson(payload);\nvar x = data.a;\n\nvar y = x.b.c;\nreturn {y: y};"
    result = decode(source, b'{"a": {}}')
    assert result.error.endswith("(line 4)"), result.error
    result = decode("var a = 1;\nvar s = 'abc';\nreturn s.substring(5);", b"")
    assert "StringIndexOutOfBoundsException" in result.error and result.error.endswith("(line 3)")
    result = decode("var l = [];\n\n\nraiseError('bad frame');", b"")
    assert "bad frame" in result.error and result.error.endswith("(line 4)")


def test_a_syntax_error_is_a_script_error_with_the_tbel_line_and_column():
    error = engine.check_script("decoder", "var a = 1;\nvar b = (a + );\nreturn b;", lang="TBEL")
    assert isinstance(error, ScriptError) and error.line == 2
    assert error.message == "Unexpected token ')' (column 14)"
    assert engine.check_script("decoder", "var a = 1;\nreturn a;", lang="TBEL") is None
    # the same text is a JS syntax error in JS and fine in TBEL
    assert engine.check_script("decoder", "foreach (x : [1]) { }\nreturn {};", lang="TBEL") is None
    assert engine.check_script("decoder", "foreach (x : [1]) { }\nreturn {};") is not None
    results = engine.decode(None, 0, "return (;", [(b"", {}), (b"", {})], lang="TBEL")
    assert [r.error for r in results] == ["Unexpected token ';' (column 9) (line 1)"] * 2


def test_a_converter_switched_from_js_to_tbel_does_not_reuse_the_js_context():
    key = f"tbel-{next(_keys)}"
    source = "return {v: 4 / 2 + ''};"
    js = engine.decode(key, 1, source, [(b"", {})])[0]
    tbel = engine.decode(key, 1, source, [(b"", {})], lang="TBEL")[0]
    again = engine.decode(key, 1, source, [(b"", {})], lang="TBEL")[0]
    assert json.loads(js.output_json) == {"v": "2"}
    assert json.loads(tbel.output_json) == {"v": "2.0"} == json.loads(again.output_json)


def test_a_cached_tbel_context_runs_a_batch_and_keeps_no_state_between_messages():
    key = f"tbel-{next(_keys)}"
    source = "var d = decodeToJson(payload);\ncount = d.n + 1;\nreturn {count: count};"
    messages = [(json.dumps({"n": i}).encode(), {}) for i in range(5)]
    results = engine.decode(key, 1, source, messages, lang="TBEL")
    assert [json.loads(r.output_json)["count"] for r in results] == [1, 2, 3, 4, 5]


def test_an_infinite_loop_times_out():
    limits = Limits(timeout_ms=200)
    result = engine.decode(None, 0, "var i = 0;\nwhile (true) { i++; }", [(b"", {})], lang="TBEL", limits=limits)[0]
    assert result.error == TIMEOUT


def test_a_huge_list_runs_out_of_memory():
    limits = Limits(memory_mb=16, timeout_ms=5000)
    source = "var l = [];\nwhile (true) { l.add('xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx' + l.size()); }"
    result = engine.decode(None, 0, source, [(b"", {})], lang="TBEL", limits=limits)[0]
    assert result.error in (engine.OUT_OF_MEMORY, TIMEOUT)
    assert result.error == engine.OUT_OF_MEMORY


def test_a_catastrophic_regex_is_stopped():
    limits = Limits(timeout_ms=300)
    source = "var s = 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!';\nreturn s.matches('(a+)+b');"
    result = engine.decode(None, 0, source, [(b"", {})], lang="TBEL", limits=limits)[0]
    assert result.error == TIMEOUT


def test_an_encoder_in_tbel():
    source = """
    var data = {temperature: msg.temperature, unit: "C"};
    var out = {contentType: "JSON", data: JSON.stringify(data), metadata: {topic: metadata.deviceName + "/cmd"}};
    return out;
    """
    result = engine.encode(None, 0, source, [('{"temperature": 2.5}', {"deviceName": "d1"}, "RPC", {})],
                           lang="TBEL")[0]
    out = json.loads(result.output_json)
    assert out["metadata"] == {"topic": "d1/cmd"} and json.loads(out["data"]) == {"temperature": 2.5, "unit": "C"}


def test_an_unknown_language_is_refused():
    try:
        engine.decode(None, 0, "return {};", [(b"", {})], lang="Python")
    except ValueError as e:
        assert "TBEL" in str(e)
    else:
        raise AssertionError("lang='Python' was accepted")


CHARS_STYLE = r"""
var text = percentDecode(toPercent(hexToBytes("48692021")));
return {text: text, n: text.length()};

function toPercent(bytes) {
    var s = "";
    foreach (b : bytes) { s += String.format("%%%02X", b & 0xFF); }
    return s;
}

function percentDecode(encoded) {
    var out = "";
    for (int i = 0; i < encoded.length(); i++) {
        char c = encoded.charAt(i);
        if (c == '%' && i + 2 < encoded.length()) {
            code = Integer.parseInt("" + encoded.charAt(i + 1) + encoded.charAt(i + 2), 16);
            out += (char) code;
            i += 2;
        } else {
            out += c;
        }
    }
    return out;
}
"""


def test_chars_casts_and_percent_formats():
    assert json.loads(decode(CHARS_STYLE, b"").output_json) == {"text": "Hi !", "n": 4}


NETVOX_STYLE = """
var data = decodeToJson(payload);
var frame = byteArrayToExecutionArrayList(base64ToBytes(data.uplink_message.frm_payload));
var out = {};
var volt = parseByteToBinaryArray(frame[0]);
out.volt = parseBinaryArrayToInt(volt, 1) * 0.1;
out.low = volt[0] == 1;
var flags = parseByteToBinaryArray(frame[1], 4, false);
out.alarm1 = flags[0];
out.sw = "V" + parseBytesIntToFloat(frame.slice(2, 3), 0, 1) / 10;
out.current = parseBytesToInt(frame.slice(3, 5)) * [1, 5, 10, 100][frame[5] & 0x03];
var flat = toFlatMap(data.uplink_message, ["frm_payload", "f_port"], false);
flat.putAll(out);
return {deviceName: data.end_device_ids.device_id, deviceType: "R", telemetry: flat};
"""


def test_a_ttn_style_decoder_with_binary_arrays_and_flat_maps():
    frame = base64.b64encode(bytes([0xA4, 0x05, 0x0B, 0x01, 0x2C, 0x01])).decode()
    payload = json.dumps({"end_device_ids": {"device_id": "r-1"},
                          "uplink_message": {"f_port": 6, "frm_payload": frame, "rx": [{"rssi": -80}]}}).encode()
    out = json.loads(decode(NETVOX_STYLE, payload).output_json)["telemetry"]
    assert out == {"rssi": -80, "volt": 36 * 0.1, "low": True, "alarm1": 1, "sw": "V1.1", "current": 1500}
