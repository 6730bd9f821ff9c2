"""`POST /api/converter/unwrap/{integrationType}` as tb-pe-client's unwrap_raw_payload calls it."""

import base64
import json

import pytest

from converters.tests.envelopes import FRAME, doc, raw
from tbproject.testing.api import assert_error

URL = "/api/converter/unwrap/{}"


def post(client, kind, payload, metadata=None):
    body = {"metadata": metadata or {"integrationName": "lns"},
            "payload": base64.b64encode(payload).decode() if isinstance(payload, bytes) else payload}
    return client.post(URL.format(kind), body, format="json")


@pytest.mark.parametrize(("kind", "fixture", "eui"), [
    ("CHIRPSTACK", "chirpstack_up", "a81758fffe0523db"),
    ("LORIOT", "loriot_rx", "A81758FFFE0523DB"),
    ("TTN", "ttn_up", "A81758FFFE0523DB"),
    ("TTI", "ttn_up", "A81758FFFE0523DB"),
    ("THINGPARK", "thingpark_uplink", "A81758FFFE0523DB"),
    ("TPE", "thingpark_uplink", "A81758FFFE0523DB"),
])
def test_it_answers_the_device_frame_and_the_enriched_metadata(api, kind, fixture, eui):
    res = post(api, kind, raw(fixture))
    assert res.status_code == 200, res.content
    body = res.json()
    assert set(body) == {"metadata", "payload", "contentType"}
    assert base64.b64decode(body["payload"]) == FRAME and body["contentType"] == "BINARY"
    assert body["metadata"]["integrationName"] == "lns" and body["metadata"]["eui"] == eui
    assert body["metadata"]["fPort"] == 5


def test_it_accepts_the_raw_message_as_a_json_object_too(api):
    res = post(api, "CHIRPSTACK", doc("chirpstack_up"))
    assert res.status_code == 200 and base64.b64decode(res.json()["payload"]) == FRAME


def test_it_passes_a_payload_through_for_a_type_without_an_envelope(api):
    res = post(api, "HTTP", b'{"temperature": 21}')
    assert res.json() == {"metadata": {"integrationName": "lns"}, "payload": base64.b64encode(
        b'{"temperature": 21}').decode(), "contentType": "JSON"}


@pytest.mark.parametrize("event", [
    doc("chirpstack_join"),
    # a log event with the device's fields at the top level, as a ChirpStack sample of ThingsBoard's
    # converter library has it (our own values)
    {"devEui": "a81758fffe0523db", "deviceName": "panic-1", "deviceProfileName": "Buttons", "tenantName": "cs",
     "applicationName": "app", "tags": {}, "level": "WARNING", "code": "UPLINK_F_CNT_RETRANSMISSION",
     "description": "frame-counter did not increment", "context": {"deduplication_id": "d-1"}},
])
def test_an_event_without_an_uplink_answers_its_devices_fields_and_an_empty_payload(api, event):
    """As ThingsBoard's unwrap does (the converter then runs on an empty payload); the pipeline
    skips such events all the same (test_unwrap_chirpstack)."""
    res = post(api, "CHIRPSTACK", event)
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["payload"] == "" and body["metadata"]["eui"] == "a81758fffe0523db"
    assert body["metadata"]["integrationName"] == "lns" and "fPort" not in body["metadata"]


@pytest.mark.parametrize(("kind", "payload", "status", "message"), [
    ("LORAWAN", b"{}", 400, "Unknown integration type 'LORAWAN'"),
    ("CHIRPSTACK", b"not json", 400, "Cannot unwrap the CHIRPSTACK payload: a ChirpStack uplink must be a JSON"),
    ("CHIRPSTACK", json.dumps({"level": "ERROR", "code": "UPLINK_CODEC"}).encode(), 400,
     "deviceInfo.devEui is missing"),  # an event that names no device
    ("TTN", "%%%", 400, "'payload' is not valid base64"),
])
def test_it_says_why_it_cannot_unwrap(api, kind, payload, status, message):
    assert_error(post(api, kind, payload), status, message)


def test_it_is_for_tenant_administrators(anon, customer_api):
    assert post(anon, "TTN", raw("ttn_up")).status_code == 401
    assert post(customer_api, "TTN", raw("ttn_up")).status_code == 403
