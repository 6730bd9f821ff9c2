"""Typed (converterVersion 2) converters end to end: envelope unwrapped by the integration's
type, `payloadDecoder`-style script on the device bytes, entity from `$key` patterns, network
fields stored through the attributes/telemetry key lists (reference 4.3)."""

import pytest

from converters.output import converter_output, normalise_uplink_v2
from converters.tests.envelopes import raw
from devices.attributes import get_attributes
from devices.models import Device
from integrations import pipeline
from integrations.tests.uplinks import converter, integration, uplink, values
from tbproject.testing.api import assert_error

# What ThingsBoard's typed editor pre-fills, completed for the Elsys ERS frame.
ERS_DECODER = r"""
var result = {attributes: {}, telemetry: {ts: metadata.ts, values: {}}}, v = result.telemetry.values;
for (var i = 0; i < payload.length; i++) {
  switch (payload[i]) {
    case 0x01: v.temperature = ((payload[i + 1] << 24 >> 16) | payload[i + 2]) / 10; i += 2; break;
    case 0x02: v.humidity = payload[i + 1]; i += 1; break;
    case 0x04: v.light = (payload[i + 1] << 8) | payload[i + 2]; i += 2; break;
    case 0x05: v.motion = payload[i + 1]; i += 1; break;
    case 0x07: result.attributes.batteryMv = (payload[i + 1] << 8) | payload[i + 2]; i += 2; break;
    default: throw new Error('unknown type ' + payload[i]);
  }
}
return result;
"""
TYPED = {"type": "DEVICE", "profile": "$deviceProfileName", "label": "$deviceName", "customer": "",
         "group": "Greenhouse sensors", "attributes": ["eui", "devAddr", "fPort", "applicationName", "frequency"],
         "telemetry": ["rssi", "snr", "fCnt"]}


def typed_converter(tenant, **overrides):
    conv = converter(tenant, ERS_DECODER, **{**TYPED, **overrides})
    conv.converter_version, conv.configuration["name"] = 2, "ERS $eui"
    conv.save()
    return conv


def test_a_typed_chirpstack_converter_decodes_its_sample_uplink_end_to_end(tenant):
    integ = integration(tenant, typed_converter(tenant))
    integ.type = "CHIRPSTACK"  # the ChirpStack integration type itself comes with issue 8 item 1
    integ.save(update_fields=["type"])
    assert pipeline.process([uplink(integ, raw("chirpstack_up"))])[0].status == pipeline.OK
    device = Device.objects.get(tenant=tenant, name="ERS a81758fffe0523db")
    assert (device.profile.name, device.label) == ("ERS", "ers-greenhouse-3")
    assert values(device) == {"temperature": 22.6, "humidity": 41, "light": 39, "motion": 6, "rssi": -71,
                              "snr": 9.25, "fCnt": 1542}
    attributes = {a["key"]: a["value"] for a in get_attributes(device.pk)}
    assert attributes == {"eui": "a81758fffe0523db", "devAddr": "01e5a3f7", "fPort": 5,
                          "applicationName": "Greenhouse", "frequency": 867500000, "batteryMv": 3649}


def test_the_scripts_own_values_win_over_listed_network_fields():
    update = normalise_uplink_v2({"attributes": {"fPort": "from script"}}, {"attributes": ["fPort", "missing"]},
                                 {"fPort": 5, "eui": "01"}, server_ts=7)
    assert update.attributes == {"fPort": "from script"}


def test_the_converter_output_has_thingsboards_shape():
    update = normalise_uplink_v2({"telemetry": {"t": 1}, "customer": "Acme"}, {"name": "D $eui", "telemetry": ["rssi"]},
                                 {"eui": "01", "rssi": -80, "ts": "1000"}, server_ts=5)
    assert converter_output(update) == {"entityType": "DEVICE", "name": "D 01", "profile": "default",
                                        "customer": "Acme", "telemetry": [{"ts": 5, "values": {"t": 1}},
                                                                          {"ts": 1000, "values": {"rssi": -80}}],
                                        "attributes": {}}


@pytest.mark.parametrize(("typed", "message"), [
    ({"type": "ROBOT"}, "type must be DEVICE or ASSET"),
    ({"name": 5}, "name must be a text pattern"),
    ({"attributes": "eui"}, "attributes must be an array of key names"),
    ({"telemetry": [1]}, "telemetry must be an array of key names"),
])
def test_saving_a_typed_converter_checks_its_keys(api, typed, message):
    body = {"name": "typed", "type": "UPLINK", "converterVersion": 2, "integrationType": "CHIRPSTACK",
            "configuration": {"scriptLang": "JS", "decoder": ERS_DECODER, **typed}}
    assert_error(api.post("/api/converter", body, format="json"), 400, message)


def test_saving_a_typed_converter_fills_the_defaults(api):
    body = {"name": "typed", "type": "UPLINK", "converterVersion": 2, "integrationType": "TTN",
            "configuration": {"scriptLang": "JS", "decoder": ERS_DECODER}}
    res = api.post("/api/converter", body, format="json")
    assert res.status_code == 200, res.content
    assert (res.json()["configuration"]["type"], res.json()["configuration"]["name"]) == ("DEVICE", "Device $eui")
