"""The gateway MQTT API under bad input and broken sessions: malformed or wrongly shaped gateway messages are
dropped with a log line and counted in the rate limits while the session stays up, a device that is no gateway
is served none of it, and a call written to a gateway that goes before acknowledging it is queued again.
Raw sockets where a well-behaved client would not do it; every wait bounded (BOUND), none a measurement."""

import logging

import pytest

from devices import attribute_updates
from devices.models import Device
from rulechains import rpc_calls
from tbproject import waits
from tbproject.testing.factories import make_device
from tbproject.testing.limits import limit_tenant
from tenants import limits
from transports.mqtt import packets
from transports.tests.conftest import token
from transports.tests.mqtt_client import BOUND
from transports.tests.test_robustness import _call, _eventually, _raw, _read, _status, _subscribe

BAD = [("v1/gateway/attributes/request", b"{not json"),
       ("v1/gateway/attributes/request", {"id": "one", "device": "Meter A", "client": False, "key": "k"}),
       ("v1/gateway/attributes/request", {"id": 1, "device": "Meter A", "client": "yes", "key": "k"}),
       ("v1/gateway/attributes/request", {"id": 1, "device": "Meter A", "client": False}),
       ("v1/gateway/attributes/request", {"id": 1, "device": "Meter A", "client": False, "keys": [1, None]}),
       ("v1/gateway/attributes/request", {"id": 1, "device": "", "client": False, "key": "k"}),
       ("v1/gateway/attributes/request", [1, 2]),
       ("v1/gateway/rpc", b"\xff\xfe"),
       ("v1/gateway/rpc", {"device": "Meter A", "id": 5}),
       ("v1/gateway/rpc", {"device": "Meter A", "id": True, "data": {}}),
       ("v1/gateway/rpc", {"id": 5, "data": {}}),
       ("v1/gateway/rpc", {"device": "Meter A", "id": "5a", "data": {}}),  # getAsInt reads "5" and 5.0, not these
       ("v1/gateway/rpc", {"device": "Meter A", "id": 5.5, "data": {}}),
       ("v1/gateway/rpc", {"device": "Meter A", "id": "99999999999", "data": {}}),
       ("v1/gateway/claim", {"Meter A": "secret"}),
       ("v1/gateway/claim", {"Meter A": {"durationMs": "soon"}}),
       ("v1/gateway/claim", {}),
       ("v1/gateway/connect", b"null"),
       ("v1/gateway/disconnect", {"device": 7})]


@pytest.fixture
def gateway(tenant):
    return make_device(tenant, "gw-1", additional_info={"gateway": True})


@pytest.fixture(autouse=True)
def _embedded(settings):
    settings.REDIS_URL = ""


def test_malformed_and_wrongly_shaped_gateway_messages_are_dropped_with_a_log_line_and_the_session_stays_up(
        tenant, gateway, clients, caplog):
    client = clients(token(gateway))
    client.subscribe("v1/gateway/attributes/response")
    with caplog.at_level(logging.DEBUG, logger="transports.mqtt.session"):
        for topic, payload in BAD:
            client.publish(topic, payload)
        assert client.request_attributes() == {}  # still up, and all of the above was handled
    dropped = [r.getMessage() for r in caplog.records if "dropped" in r.getMessage()]
    assert len(dropped) == len(BAD), dropped
    assert "the payload is not JSON" in dropped[0] and "'id' must be an integer" in dropped[1]
    assert "'key' (one) or 'keys'" in dropped[3] and "'data'" in dropped[8]
    assert client.received.empty()  # no attribute response to a refused request
    assert not Device.objects.filter(tenant=tenant, name="Meter A").exists()


def test_bad_gateway_messages_count_in_the_gateways_rate_limits(tenant, gateway, clients):
    limit_tenant(tenant, transportDeviceMsgRateLimit="3:3600")
    limits.reset()
    limits.forget()
    try:
        client = clients(token(gateway))
        for topic, payload in BAD[:4]:  # the fourth is past the limit: the session is closed, as ThingsBoard's
            client.publish(topic, payload)
        assert client.disconnected.wait(BOUND)
    finally:
        limits.reset()
        limits.forget()


def test_a_device_that_is_no_gateway_is_served_no_gateway_api(tenant, device, clients, caplog):
    client = clients(token(device))
    client.subscribe("v1/gateway/attributes/response")
    with caplog.at_level(logging.DEBUG, logger="transports.mqtt.session"):
        client.publish("v1/gateway/attributes/request", {"id": 1, "device": "Sneaky", "client": False, "key": "k"})
        client.publish("v1/gateway/rpc", {"device": "Sneaky", "id": 1, "data": {}})
        client.publish("v1/gateway/claim", {"Sneaky": {}})
        client.publish("v1/gateway/connect", {"device": "Sneaky"})
        assert client.request_attributes() == {}
    assert sum("is no gateway" in r.getMessage() for r in caplog.records) == 4
    assert client.received.empty()
    assert not Device.objects.filter(name="Sneaky").exists()


def test_a_call_written_to_a_gateway_that_goes_before_its_puback_is_queued_again_for_the_next(
        transport, tenant, gateway, clients):
    meter = make_device(tenant, "Meter A")
    rpc = _call(tenant, meter)
    with _raw(transport.port, token(gateway)) as sock:
        sock.sendall(_subscribe("v1/gateway/rpc", qos=1))
        assert _read(sock)[0] == packets.SUBACK
        sock.sendall(packets.publish("v1/gateway/connect", b'{"device": "Meter A"}'))
        kind, flags, body = _read(sock)
        assert kind == packets.PUBLISH and (flags >> 1) & 3 == 1
        assert packets.parse_publish(flags, body).topic == "v1/gateway/rpc"
        assert _status(rpc) == "SENT"
    _eventually(lambda: _status(rpc) == "QUEUED")
    _eventually(lambda: waits.waiting(attribute_updates.key(meter.pk)) == 0)  # its watches went with the session
    _eventually(lambda: waits.waiting(rpc_calls.poll_key(meter.pk)) == 0)
    client = clients(token(gateway))
    client.subscribe("v1/gateway/rpc")
    client.publish("v1/gateway/connect", {"device": "Meter A"})
    assert client.message("v1/gateway/rpc")[1]["data"]["id"] == rpc.request_id
    assert client.request_attributes() == {}
    assert _status(rpc) == "DELIVERED"


def test_a_call_to_a_gateway_subscribed_at_qos_0_is_delivered_once_written(transport, tenant, gateway):
    meter = make_device(tenant, "Meter A")
    rpc = _call(tenant, meter)
    with _raw(transport.port, token(gateway)) as sock:
        sock.sendall(packets.publish("v1/gateway/connect", b'{"device": "Meter A"}'))
        sock.sendall(_subscribe("v1/gateway/rpc", qos=0))  # subscribed after the connect: the call comes then
        assert _read(sock)[0] == packets.SUBACK
        kind, flags, _ = _read(sock)
        assert kind == packets.PUBLISH and not flags
        _eventually(lambda: _status(rpc) == "DELIVERED")
