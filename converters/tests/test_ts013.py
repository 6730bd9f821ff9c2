"""TS013 codecs (LoRa Alliance payload codec API) run unchanged: engine, pipeline, API."""

import base64
import json

import pytest

from converters import engine
from converters.models import Converter, DebugEvent
from converters.tests.envelopes import FRAME, doc, raw
from devices.attributes import get_attributes
from devices.models import Device
from devices.telemetry import history
from integrations import pipeline
from integrations.models import DeadLetter
from integrations.tests.uplinks import converter, integration, uplink, values
from tbproject.testing.api import assert_error

# Written in the shape of the TTN device repository's vendor/elsys codecs: a decodeUplink over
# Elsys' type-length-value frame, helpers at the top level, and the CommonJS export line the
# repository's test harness uses. It runs as it is.
ELSYS_CODEC = r"""
var TYPE_TEMP = 0x01; // temp 2 bytes -3276.8 .. 3276.7
var TYPE_RH = 0x02;   // humidity 1 byte 0-100 %
var TYPE_ACC = 0x03;  // acceleration 3 bytes X, Y, Z
var TYPE_LIGHT = 0x04; // light 2 bytes 0-65535 lux
var TYPE_MOTION = 0x05; // PIR count 1 byte
var TYPE_VDD = 0x07;  // battery 2 bytes 0-65535 mV

function bin16dec(bin) {
  var num = bin & 0xFFFF;
  if (0x8000 & num) num = -(0x010000 - num);
  return num;
}

function decodeUplink(input) {
  var data = {}, warnings = [], bytes = input.bytes;
  if (input.fPort !== 5) warnings.push('unexpected fPort ' + input.fPort);
  for (var i = 0; i < bytes.length; i++) {
    switch (bytes[i]) {
      case TYPE_TEMP: data.temperature = bin16dec((bytes[i + 1] << 8) | bytes[i + 2]) / 10; i += 2; break;
      case TYPE_RH: data.humidity = bytes[i + 1]; i += 1; break;
      case TYPE_ACC: data.acceleration = {x: bytes[i + 1], y: bytes[i + 2], z: bytes[i + 3]}; i += 3; break;
      case TYPE_LIGHT: data.light = (bytes[i + 1] << 8) | bytes[i + 2]; i += 2; break;
      case TYPE_MOTION: data.motion = bytes[i + 1]; i += 1; break;
      case TYPE_VDD: data.vdd = (bytes[i + 1] << 8) | bytes[i + 2]; i += 2; break;
      default:
        return {errors: ['unknown sensor type 0x' + bytes[i].toString(16) + ' at byte ' + i]};
    }
  }
  data.receivedYear = input.recvTime.getUTCFullYear();
  return {data: data, warnings: warnings};
}

exports.decodeUplink = decodeUplink;
"""
ELSYS_VALUES = {"temperature": 22.6, "humidity": 41, "light": 39, "motion": 6, "vdd": 3649, "receivedYear": 2024}
CHIRPSTACK_TS = 1714557600123


def lns_integration(tenant, kind, conv, **extra):
    integ = integration(tenant, conv, **extra)
    integ.type = kind  # the LoRaWAN integration types themselves arrive later (issue 8 items 1-2)
    integ.save(update_fields=["type"])
    return integ


def test_the_engine_calls_decode_uplink_with_bytes_fport_and_recv_time():
    (result,) = engine.decode(None, 0, ELSYS_CODEC, [(FRAME, {"fPort": 5, "ts": CHIRPSTACK_TS})])
    assert json.loads(result.output_json) == {"@ts013": {"data": ELSYS_VALUES, "warnings": []}}


def test_a_codec_on_a_chirpstack_integration_names_the_device_from_the_envelope(tenant):
    conv = converter(tenant, ELSYS_CODEC)  # converterVersion 1, TS013 recognised by decodeUplink
    integ = lns_integration(tenant, "CHIRPSTACK", conv)
    outcome = pipeline.process([uplink(integ, raw("chirpstack_up"))])[0]
    assert outcome.status == pipeline.OK, outcome
    device = Device.objects.get(tenant=tenant, name="ers-greenhouse-3")
    assert values(device) == ELSYS_VALUES
    assert history(device.pk, ["temperature"], 0, 2**50) == {"temperature": [(CHIRPSTACK_TS, 22.6)]}


def test_a_typed_converter_runs_a_codec_with_its_name_pattern_and_key_lists(tenant):
    conv = converter(tenant, ELSYS_CODEC, scriptContract="TS013", type="DEVICE", profile="$applicationId",
                     attributes=["eui", "fPort", "devAddr"], telemetry=["rssi", "snr"])
    conv.converter_version, conv.configuration["name"] = 2, "ERS $eui"
    conv.save()
    integ = lns_integration(tenant, "TTN", conv)
    assert pipeline.process([uplink(integ, raw("ttn_up"))])[0].status == pipeline.OK
    device = Device.objects.get(tenant=tenant, name="ERS A81758FFFE0523DB")
    assert device.profile.name == "greenhouse"
    assert values(device) == {**ELSYS_VALUES, "rssi": -58, "snr": 11.25}
    attributes = {a["key"]: a["value"] for a in get_attributes(device.pk)}
    assert attributes == {"eui": "A81758FFFE0523DB", "fPort": 5, "devAddr": "260B1F6A"}


def test_codec_errors_fail_the_message_into_a_dead_letter_and_a_failure_debug_event(tenant):
    conv = converter(tenant, ELSYS_CODEC)
    Converter.objects.filter(pk=conv.pk).update(debug_failures_enabled=True)
    integ = lns_integration(tenant, "LORIOT", conv)
    bad = json.dumps({**doc("loriot_rx"), "data": "0100e2ff"}).encode()
    outcome = pipeline.process([uplink(integ, bad)])[0]
    assert (outcome.status, outcome.stage) == (pipeline.FAILED, "convert")
    assert outcome.error == "decodeUplink errors: unknown sensor type 0xff at byte 3"
    letter = DeadLetter.objects.get(integration=integ)
    assert (letter.stage, letter.payload) == ("convert", bad)
    event = DebugEvent.objects.get(entity_id=conv.pk)
    assert event.is_error and event.body["error"] == outcome.error
    assert json.loads(event.body["metadata"])["eui"] == "A81758FFFE0523DB"  # what the codec saw


def test_codec_warnings_are_recorded_in_the_debug_event(tenant):
    conv = converter(tenant, ELSYS_CODEC)
    Converter.objects.filter(pk=conv.pk).update(debug_all_enabled_until=2**62)
    integ = lns_integration(tenant, "LORIOT", conv)
    frame = json.dumps({**doc("loriot_rx"), "port": 9}).encode()
    assert pipeline.process([uplink(integ, frame)])[0].status == pipeline.OK
    assert DebugEvent.objects.get(entity_id=conv.pk).body["warnings"] == "unexpected fPort 9"


def test_a_codec_behind_an_integration_without_an_envelope_needs_a_device_name(tenant):
    integ = integration(tenant, converter(tenant, ELSYS_CODEC))  # HTTP: raw frame, no envelope
    outcome = pipeline.process([uplink(integ, FRAME, fPort="5")])[0]
    assert (outcome.status, outcome.stage) == (pipeline.FAILED, "convert")
    assert "does not name its device" in outcome.error
    assert pipeline.process([uplink(integ, FRAME, fPort="5", deviceName="ers-1")])[0].status == pipeline.OK
    assert values(Device.objects.get(tenant=tenant, name="ers-1"))["vdd"] == 3649


def test_an_event_without_an_uplink_is_skipped_without_an_error(tenant):
    conv = converter(tenant, ELSYS_CODEC)
    Converter.objects.filter(pk=conv.pk).update(debug_all_enabled_until=2**62)
    integ = lns_integration(tenant, "CHIRPSTACK", conv)
    outcome = pipeline.process([uplink(integ, raw("chirpstack_join"))])[0]
    assert (outcome.status, outcome.error) == (pipeline.OK, None)
    assert not DeadLetter.objects.filter(integration=integ).exists()
    assert not Device.objects.filter(tenant=tenant).exists()
    assert not DebugEvent.objects.filter(entity_id=conv.pk).exists()  # the converter did not run
    integ.refresh_from_db()
    assert integ.last_error == "" and integ.last_message_ts


def test_the_encoder_side_runs_encode_downlink():
    codec = "function encodeDownlink(input) { return {bytes: [0x3e, input.data.interval >> 8, input.data.interval " \
            "& 0xff], fPort: 6, warnings: []}; }"
    (result,) = engine.encode(None, 0, codec, [('{"interval": 600}', {}, "ATTRIBUTES_UPDATED", {})])
    out = json.loads(result.output_json)
    assert out == {"contentType": "BINARY", "data": base64.b64encode(bytes([0x3E, 2, 0x58])).decode(),
                   "metadata": {"fPort": "6"}}


def test_test_uplink_shows_the_codec_result_and_the_converter_output(api):
    body = {"metadata": {"eui": "A81758FFFE0523DB", "fPort": "5", "ts": str(CHIRPSTACK_TS)},
            "payload": base64.b64encode(FRAME).decode(), "decoder": ELSYS_CODEC,
            "converter": {"converterVersion": 2, "configuration": {"name": "ERS $eui"}}}
    res = api.post("/api/converter/testUpLink?scriptLang=JS", body, format="json").json()
    assert res["error"] == "" and json.loads(res["output"])["data"]["vdd"] == 3649
    assert res["outputMsg"]["name"] == "ERS A81758FFFE0523DB"
    assert res["outputMsg"]["telemetry"] == [{"ts": CHIRPSTACK_TS, "values": ELSYS_VALUES}]


@pytest.mark.parametrize(("configuration", "message"), [
    ({"scriptContract": "TS013", "decoder": "return {deviceName: 'a'};"}, "does not define decodeUplink(input)"),
    ({"scriptContract": "LORA", "decoder": ELSYS_CODEC}, "scriptContract must be THINGSBOARD or TS013"),
    ({"scriptContract": "TS013", "scriptLang": "TBEL", "tbelDecoder": ELSYS_CODEC}, "TS013 is for JavaScript codecs"),
])
def test_saving_checks_the_script_contract(api, configuration, message):
    body = {"name": "codec", "type": "UPLINK", "configuration": {"scriptLang": "JS", **configuration}}
    assert_error(api.post("/api/converter", body, format="json"), 400, message)


def test_a_codec_saves_with_an_explicit_contract(api):
    body = {"name": "codec", "type": "UPLINK",
            "configuration": {"scriptLang": "JS", "decoder": ELSYS_CODEC, "scriptContract": "TS013"}}
    res = api.post("/api/converter", body, format="json")
    assert res.status_code == 200 and res.json()["configuration"]["scriptContract"] == "TS013"


def test_thingsboard_contract_refuses_a_codec_at_run_time(tenant):
    integ = lns_integration(tenant, "CHIRPSTACK", converter(tenant, ELSYS_CODEC, scriptContract="THINGSBOARD"))
    outcome = pipeline.process([uplink(integ, raw("chirpstack_up"))])[0]
    assert outcome.status == pipeline.FAILED and "scriptContract is THINGSBOARD" in outcome.error
