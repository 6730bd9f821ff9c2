"""ThingsBoard's gateway MQTT API against a real MQTT client (gmqtt, 3.1.1) on a real socket: shared-attribute
updates and server-side RPC calls of the devices a gateway connected reach it on v1/gateway/attributes and
v1/gateway/rpc (in memory and over Redis), its replies answer the REST call, attribute requests and claims are
served, and another tenant's device of the same name is never reached."""

import threading

import pytest

from devices import claiming
from devices.attributes import save_attributes
from devices.models import Device
from rulechains.models import Rpc
from tbproject.testing.factories import make_customer, make_device
from transports.tests.conftest import token
from transports.tests.mqtt_client import BOUND

SHARED = "SHARED_SCOPE"


@pytest.fixture
def gateway(tenant):
    return make_device(tenant, "gw-1", additional_info={"gateway": True})


def shared(api, device, values: dict) -> None:
    assert api.post(f"/api/plugins/telemetry/DEVICE/{device.pk}/{SHARED}", values, format="json").status_code == 200


def connected(client, *names: str) -> None:
    """The gateway connected ``names``, handled (the round trip of its own attribute request comes after)."""
    for name in names:
        client.publish("v1/gateway/connect", {"device": name})
    assert client.request_attributes() == {}


def named(tenant, name: str) -> Device:
    return Device.objects.get(tenant=tenant, name=name)


# --- 1: shared-attribute updates ------------------------------------------------------------------------------

def test_shared_attribute_updates_of_connected_devices_reach_the_gateway_until_it_disconnects_them(
        api, tenant, gateway, clients, mode):
    client = clients(token(gateway))
    assert client.subscribe("v1/gateway/attributes") == (1,)
    connected(client, "Meter A", "Meter B")
    meter_a, meter_b = named(tenant, "Meter A"), named(tenant, "Meter B")
    shared(api, meter_a, {"target": 21.5, "cfg": {"m": 1}})
    assert client.message("v1/gateway/attributes") == (
        "v1/gateway/attributes", {"device": "Meter A", "data": {"target": 21.5, "cfg": {"m": 1}}})
    assert api.delete(f"/api/plugins/telemetry/DEVICE/{meter_a.pk}/{SHARED}?keys=cfg").status_code == 200
    assert client.message("v1/gateway/attributes")[1] == {"device": "Meter A", "data": {"deleted": ["cfg"]}}
    client.publish("v1/gateway/disconnect", {"device": "Meter A"})
    assert client.request_attributes() == {}
    shared(api, meter_a, {"target": 30})  # no longer served: the next message is Meter B's
    shared(api, meter_b, {"mode": "eco"})
    assert client.message("v1/gateway/attributes")[1] == {"device": "Meter B", "data": {"mode": "eco"}}


def test_a_device_the_gateway_posts_for_is_served_too_and_the_gateways_own_updates_stay_its_own(
        api, tenant, gateway, clients):
    client = clients(token(gateway))
    client.subscribe("v1/gateway/attributes")
    client.subscribe("v1/devices/me/attributes")
    client.publish("v1/gateway/telemetry", {"Meter C": {"kwh": 1}})
    assert client.request_attributes() == {}
    shared(api, named(tenant, "Meter C"), {"limit": 5})
    assert client.message("v1/gateway/attributes")[1] == {"device": "Meter C", "data": {"limit": 5}}
    shared(api, gateway, {"poll": 10})
    assert client.message("v1/devices/me/attributes")[1] == {"poll": 10}


# --- 2: attribute requests -----------------------------------------------------------------------------------

def test_attribute_requests_answer_one_value_or_several_as_thingsboard(api, tenant, gateway, clients):
    client = clients(token(gateway))
    client.subscribe("v1/gateway/attributes/response")
    client.publish("v1/gateway/attributes", {"Meter A": {"fw": "2.0", "serial": 7}})
    assert client.request_attributes() == {}
    shared(api, named(tenant, "Meter A"), {"target": 20, "mode": "eco"})
    asks = [({"id": 1, "device": "Meter A", "client": False, "key": "target"}, {"value": 20}),
            ({"id": 2, "device": "Meter A", "client": False, "keys": ["target", "mode", "missing"]},
             {"values": {"target": 20, "mode": "eco"}}),
            ({"id": 3, "device": "Meter A", "client": True, "keys": ["fw", "serial"]},
             {"values": {"fw": "2.0", "serial": 7}}),
            ({"id": 4, "device": "Meter A", "client": True, "keys": ["fw"]}, {"value": "2.0"}),
            ({"id": 5, "device": "Meter A", "client": True, "key": "target"}, {}),  # a shared key: not client-side
            ({"id": 6, "device": "Meter A", "client": False, "keys": ["missing"]}, {}),
            ({"id": 7, "device": "Meter A", "client": ["fw"], "shared": ["target", "mode"]},  # the newer docs'
             {"value": "2.0", "values": {"target": 20, "mode": "eco"}}),
            ({"id": 8, "device": "Meter A", "shared": ["mode"]}, {"value": "eco"})]
    for ask, answer in asks:
        client.publish("v1/gateway/attributes/request", ask)
        assert client.message("v1/gateway/attributes/response") == (
            "v1/gateway/attributes/response", {"id": ask["id"], "device": "Meter A", **answer})


def test_another_tenants_device_of_the_same_name_is_never_read_its_name_makes_a_device_in_the_gateways_tenant(
        api, tenant, other_tenant, gateway, clients):
    stranger = make_device(other_tenant, "Meter X")
    save_attributes(stranger.pk, SHARED, {"secret": "theirs"}, tenant_id=other_tenant.pk)
    client = clients(token(gateway))
    client.subscribe("v1/gateway/attributes/response")
    client.subscribe("v1/gateway/attributes")
    client.publish("v1/gateway/attributes/request", {"id": 9, "device": "Meter X", "client": False, "key": "secret"})
    assert client.message("v1/gateway/attributes/response")[1] == {"id": 9, "device": "Meter X"}
    mine = named(tenant, "Meter X")
    assert mine.pk != stranger.pk and mine.additional_info["lastConnectedGateway"] == str(gateway.pk)
    assert stranger.additional_info.get("lastConnectedGateway") is None
    save_attributes(stranger.pk, SHARED, {"secret": "changed"}, tenant_id=other_tenant.pk)  # never pushed
    shared(api, mine, {"ours": 1})
    assert client.message("v1/gateway/attributes")[1] == {"device": "Meter X", "data": {"ours": 1}}


# --- 3: server-side RPC --------------------------------------------------------------------------------------

def test_a_two_way_call_reaches_the_gateway_and_its_reply_completes_the_rest_call(api, tenant, gateway, clients,
                                                                                  mode):
    client = clients(token(gateway))
    assert client.subscribe("v1/gateway/rpc") == (1,)
    connected(client, "Meter A")
    meter_a = named(tenant, "Meter A")
    answered = {}
    call = threading.Thread(target=lambda: answered.update(res=api.post(
        f"/api/rpc/twoway/{meter_a.pk}", {"method": "getTemp", "params": {"unit": "C"}, "timeout": 30_000},
        format="json")))
    call.start()
    try:
        topic, request = client.message("v1/gateway/rpc")
        assert topic == "v1/gateway/rpc" and request["device"] == "Meter A"
        data = request["data"]
        assert {k: data[k] for k in ("method", "params")} == {"method": "getTemp", "params": {"unit": "C"}}
        assert isinstance(data["id"], int)
        client.publish("v1/gateway/rpc", {"device": "Meter A", "id": data["id"], "data": {"temp": 21.5}})
    finally:
        call.join(BOUND)
    assert answered["res"].status_code == 200 and answered["res"].json() == {"temp": 21.5}
    assert not Rpc.objects.exists()


def test_a_call_queued_before_the_device_connected_comes_once_it_does_and_is_delivered_at_the_puback(
        api, tenant, gateway, clients):
    meter = make_device(tenant, "Meter Q")
    res = api.post(f"/api/rpc/oneway/{meter.pk}", {"method": "reboot", "params": {}, "persistent": True},
                   format="json")
    assert res.status_code == 200
    client = clients(token(gateway))
    client.subscribe("v1/gateway/rpc")
    client.publish("v1/gateway/connect", {"device": "Meter Q"})
    topic, request = client.message("v1/gateway/rpc")
    assert request["device"] == "Meter Q" and request["data"]["method"] == "reboot"
    assert client.request_attributes() == {}  # handled in order: the client's PUBACK of the call before it
    assert Rpc.objects.get().status == "DELIVERED"


def test_a_call_for_another_tenants_device_of_the_same_name_never_reaches_the_gateway(
        api, tenant, other_tenant, gateway, clients):
    from rulechains import rpc_calls
    from tbproject.clock import now_ms

    stranger = make_device(other_tenant, "Meter A")
    theirs = rpc_calls.record(other_tenant.pk, stranger.pk, "6a4f0000-0000-4000-8000-000000000001",
                              {"method": "steal", "params": {}}, oneway=True, persistent=True,
                              expiration_time=now_ms() + 60_000)
    client = clients(token(gateway))
    client.subscribe("v1/gateway/rpc")
    connected(client, "Meter A")
    mine = named(tenant, "Meter A")
    assert api.post(f"/api/rpc/oneway/{mine.pk}", {"method": "mine", "params": {}, "persistent": True},
                    format="json").status_code == 200
    assert client.message("v1/gateway/rpc")[1]["data"]["method"] == "mine"  # the first, and its own
    client.publish("v1/gateway/rpc", {"device": "Meter A", "id": theirs.request_id, "data": {"stolen": True}})
    assert client.request_attributes() == {}
    theirs.refresh_from_db()
    assert theirs.status == "QUEUED" and theirs.response is None


# --- 5: claiming ----------------------------------------------------------------------------------------------

def test_a_gateway_claim_opens_the_claim_of_each_device_it_names(tenant, gateway, clients):
    client = clients(token(gateway))
    client.publish("v1/gateway/claim", {"Meter A": {"secretKey": "s3cret", "durationMs": 60000},
                                        "Meter B": {}})
    assert client.request_attributes() == {}
    customer = make_customer(tenant)
    assert claiming.claim(make_device(tenant, "Meter C"), customer, "")[0] == claiming.FAILURE  # not named
    assert claiming.claim(named(tenant, "Meter A"), customer, "s3cret")[0] == claiming.SUCCESS
    assert claiming.claim(named(tenant, "Meter B"), customer, "")[0] == claiming.SUCCESS
