"""The gateway MQTT API's bounds, against a real MQTT client on a real socket: a device moved to another tenant is
no longer served to its old tenant's gateway, every queued call of a device behind a gateway arrives (however many,
also one nobody was told of), a message names at most DEVICE_MQTT_GATEWAY_MAX_DEVICES_PER_MESSAGE devices and a
session serves at most DEVICE_MQTT_GATEWAY_MAX_DEVICES_PER_SESSION, a gateway cannot name itself, and a reply's
"id" is read as ThingsBoard's getAsInt reads it."""

import logging
import threading

import pytest

from devices import attribute_updates
from devices.attributes import save_attributes
from devices.models import Device
from devices.tenant_assign import assign_to_tenant
from rulechains import rpc_calls
from rulechains.models import Rpc
from tbproject import waits
from tbproject.clock import now_ms
from tbproject.testing.factories import make_device
from transports.tests.conftest import token
from transports.tests.mqtt_client import BOUND
from transports.tests.test_robustness import _eventually

SHARED = "SHARED_SCOPE"


@pytest.fixture
def gateway(tenant):
    return make_device(tenant, "gw-1", additional_info={"gateway": True})


@pytest.fixture
def dropped(caplog):
    """The session's "dropped" log lines so far (a callable)."""
    with caplog.at_level(logging.DEBUG, logger="transports.mqtt.session"):
        yield lambda: [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]


def handled(client) -> None:
    """Every message the client published before this one has been handled."""
    assert client.request_attributes() == {}


def _calls(tenant, device, count: int) -> list[Rpc]:
    return [rpc_calls.record(tenant.pk, device.pk, f"6a4f0000-0000-4000-8000-{n:012d}", {"method": f"m{n}",
                                                                                       "params": {}},
                             oneway=True, persistent=True, expiration_time=now_ms() + 60_000, nudge=False)
            for n in range(count)]


# --- a device moved to another tenant -------------------------------------------------------------------------

def test_a_device_moved_to_another_tenant_is_no_longer_served_to_the_old_tenants_gateway(
        tenant, other_tenant, gateway, clients, transport, mode):
    client = clients(token(gateway))
    client.subscribe("v1/gateway/attributes")
    client.publish("v1/gateway/connect", {"device": "Meter A"})
    client.publish("v1/gateway/connect", {"device": "Meter B"})
    handled(client)
    meter_a, meter_b = (Device.objects.get(tenant=tenant, name=n) for n in ("Meter A", "Meter B"))
    assign_to_tenant(meter_a, other_tenant)
    save_attributes(meter_a.pk, SHARED, {"secret": "tenant B's"}, tenant_id=other_tenant.pk)
    save_attributes(meter_b.pk, SHARED, {"mode": "eco"}, tenant_id=tenant.pk)
    assert client.message("v1/gateway/attributes")[1] == {"device": "Meter B", "data": {"mode": "eco"}}
    transport.call(transport.server.check())  # its watches go too
    assert waits.waiting(attribute_updates.key(meter_a.pk)) == 0
    assert waits.waiting(rpc_calls.poll_key(meter_a.pk)) == 0
    assert waits.waiting(attribute_updates.key(meter_b.pk)) == 1


# --- queued calls ---------------------------------------------------------------------------------------------

def test_every_queued_call_of_a_device_behind_the_gateway_arrives_however_many(tenant, gateway, clients):
    meter = make_device(tenant, "Meter Q")
    calls = _calls(tenant, meter, 60)
    client = clients(token(gateway))
    client.subscribe("v1/gateway/rpc")
    client.publish("v1/gateway/connect", {"device": "Meter Q"})
    got = {client.message("v1/gateway/rpc")[1]["data"]["id"] for _ in calls}
    assert got == {rpc.request_id for rpc in calls}


def test_a_call_recorded_without_a_nudge_is_delivered_by_the_periodic_check(tenant, gateway, clients, transport):
    client = clients(token(gateway))
    client.subscribe("v1/gateway/rpc")
    client.publish("v1/gateway/connect", {"device": "Meter A"})
    handled(client)
    _eventually(lambda: all(s.gateway.taker is None for s in transport.server.sessions))  # its first take done
    (rpc,) = _calls(tenant, Device.objects.get(tenant=tenant, name="Meter A"), 1)
    transport.call(transport.server.check())
    assert client.message("v1/gateway/rpc")[1]["data"]["id"] == rpc.request_id


# --- how many devices ---------------------------------------------------------------------------------------

def test_a_message_naming_more_devices_than_allowed_is_dropped_whole(tenant, gateway, clients, settings, dropped):
    settings.DEVICE_MQTT_GATEWAY_MAX_DEVICES_PER_MESSAGE = 3
    client = clients(token(gateway))
    client.publish("v1/gateway/telemetry", {f"M{n}": {"t": n} for n in range(4)})
    client.publish("v1/gateway/attributes", {f"M{n}": {"a": n} for n in range(4)})
    client.publish("v1/gateway/claim", {f"M{n}": {} for n in range(4)})
    handled(client)
    assert len(dropped()) == 3 and all("at most 3 devices" in line for line in dropped()), dropped()
    assert not Device.objects.filter(tenant=tenant, name__startswith="M").exists()
    client.publish("v1/gateway/telemetry", {f"M{n}": {"t": n} for n in range(3)})
    handled(client)
    assert Device.objects.filter(tenant=tenant, name__startswith="M").count() == 3


def test_a_session_serves_at_most_its_devices_a_message_past_them_is_dropped_whole(
        tenant, gateway, clients, settings, dropped):
    settings.DEVICE_MQTT_GATEWAY_MAX_DEVICES_PER_SESSION = 2
    make_device(tenant, "M9")
    client = clients(token(gateway))
    client.subscribe("v1/gateway/attributes")
    client.publish("v1/gateway/telemetry", {"M0": {"t": 0}, "M1": {"t": 1}})
    client.publish("v1/gateway/telemetry", {"M1": {"t": 1}, "M2": {"t": 2}})  # a third device: dropped
    client.publish("v1/gateway/connect", {"device": "M9"})  # one that exists: dropped too
    handled(client)
    assert len(dropped()) == 2 and all("at most 2 devices" in line for line in dropped()), dropped()
    assert set(Device.objects.filter(tenant=tenant, name__startswith="M").values_list("name", flat=True)) == {
        "M0", "M1", "M9"}
    client.publish("v1/gateway/disconnect", {"device": "M0"})
    client.publish("v1/gateway/telemetry", {"M1": {"t": 1}, "M9": {"t": 9}})  # 2 again
    handled(client)
    assert len(dropped()) == 2
    save_attributes(Device.objects.get(tenant=tenant, name="M9").pk, SHARED, {"k": 9}, tenant_id=tenant.pk)
    assert client.message("v1/gateway/attributes")[1] == {"device": "M9", "data": {"k": 9}}


# --- the gateway itself ---------------------------------------------------------------------------------------

def test_a_gateway_cannot_name_itself_as_a_device_behind_it(api, tenant, gateway, clients, dropped):
    client = clients(token(gateway))
    client.subscribe("v1/gateway/attributes")
    client.subscribe("v1/devices/me/attributes")
    client.publish("v1/gateway/connect", {"device": "gw-1"})
    client.publish("v1/gateway/telemetry", {"gw-1": {"t": 1}})
    client.publish("v1/gateway/connect", {"device": "Meter A"})
    handled(client)
    assert len(dropped()) == 2 and all("the gateway itself" in line for line in dropped()), dropped()
    save_attributes(gateway.pk, SHARED, {"poll": 10}, tenant_id=tenant.pk)
    save_attributes(Device.objects.get(tenant=tenant, name="Meter A").pk, SHARED, {"k": 1}, tenant_id=tenant.pk)
    got = sorted((client.message(), client.message()))  # none on v1/gateway/attributes for gw-1
    assert got == [("v1/devices/me/attributes", {"poll": 10}),
                   ("v1/gateway/attributes", {"device": "Meter A", "data": {"k": 1}})]


# --- ids as getAsInt reads them -------------------------------------------------------------------------------

@pytest.mark.parametrize("as_sent", [str, float])
def test_a_reply_id_given_as_digits_or_a_whole_number_answers_the_call(api, tenant, gateway, clients, as_sent):
    client = clients(token(gateway))
    client.subscribe("v1/gateway/rpc")
    client.subscribe("v1/gateway/attributes/response")
    client.publish("v1/gateway/connect", {"device": "Meter A"})
    handled(client)
    meter = Device.objects.get(tenant=tenant, name="Meter A")
    answered = {}
    call = threading.Thread(target=lambda: answered.update(res=api.post(
        f"/api/rpc/twoway/{meter.pk}", {"method": "getTemp", "params": {}, "timeout": 30_000}, format="json")))
    call.start()
    try:
        request_id = client.message("v1/gateway/rpc")[1]["data"]["id"]
        client.publish("v1/gateway/rpc", {"device": "Meter A", "id": as_sent(request_id), "data": {"temp": 1}})
    finally:
        call.join(BOUND)
    assert answered["res"].status_code == 200 and answered["res"].json() == {"temp": 1}
    client.publish("v1/gateway/attributes/request", {"id": as_sent(7), "device": "Meter A", "key": "k"})
    assert client.message("v1/gateway/attributes/response")[1] == {"id": 7, "device": "Meter A"}


def test_every_queued_call_of_a_device_itself_arrives_however_many(tenant, device, clients):
    calls = _calls(tenant, device, 60)
    client = clients(token(device))
    client.subscribe("v1/devices/me/rpc/request/+")
    got = {client.message("v1/devices/me/rpc/request/")[0].rsplit("/", 1)[1] for _ in calls}
    assert got == {str(rpc.request_id) for rpc in calls}
