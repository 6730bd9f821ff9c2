"""`POST /api/converter/testUpLink` and `testDownLink`: ThingsBoard's `{output, error}` for every outcome."""

import base64
import json
import time

import pytest

from converters.downlink_payload import normalise_downlink
from converters.tests.cases import DOWNLINK, UPLINK
from tbproject.testing.api import assert_error

UP = "/api/converter/testUpLink?scriptLang=JS"
DOWN = "/api/converter/testDownLink?scriptLang=JS"

# ThingsBoard's default uplink template (from the client's save_converter docs, comma fixed).
TB_DEFAULT_DECODER = """// Decode an uplink message from a buffer
// payload - array of bytes
// metadata - key/value object

/** Decoder **/

// decode payload to string
var payloadStr = decodeToString(payload);

var deviceName = 'Device A';
var deviceType = 'thermostat';
var customerName = 'customer';
var groupName = 'thermostat devices';
var manufacturer = 'Example corporation';

var result = {
   deviceName: deviceName,
   deviceType: deviceType,
   customerName: customerName,
   groupName: groupName,
   contentAwareAttributeKeys: ['manufacturer'],
   attributes: {
       model: 'Model A',
       serialNumber: 'SN111',
       integrationName: metadata['integrationName'],
       manufacturer: manufacturer
   },
   telemetry: {
       temperature: 42,
       humidity: 80,
       rawData: payloadStr
   }
};

/** Helper functions **/

function decodeToString(payload) {
   return String.fromCharCode.apply(String, payload);
}

function decodeToJson(payload) {
   var str = decodeToString(payload);
   var data = JSON.parse(str);
   return data;
}

return result;"""

# A LoRaWAN-style frame: uint16 BE battery mV, int16 LE temperature (0.01 C), flags byte.
FRAME_DECODER = """
const battery = (payload[0] << 8) | payload[1];
let raw = payload[2] | (payload[3] << 8);
if (raw & 0x8000) raw -= 0x10000;
const flags = payload[4];
return {
  deviceName: metadata.devEui ?? 'unknown',
  deviceType: 'lora-th',
  attributes: { open: Boolean(flags & 0x01), integration: metadata.integrationName },
  telemetry: { ts: Number(metadata.ts), values: { battery: battery / 1000, temperature: raw / 100 } }
};
"""

# ThingsBoard's default downlink template (from the client's test_down_link_converter docs).
TB_DEFAULT_ENCODER = """var data = {};
data.tempValue = msg.temp;
data.humValue = msg.humidity;
data.devSerialNumber = metadata['ss_serialNumber'];
var result = {
    contentType: "JSON",
    data: JSON.stringify(data),
    metadata: {
            topic: metadata['deviceType']+'/'+metadata['deviceName']+'/upload'
    }
};
return result;"""


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def up(api, decoder, payload=b"{}", metadata=None, **extra):
    body = {"metadata": metadata if metadata is not None else {"integrationName": "HTTP"},
            "payload": b64(payload), "decoder": decoder, **extra}
    res = api.post(UP, body, format="json")
    assert res.status_code == 200, res.content
    # a typed converter (or a TS013 codec) also gets its assembled output, and a codec its warnings
    assert {"output", "error"} <= set(res.json()) <= {"output", "error", "outputMsg", "warnings"}
    return res.json()


def down(api, encoder, msg='{"temp": 42, "humidity": 77}', **extra):
    body = {"metadata": {"deviceName": "Temp Sensor", "deviceType": "sensor", "ss_serialNumber": "SN-1"},
            "msg": msg, "msgType": "POST_TELEMETRY_REQUEST", "integrationMetadata": {"integrationName": "I"},
            "encoder": encoder, **extra}
    res = api.post(DOWN, body, format="json")
    assert res.status_code == 200, res.content
    assert {"output", "error"} <= set(res.json()) <= {"output", "error", "warnings"}
    return res.json()


# --- testUpLink -------------------------------------------------------------------------------------

def test_it_runs_thingsboards_default_decoder(api):
    res = up(api, TB_DEFAULT_DECODER, b'{"data": "data"}', {"integrationName": "HTTP integration"})
    assert res["error"] == ""
    out = json.loads(res["output"])
    assert out["deviceName"] == "Device A" and out["attributes"]["integrationName"] == "HTTP integration"
    assert out["telemetry"]["rawData"] == '{"data": "data"}'
    assert res["output"].startswith('{"deviceName":"Device A"')  # compact JSON text, key order kept


def test_it_decodes_a_binary_frame_with_modern_syntax(api):
    frame = bytes([0x0E, 0x10, 0x3C, 0xF6, 0x01])  # 3600 mV, -25.00 C, open
    res = up(api, FRAME_DECODER, frame, {"devEui": "a84041", "integrationName": "TTN", "ts": "1700000000000"})
    assert res["error"] == ""
    assert json.loads(res["output"]) == {
        "deviceName": "a84041", "deviceType": "lora-th", "attributes": {"open": True, "integration": "TTN"},
        "telemetry": {"ts": 1700000000000, "values": {"battery": 3.6, "temperature": -25.0}}}


def test_it_turns_metadata_values_into_strings_as_thingsboard_does(api):
    res = up(api, "return {deviceName: typeof metadata.n + ':' + metadata.n + ':' + metadata.o};", b"",
             {"n": 42, "o": {"a": 1}, "skip": None})
    assert json.loads(res["output"]) == {"deviceName": 'string:42:{"a":1}'}


@pytest.mark.parametrize("case", [c for c in UPLINK], ids=lambda c: c.name)
def test_it_answers_what_live_traffic_gets_for_every_library_decoder(api, case):
    ((payload, metadata),) = case.inputs
    res = up(api, case.script, payload, metadata)
    if case.error:
        assert res == {"output": "", "error": case.expected}
    else:
        assert res["error"] == "" and json.loads(res["output"]) == case.expected


def test_it_reports_a_syntax_error_with_its_line(api):
    res = up(api, "var a = 1;\n\nvar b = {;\nreturn a;")
    assert res["output"] == "" and res["error"].startswith("SyntaxError") and "(line 3)" in res["error"]


def test_it_reports_a_runtime_exception_with_its_line(api):
    res = up(api, "var data = JSON.parse('{}');\nreturn {deviceName: data.missing.name};")
    assert res["output"] == "" and res["error"].startswith("TypeError") and "(line 2)" in res["error"]
    res = up(api, "throw new Error('bad frame');")
    assert res == {"output": "", "error": "Error: bad frame (line 1)"}


def test_it_stops_an_infinite_loop_within_its_limit_and_the_next_call_works(api):
    started = time.monotonic()
    res = up(api, "while (true) {}")
    assert time.monotonic() - started < 1.5
    assert res == {"output": "", "error": "timeout: the script ran longer than 500 ms"}
    assert up(api, "return {deviceName: 'after', deviceType: 't'};")["error"] == ""


def test_it_honours_the_configured_timeout(api, settings):
    settings.CONVERTER_TIMEOUT_MS = 200
    started = time.monotonic()
    assert up(api, "for (;;) {}")["error"] == "timeout: the script ran longer than 200 ms"
    assert time.monotonic() - started < 1.0


def test_it_stops_a_memory_bomb(api):
    res = up(api, "var a = []; for (;;) a.push(new Array(100000).fill(1));")
    assert res["output"] == "" and res["error"].startswith(("out of memory", "timeout"))


def test_it_shows_output_the_pipeline_would_refuse_with_the_reason_beside_it(api):
    # ThingsBoard shows whatever the script returned; the warning is ours, never instead of it.
    res = up(api, "return {deviceType: 'meter', telemetry: {t: 1}};")
    assert res == {"output": '{"deviceType":"meter","telemetry":{"t":1}}', "error": "",
                   "warnings": ["the live pipeline would refuse this output: output: deviceName or assetName "
                                "is required"]}
    res = up(api, "return {deviceName: 'd', deviceType: 't', attributes: {cfg: {mode: 1}}};")
    assert (res["error"], "warnings" in res) == ("", False)  # a JSON value: stored as ThingsBoard stores it


def test_it_reports_a_result_that_is_not_json(api):
    res = up(api, "return undefined;")
    assert res["output"] == "" and "undefined" in res["error"]


def test_it_checks_typed_output_for_a_converter_version_2(api):
    converter = {"converterVersion": 2, "configuration": {"type": "DEVICE", "name": "Device $eui"}}
    res = up(api, "return {telemetry: {t: 1}};", b"", {"eui": "0011"}, converter=converter)
    assert (res["output"], res["error"]) == ('{"telemetry":{"t":1}}', "")
    message = res["outputMsg"]  # ThingsBoard's "Converter output" tab
    assert (message["entityType"], message["name"], message["profile"]) == ("DEVICE", "Device 0011", "default")
    # values without their own ts show flat, as in ThingsBoard's library results
    assert message["telemetry"] == {"t": 1} and message["attributes"] == {}
    res = up(api, "return {telemetry: [{ts: 5, values: {t: 1}}, {u: 2}]};", b"", {"eui": "0011"}, converter=converter)
    assert res["outputMsg"]["telemetry"] == [{"u": 2}, {"ts": 5, "values": {"t": 1}}]
    res = up(api, "return {type: 'ROBOT'};", b"", {"eui": "0011"}, converter=converter)
    assert (res["output"], res["error"]) == ('{"type":"ROBOT"}', "") and "outputMsg" not in res
    assert res["warnings"] == ["the live pipeline would refuse this output: type: must be DEVICE or ASSET, "
                               "not 'ROBOT'"]


def test_a_typed_converter_tested_with_an_event_without_an_uplink_runs_on_its_devices_fields(api):
    """As ThingsBoard's test does (a ChirpStack `log` event of its converter library, the device's fields
    at the top level): the decoder runs on an empty payload with the fields in its metadata."""
    converter = {"converterVersion": 2, "integrationType": "CHIRPSTACK",
                 "configuration": {"type": "DEVICE", "name": "Button $eui", "label": "$deviceName"}}
    event = json.dumps({"devEui": "70b3d5ffee001530", "deviceName": "panic-1", "applicationName": "app",
                        "level": "WARNING", "code": "UPLINK_F_CNT_RETRANSMISSION", "context": {}}).encode()
    res = up(api, "return {attributes: {n: payload.length, app: metadata.applicationName}};", event,
             {"integrationName": "cs"}, converter=converter)
    assert (res["output"], res["error"]) == ('{"attributes":{"n":0,"app":"app"}}', "")
    assert (res["outputMsg"]["name"], res["outputMsg"]["label"]) == ("Button 70b3d5ffee001530", "panic-1")


@pytest.mark.parametrize(("body", "message"), [
    ({"metadata": {}, "payload": "e30="}, "'decoder' is required"),
    ({"metadata": {}, "payload": "e30=", "decoder": ""}, "'decoder' is required"),
    ({"metadata": {}, "decoder": "return 1;"}, "'payload' is required"),
    ({"metadata": {}, "payload": "%%%not base64", "decoder": "return 1;"}, "'payload' is not valid base64"),
    ({"metadata": {}, "payload": "e30", "decoder": "return 1;", "x": 1}, None),  # padding is optional
    ({"metadata": {}, "payload": 42, "decoder": "return 1;"}, "'payload' must be base64 text"),
    ({"metadata": [1], "payload": "e30=", "decoder": "return 1;"}, "'metadata' must be a JSON object"),
])
def test_it_refuses_uplink_requests_it_cannot_run(api, body, message):
    res = api.post(UP, body, format="json")
    if message is None:
        assert res.status_code == 200 and res.json()["output"] == "1"
    else:
        assert_error(res, 400, message)


def test_it_refuses_malformed_json_bodies_and_unknown_languages(api):
    assert_error(api.post(UP, "{oops", content_type="application/json"), 400, "Invalid request body")
    assert_error(api.post(UP, ["x"], format="json"), 400, "must be a JSON object")
    body = {"metadata": {}, "payload": "e30=", "decoder": "return {};"}
    assert_error(api.post("/api/converter/testUpLink?scriptLang=LUA", body, format="json"), 400, "scriptLang")
    assert api.post("/api/converter/testUpLink", body, format="json").status_code == 200  # JS by default


# --- testDownLink -----------------------------------------------------------------------------------

def test_it_runs_thingsboards_default_encoder(api):
    res = down(api, TB_DEFAULT_ENCODER)
    assert res["error"] == ""
    assert json.loads(res["output"]) == {
        "contentType": "JSON", "data": '{"tempValue":42,"humValue":77,"devSerialNumber":"SN-1"}',
        "metadata": {"topic": "sensor/Temp Sensor/upload"}}


def test_it_passes_msg_type_and_integration_metadata(api):
    res = down(api, "return {contentType: 'TEXT', data: msgType + '@' + integrationMetadata.integrationName};")
    assert res == {"output": '{"contentType":"TEXT","data":"POST_TELEMETRY_REQUEST@I"}', "error": ""}


def test_it_encodes_binary_as_base64(api):
    res = down(api, "return {contentType: 'BINARY', data: btoa(String.fromCharCode(1, 2, msg.temp))};")
    out = json.loads(res["output"])
    assert out["contentType"] == "BINARY" and base64.b64decode(out["data"]) == bytes([1, 2, 42])


@pytest.mark.parametrize("case", [c for c in DOWNLINK], ids=lambda c: c.name)
def test_it_answers_what_live_traffic_gets_for_every_library_encoder(api, case):
    ((msg, metadata, msg_type, integration_metadata),) = case.inputs
    body = {"metadata": metadata, "msg": msg, "msgType": msg_type, "integrationMetadata": integration_metadata,
            "encoder": case.script}
    res = api.post(DOWN, body, format="json").json()
    if case.error:
        assert res == {"output": "", "error": case.expected}
    else:
        assert res["error"] == "" and "warnings" not in res
        assert normalise_downlink(res["output"]) == normalise_downlink(case.expected)


def test_it_reports_encoder_failures(api):
    res = down(api, "return {contentType: 'JSON', data: ;")
    assert res["output"] == "" and res["error"].startswith("SyntaxError") and "(line 1)" in res["error"]
    res = down(api, "return {contentType: 'JSON', data: msg.a.b};")
    assert res["output"] == "" and res["error"].startswith("TypeError")
    started = time.monotonic()
    assert down(api, "for (;;) {}")["error"].startswith("timeout")
    assert time.monotonic() - started < 1.5
    res = down(api, "return {contentType: 'BINARY', data: 'not base64!'};")
    assert res == {"output": '{"contentType":"BINARY","data":"not base64!"}', "error": "",
                   "warnings": ["the live pipeline would refuse this output: data: BINARY content must be base64 "
                                "(use btoa)"]}
    assert down(api, "return {contentType: 'JSON', data: '{}'};") == {"output": '{"contentType":"JSON","data":"{}"}',
                                                                      "error": ""}
    res = down(api, "return {data: {t: msg.temp}};")
    assert res == {"output": '{"data":{"t":42}}', "error": "",
                   "warnings": ["contentType: not given; the downlink is sent as JSON",
                                "data: an object, sent as its JSON text"]}


def test_it_accepts_the_message_object_itself(api):
    res = down(api, "return {data: String(msg.temp)};", msg={"temp": 5})
    assert json.loads(res["output"])["data"] == "5"


@pytest.mark.parametrize(("change", "message"), [
    ({"encoder": None}, "'encoder' is required"),
    ({"msg": "{not json"}, "'msg' is not JSON text"),
    ({"msg": None}, "'msg' is required"),
    ({"msg": 42}, "'msg' is required"),
    ({"msgType": 7}, "'msgType' must be a string"),
    ({"integrationMetadata": "x"}, "'integrationMetadata' must be a JSON object"),
])
def test_it_refuses_downlink_requests_it_cannot_run(api, change, message):
    body = {"metadata": {}, "msg": "{}", "msgType": "RPC", "integrationMetadata": {},
            "encoder": "return {data: '1'};", **change}
    assert_error(api.post(DOWN, body, format="json"), 400, message)


def test_only_tenant_admins_may_test(customer_api, mallory_api):
    body = {"metadata": {}, "payload": "e30=", "decoder": "return {};"}
    assert_error(customer_api.post(UP, body, format="json"), 403)
    assert_error(customer_api.post(DOWN, {"msg": "{}", "encoder": "return {};"}, format="json"), 403)
    assert mallory_api.post(UP, body, format="json").status_code == 200  # any tenant admin may


# --- TBEL: the same endpoints with ?scriptLang=TBEL ----------------------------------------------

TBEL_DECODER = """var data = decodeToJson(payload);
var bytes = base64ToBytes(data.data);
var result = {deviceName: data.devEui, deviceType: 'th', telemetry: {}};
foreach (b : bytes) {
    result.telemetry.put('b' + result.telemetry.size(), b & 0xFF);
}
return result;"""


def test_it_runs_a_tbel_decoder(api):
    body = {"metadata": {"integrationName": "LORIOT"}, "decoder": TBEL_DECODER,
            "payload": b64(json.dumps({"devEui": "a1", "data": b64(b"\x01\xff")}).encode())}
    res = api.post("/api/converter/testUpLink?scriptLang=TBEL", body, format="json").json()
    assert res == {"output": '{"deviceName":"a1","deviceType":"th","telemetry":{"b0":1,"b1":255}}', "error": ""}


def test_it_reports_a_tbel_error_at_its_tbel_line(api):
    body = {"metadata": {}, "payload": "e30=", "decoder": "var a = 1;\n\nvar b = {;"}
    res = api.post("/api/converter/testUpLink?scriptLang=TBEL", body, format="json").json()
    assert res["output"] == "" and "line 3" in res["error"]
    body["decoder"] = "var a = null;\nreturn a.b.c;"
    res = api.post("/api/converter/testUpLink?scriptLang=TBEL", body, format="json").json()
    assert res["output"] == "" and res["error"]


def test_it_runs_a_tbel_encoder(api):
    body = {"metadata": {"deviceName": "d"}, "msg": '{"t": 4}', "msgType": "ATTRIBUTES_UPDATED",
            "integrationMetadata": {}, "encoder": "return {contentType: 'JSON', data: JSON.stringify(msg), "
                                                  "metadata: {topic: metadata.deviceName + '/down'}};"}
    res = api.post("/api/converter/testDownLink?scriptLang=TBEL", body, format="json").json()
    assert res["error"] == "" and json.loads(res["output"]) == {"contentType": "JSON", "data": '{"t":4}',
                                                               "metadata": {"topic": "d/down"}}
