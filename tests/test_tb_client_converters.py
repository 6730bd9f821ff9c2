"""ThingsBoard's own generated client (tb-pe-client) driving converters, test runs and events on the real server.

Reuses the server and client fixtures of tests/test_tb_client.py (a fresh server for this module).
"""

import base64
import json

import pytest
from tb_pe_client.exceptions import ApiException
from tb_pe_client.models import Converter, DebugConverterEventFilter, DebugSettings

from tests.test_tb_client import client, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server

DECODER = """
// uint16 BE battery (mV), int16 BE temperature (0.1 C)
var battery = (payload[0] << 8) | payload[1];
var t = (payload[2] << 8) | payload[3];
if (t > 0x7FFF) t -= 0x10000;
return {
  deviceName: 'Sensor ' + metadata.devEui,
  deviceType: 'thermometer',
  attributes: { integrationName: metadata.integrationName },
  telemetry: { battery: battery / 1000, temperature: t / 10 }
};
"""
ENCODER = "return {contentType: 'JSON', data: JSON.stringify({t: msg.target}), metadata: {topic: msgType}};"


def test_it_saves_a_converter_and_tests_its_decoder(client):  # noqa: F811
    saved = client.save_converter(Converter(
        name="Client decoder", type="UPLINK", integration_type="HTTP",
        configuration={"scriptLang": "JS", "decoder": DECODER},
        debug_settings=DebugSettings(failures_enabled=True, all_enabled=True, all_enabled_until=0)))
    assert saved is not None and saved.id.id and saved.type == "UPLINK" and saved.integration_type == "HTTP"
    assert saved.debug_settings.failures_enabled is True and saved.debug_settings.all_enabled_until > 0
    converter_id = str(saved.id.id)
    assert client.get_converter_by_id(converter_id).configuration["decoder"] == DECODER

    body = {"metadata": {"integrationName": "HTTP A", "devEui": "0011"},
            "payload": base64.b64encode(bytes([0x0E, 0x10, 0xFF, 0x38])).decode(), "decoder": DECODER}
    result = client.test_up_link_converter(body, script_lang="JS")
    assert result["error"] == ""
    assert json.loads(result["output"]) == {
        "deviceName": "Sensor 0011", "deviceType": "thermometer", "attributes": {"integrationName": "HTTP A"},
        "telemetry": {"battery": 3.6, "temperature": -20}}

    failing = client.test_up_link_converter({**body, "decoder": "return {;"}, script_lang="JS")
    assert failing["output"] == "" and failing["error"].startswith("SyntaxError") and "(line 1)" in failing["error"]

    page = client.get_converters(page_size="10", page="0", text_search="client", integration_type="HTTP")
    assert [c.name for c in page.data] == ["Client decoder"]
    assert [c.name for c in client.get_converters_by_ids(converter_ids=[converter_id])] == ["Client decoder"]


def test_it_tests_an_encoder(client):  # noqa: F811
    body = {"metadata": {"deviceName": "d"}, "msg": json.dumps({"target": 21.5}), "msgType": "ATTRIBUTES_UPDATED",
            "integrationMetadata": {"integrationName": "MQTT"}, "encoder": ENCODER}
    result = client.test_down_link_converter(body, script_lang="JS")
    assert result["error"] == ""
    assert json.loads(result["output"]) == {"contentType": "JSON", "data": '{"t":21.5}',
                                            "metadata": {"topic": "ATTRIBUTES_UPDATED"}}


def test_it_refuses_a_broken_script_on_save_and_reads_empty_events(client):  # noqa: F811
    with pytest.raises(ApiException) as caught:
        client.save_converter(Converter(name="Broken", type="UPLINK", configuration={"decoder": "var x = ;"}))
    assert caught.value.status == 400
    assert "SyntaxError" in json.loads(caught.value.body)["message"]

    saved = client.save_converter(Converter(name="Encoder", type="DOWNLINK", configuration={"encoder": ENCODER}))
    converter_id = str(saved.id.id)
    tenant_id = str(client.get_user().tenant_id.id)
    events = client.get_events_by_type("CONVERTER", converter_id, "DEBUG_CONVERTER", tenant_id, 10, 0)
    assert events.data == [] and events.total_elements == 0
    event_filter = DebugConverterEventFilter(event_type="DEBUG_CONVERTER", error_str="boom")
    assert client.get_events_by_filter("CONVERTER", converter_id, tenant_id, 10, 0, event_filter).data == []
    assert client.clear_events("CONVERTER", converter_id, event_filter) is None
    assert client.get_latest_converter_debug_input(converter_id) == {}

    client.delete_converter(converter_id)
    with pytest.raises(ApiException) as caught:
        client.get_converter_by_id(converter_id)
    assert caught.value.status == 404


def test_it_unwraps_a_network_envelope_and_browses_the_library(client):  # noqa: F811
    from tb_pe_client.models import IntegrationType

    from converters.tests.envelopes import FRAME, raw

    body = {"metadata": {"integrationName": "ChirpStack"}, "payload": base64.b64encode(raw("chirpstack_up")).decode()}
    unwrapped = client.unwrap_raw_payload(IntegrationType.CHIRPSTACK, body)
    assert base64.b64decode(unwrapped["payload"]) == FRAME and unwrapped["contentType"] == "BINARY"
    assert unwrapped["metadata"]["eui"] == "a81758fffe0523db" and unwrapped["metadata"]["fPort"] == 5
    with pytest.raises(ApiException) as failed:
        client.unwrap_raw_payload(IntegrationType.CHIRPSTACK, {"metadata": {}, "payload": "bm90IGpzb24="})
    assert failed.value.status == 400 and "must be a JSON object" in failed.value.body
    # The server of this module has no library loaded: typed empty lists, not errors.
    assert client.get_vendors(IntegrationType.CHIRPSTACK, converter_type="UPLINK", load_images=False) == []
    assert client.get_vendor_models(IntegrationType.TTN, "Elsys") == []
