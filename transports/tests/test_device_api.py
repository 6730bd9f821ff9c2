"""ThingsBoard's device MQTT API against a real MQTT client (gmqtt, 3.1.1) on a real socket: what a device
publishes is stored as the HTTP API stores it, attribute requests are answered, and what the REST API does
(a shared-attribute save, a two-way RPC call) reaches the connected device, in memory and over Redis."""

import json
import threading

import pytest
from django.test import Client

from rulechains.models import Rpc
from rulechains.tests.test_device_rpc import client_rpc_root
from transports.tests.conftest import token
from transports.tests.mqtt_client import BOUND

SHARED = "SHARED_SCOPE"


def latest(api, device, keys: str) -> dict:
    values = api.get(f"/api/plugins/telemetry/DEVICE/{device.pk}/values/timeseries", {"keys": keys}).json()
    def text(value) -> str:
        return value if isinstance(value, str) else json.dumps(value)

    return {key: [(point["ts"], text(point["value"])) for point in points] for key, points in values.items()}


def test_telemetry_in_thingsboards_three_shapes_and_client_attributes_are_stored(api, device, clients):
    client = clients(token(device))
    client.publish("v1/devices/me/telemetry", {"temperature": 21.5})
    client.publish("v1/devices/me/telemetry", [{"ts": 1719000000000, "values": {"humidity": 40}},
                                               {"ts": 1719000001000, "values": {"humidity": 41}}])
    client.publish("v1/devices/me/telemetry", {"ts": 1719000002000, "values": {"pressure": 1013, "ok": True}})
    client.publish("v1/devices/me/attributes", {"firmware": "1.2", "serial": 7})
    answer = client.request_attributes(clientKeys="firmware,serial")  # also: all of the above was handled
    assert answer == {"client": {"firmware": "1.2", "serial": 7}}
    stored = latest(api, device, "temperature,humidity,pressure,ok")
    assert stored["humidity"] == [(1719000001000, "41")] and stored["pressure"] == [(1719000002000, "1013")]
    assert stored["ok"] == [(1719000002000, "true")] and stored["temperature"][0][1] == "21.5"
    scope = api.get(f"/api/plugins/telemetry/DEVICE/{device.pk}/values/attributes/CLIENT_SCOPE").json()
    assert {row["key"]: row["value"] for row in scope} == {"firmware": "1.2", "serial": 7}


def test_an_attribute_request_reads_client_and_shared_keys_as_thingsboard(api, device, clients):
    assert api.post(f"/api/plugins/telemetry/DEVICE/{device.pk}/{SHARED}", {"target": 20, "mode": "eco"},
                    format="json").status_code == 200
    client = clients(token(device))
    client.publish("v1/devices/me/attributes", {"firmware": "1.2"})
    assert client.request_attributes() == {"client": {"firmware": "1.2"}, "shared": {"target": 20, "mode": "eco"}}
    assert client.request_attributes(sharedKeys="mode,missing") == {"shared": {"mode": "eco"}}
    assert client.request_attributes(clientKeys="missing") == {}


def test_a_shared_attribute_saved_through_the_rest_api_is_pushed_to_the_subscribed_device(api, device, clients,
                                                                                        mode):
    client = clients(token(device))
    assert client.subscribe("v1/devices/me/attributes") == (1,)
    assert api.post(f"/api/plugins/telemetry/DEVICE/{device.pk}/{SHARED}", {"target": 21.5, "cfg": {"m": 1}},
                    format="json").status_code == 200
    assert client.message("v1/devices/me/attributes") == ("v1/devices/me/attributes", {"target": 21.5, "cfg": {"m": 1}})
    assert api.delete(f"/api/plugins/telemetry/DEVICE/{device.pk}/{SHARED}?keys=cfg").status_code == 200
    assert client.message("v1/devices/me/attributes") == ("v1/devices/me/attributes", {"deleted": ["cfg"]})


def test_a_server_side_rpc_reaches_the_device_and_its_reply_completes_the_rest_call(api, device, clients, mode):
    client = clients(token(device))
    assert client.subscribe("v1/devices/me/rpc/request/+") == (1,)
    answered = {}
    call = threading.Thread(target=lambda: answered.update(res=api.post(
        f"/api/rpc/twoway/{device.pk}", {"method": "getTemp", "params": {"unit": "C"}, "timeout": 30_000},
        format="json")))
    call.start()
    try:
        topic, request = client.message("v1/devices/me/rpc/request/")
        assert request == {"method": "getTemp", "params": {"unit": "C"}}
        client.publish(f"v1/devices/me/rpc/response/{topic.rpartition('/')[2]}", {"temp": 21.5})
    finally:
        call.join(BOUND)
    assert answered["res"].status_code == 200 and answered["res"].json() == {"temp": 21.5}
    assert not Rpc.objects.exists()


def test_a_call_queued_while_the_device_was_away_comes_when_it_subscribes(api, device, clients):
    assert api.post(f"/api/rpc/oneway/{device.pk}", {"method": "reboot", "params": {}, "persistent": True},
                    format="json").status_code == 200
    client = clients(token(device))
    client.subscribe("v1/devices/me/rpc/request/+")
    topic, request = client.message("v1/devices/me/rpc/request/")
    assert request == {"method": "reboot", "params": {}} and topic.rpartition("/")[2].isdigit()
    assert client.request_attributes() == {}  # handled in order: the client's PUBACK of the call before it
    assert Rpc.objects.get().status == "DELIVERED"


def test_a_client_side_rpc_is_answered_on_the_response_topic(tenant, device, clients, mode):
    client_rpc_root(tenant)
    client = clients(token(device))
    client.subscribe("v1/devices/me/rpc/response/+")
    client.publish("v1/devices/me/rpc/request/17", {"method": "getCurrentTime", "params": {"tz": "UTC"}})
    topic, answer = client.message("v1/devices/me/rpc/response/")
    assert topic == "v1/devices/me/rpc/response/17"
    assert answer == {"time": 1631881236974, "asked": "getCurrentTime", "params": {"tz": "UTC"},
                      "keys": ["deviceName", "deviceType", "requestId", "serviceId", "sessionId"]}


def test_a_device_posting_over_mqtt_and_http_sees_one_store(api, device, clients):
    """The same services as the HTTP API: an HTTP post is read back over MQTT and the other way round."""
    assert Client().post(f"/api/v1/{token(device)}/attributes", {"viaHttp": 1},
                         content_type="application/json").status_code == 200
    client = clients(token(device))
    client.publish("v1/devices/me/attributes", {"viaMqtt": 2})
    assert client.request_attributes() == {"client": {"viaHttp": 1, "viaMqtt": 2}}


@pytest.mark.parametrize("keys", ["a,b", "a"])
def test_keys_lists_are_comma_separated(device, clients, keys):
    client = clients(token(device))
    client.publish("v1/devices/me/attributes", {"a": 1, "b": 2, "c": 3})
    assert client.request_attributes(clientKeys=keys) == {"client": {k: {"a": 1, "b": 2}[k] for k in keys.split(",")}}


# --- the gateway API --------------------------------------------------------------------------------

def test_a_gateway_connects_and_posts_for_devices_it_creates_in_its_own_tenant(tenant, other_tenant, api, clients):
    from devices.models import Device, EntityRelation
    from tbproject.testing.factories import make_device

    gateway = make_device(tenant, "gw-1", additional_info={"gateway": True})
    stranger = make_device(other_tenant, "Meter A")  # the same name in another tenant: never touched
    client = clients(token(gateway))
    client.publish("v1/gateway/connect", {"device": "Meter A", "type": "meter"})
    client.publish("v1/gateway/telemetry", {"Meter A": [{"ts": 1719000000000, "values": {"kwh": 12.5}}],
                                            "Meter B": {"kwh": 3}})
    client.publish("v1/gateway/attributes", {"Meter A": {"fw": "2.0"}})
    client.publish("v1/gateway/disconnect", {"device": "Meter A"})
    assert client.request_attributes() == {}  # the gateway's own: none; and all of the above was handled
    meter_a, meter_b = (Device.objects.get(tenant=tenant, name=n) for n in ("Meter A", "Meter B"))
    assert (meter_a.profile.name, meter_b.profile.name) == ("meter", "default")
    assert meter_a.additional_info["lastConnectedGateway"] == str(gateway.pk)
    assert EntityRelation.objects.filter(tenant=tenant, from_id=gateway.pk, to_id=meter_a.pk, type="Created").exists()
    assert latest(api, meter_a, "kwh") == {"kwh": [(1719000000000, "12.5")]}
    assert latest(api, meter_b, "kwh")["kwh"][0][1] == "3"
    scope = api.get(f"/api/plugins/telemetry/DEVICE/{meter_a.pk}/values/attributes/CLIENT_SCOPE").json()
    assert {row["key"]: row["value"] for row in scope} == {"fw": "2.0"}
    from devices.attributes import get_attributes

    assert get_attributes(stranger.pk) == [] and not Device.objects.filter(tenant=other_tenant, name="Meter B")


def test_gateway_topics_of_a_device_that_is_no_gateway_and_bad_gateway_payloads_are_dropped(tenant, device, clients):
    from devices.models import Device
    from tbproject.testing.factories import make_device

    client = clients(token(device))
    client.publish("v1/gateway/telemetry", {"Sneaky": {"t": 1}})
    client.publish("v1/gateway/connect", {"device": "Sneaky"})
    assert client.request_attributes() == {}
    gateway = clients(token(make_device(tenant, "gw-2", additional_info={"gateway": True})))
    gateway.publish("v1/gateway/telemetry", {"Good": {"t": 1}, "Bad": "not telemetry"})
    gateway.publish("v1/gateway/attributes", [{"Good": {"a": 1}}])
    gateway.publish("v1/gateway/connect", {"type": "no device"})
    assert gateway.request_attributes() == {}
    assert not Device.objects.filter(name__in=["Sneaky", "Good", "Bad"]).exists()
