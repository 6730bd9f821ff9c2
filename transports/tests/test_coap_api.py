"""ThingsBoard's device CoAP API against a real CoAP client (aiocoap) over real UDP: each path stores or
answers as the HTTP and MQTT APIs do, and what the REST API does (a shared-attribute save, an RPC call)
reaches the observing device, in memory and over Redis."""

import json
import threading

import aiocoap
import pytest

from rulechains.models import Rpc
from rulechains.tests.test_device_rpc import client_rpc_root
from transports.tests import coap_client as fixtures
from transports.tests.coap_client import BOUND
from transports.tests.conftest import token
from transports.tests.test_device_api import SHARED, latest

coap, coap_client = fixtures.coap, fixtures.coap_client  # the transport and its clients


def path(device, feature: str) -> str:
    return f"/api/v1/{token(device)}/{feature}"


def test_telemetry_in_thingsboards_three_shapes_and_client_attributes_are_stored(api, device, coap_client):
    client = coap_client()
    assert client.post(path(device, "telemetry"), {"temperature": 21.5}).code == aiocoap.CREATED
    assert client.post(path(device, "telemetry"), [{"ts": 1719000000000, "values": {"humidity": 40}},
                                                   {"ts": 1719000001000, "values": {"humidity": 41}}]).code \
        == aiocoap.CREATED
    assert client.post(path(device, "telemetry"), {"ts": 1719000002000, "values": {"ok": True}}).code \
        == aiocoap.CREATED
    assert client.post(path(device, "attributes"), {"firmware": "1.2", "serial": 7}).code == aiocoap.CREATED
    stored = latest(api, device, "temperature,humidity,ok")
    assert stored["humidity"] == [(1719000001000, "41")] and stored["ok"] == [(1719000002000, "true")]
    assert stored["temperature"][0][1] == "21.5"
    scope = api.get(f"/api/plugins/telemetry/DEVICE/{device.pk}/values/attributes/CLIENT_SCOPE").json()
    assert {row["key"]: row["value"] for row in scope} == {"firmware": "1.2", "serial": 7}


def test_an_attribute_read_answers_thingsboards_shape(api, device, coap_client):
    assert api.post(f"/api/plugins/telemetry/DEVICE/{device.pk}/{SHARED}", {"target": 20, "mode": "eco"},
                    format="json").status_code == 200
    client = coap_client()
    client.post(path(device, "attributes"), {"firmware": "1.2"})
    answer = client.get(path(device, "attributes"))
    assert answer.code == aiocoap.CONTENT and answer.opt.content_format == 50
    assert json.loads(answer.payload) == {"client": {"firmware": "1.2"}, "shared": {"target": 20, "mode": "eco"}}
    answer = client.get(path(device, "attributes"), query="clientKeys=firmware,missing&sharedKeys=mode")
    assert json.loads(answer.payload) == {"client": {"firmware": "1.2"}, "shared": {"mode": "eco"}}
    nothing = client.get(path(device, "attributes"), query="sharedKeys=missing")
    assert nothing.code == aiocoap.NOT_FOUND and nothing.payload == b""  # as ThingsBoard's JSON CoAP adaptor


def test_shared_attribute_changes_are_notified_to_the_observing_device(api, device, coap_client, mode):
    assert api.post(f"/api/plugins/telemetry/DEVICE/{device.pk}/{SHARED}", {"target": 20},
                    format="json").status_code == 200
    observation = coap_client().observe(path(device, "attributes"))
    assert observation.next_json() == {"target": 20}
    assert api.post(f"/api/plugins/telemetry/DEVICE/{device.pk}/{SHARED}", {"target": 21.5, "cfg": {"m": 1}},
                    format="json").status_code == 200
    assert observation.next_json() == {"target": 21.5, "cfg": {"m": 1}}
    assert api.delete(f"/api/plugins/telemetry/DEVICE/{device.pk}/{SHARED}?keys=cfg").status_code == 200
    assert observation.next_json() == {"deleted": ["cfg"]}


def test_a_server_side_rpc_is_notified_and_the_devices_reply_completes_the_rest_call(api, device, coap_client,
                                                                                       mode):
    client = coap_client()
    observation = client.observe(path(device, "rpc"))
    assert observation.next().code == aiocoap.VALID  # registered (2.03, as ThingsBoard): nothing waits yet
    answered = {}
    call = threading.Thread(target=lambda: answered.update(res=api.post(
        f"/api/rpc/twoway/{device.pk}", {"method": "getTemp", "params": {"unit": "C"}, "timeout": 30_000},
        format="json")))
    call.start()
    try:
        request = observation.next_json()
        assert request["method"] == "getTemp" and request["params"] == {"unit": "C"}
        assert client.post(path(device, f"rpc/{request['id']}"), {"temp": 21.5}).code == aiocoap.CREATED
    finally:
        call.join(BOUND)
    assert answered["res"].status_code == 200 and answered["res"].json() == {"temp": 21.5}
    assert not Rpc.objects.exists()


def test_a_call_queued_while_the_device_was_away_is_the_first_notification(api, device, coap_client):
    assert api.post(f"/api/rpc/oneway/{device.pk}", {"method": "reboot", "params": {}, "persistent": True},
                    format="json").status_code == 200
    observation = coap_client().observe(path(device, "rpc"))
    assert observation.next().code == aiocoap.VALID
    request = observation.next_json()
    assert request["method"] == "reboot" and request["params"] == {} and isinstance(request["id"], int)
    assert Rpc.objects.get().status == "DELIVERED"


def test_a_client_side_rpc_is_answered_in_the_response(tenant, device, coap_client, mode):
    client_rpc_root(tenant)
    answer = coap_client().post(path(device, "rpc"), {"method": "getCurrentTime", "params": {"tz": "UTC"}})
    assert answer.code == aiocoap.CONTENT, answer
    assert json.loads(answer.payload) == {"time": 1631881236974, "asked": "getCurrentTime", "params": {"tz": "UTC"},
                                          "keys": ["deviceName", "deviceType", "requestId", "serviceId",
                                                   "sessionId"]}


def test_a_device_claims_itself(device, coap_client, settings):
    from django.core.cache import cache

    settings.SECURITY_CLAIM_ALLOW_CLAIMING_BY_DEFAULT = True
    assert coap_client().post(path(device, "claim"), {"secretKey": "s3", "durationMs": 60000}).code \
        == aiocoap.CREATED
    assert cache.get(f"tb:claim:{device.pk}")["secretKey"] == "s3"


@pytest.mark.parametrize("body, code", [({"provisionDeviceKey": "nope", "provisionDeviceSecret": "x"},
                                         aiocoap.BAD_REQUEST), (b"{not json", aiocoap.BAD_REQUEST)])
def test_provisioning_with_an_unknown_key_or_a_bad_body_is_a_4_00(coap_client, body, code):
    answer = coap_client().post("/api/v1/provision", body)
    assert answer.code == code
    if isinstance(body, dict):
        assert json.loads(answer.payload)["status"] == "NOT_FOUND"


def test_firmware_is_served_whole_block_wise_and_in_chunks(api, tenant, device, coap_client):
    from devices.tests.ota_support import make_package
    from tbproject.testing.factories import default_profile

    data = bytes(range(256)) * 12  # over one CoAP block: the client reads it block-wise
    info = make_package(api, default_profile(tenant), data, title="fw", version="1.0")
    device.firmware_id = info["id"]["id"]
    device.save()
    client = coap_client()
    whole = client.get(path(device, "firmware"), query="title=fw&version=1.0")
    assert whole.code == aiocoap.CONTENT and whole.payload == data
    chunk = client.get(path(device, "firmware"), query="title=fw&version=1.0&size=100&chunk=2")
    assert chunk.payload == data[200:300]
    assert client.get(path(device, "firmware"), query="title=fw&version=1.0&size=100&chunk=99").payload == b""
    assert client.get(path(device, "firmware"), query="title=fw&version=2.0").code == aiocoap.NOT_FOUND
    assert client.get(path(device, "software"), query="title=fw&version=1.0").code == aiocoap.NOT_FOUND
    assert client.get(path(device, "firmware"), query="title=fw").code == aiocoap.BAD_REQUEST
    assert client.get(path(device, "firmware"), query="title=fw&version=1.0&size=-1").code == aiocoap.BAD_REQUEST
