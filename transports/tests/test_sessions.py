"""The device MQTT transport's sessions: credentials (access token, MQTT_BASIC), refusals as ThingsBoard's
CONNACK codes, bad input that loses nothing else, another tenant's data out of reach, a device deleted while
connected, and a port already taken. Real sockets; the raw ones send what no well-behaved client would."""

import json
import logging
import socket
import struct

import pytest
from gmqtt.mqtt.handler import MQTTConnectError

from devices.models import DeviceCredentials
from rulechains import rpc_calls
from rulechains.models import Rpc
from tbproject.clock import now_ms
from tbproject.testing.factories import make_device
from transports.mqtt import packets
from transports.mqtt.server import TransportThread
from transports.tests.conftest import token
from transports.tests.mqtt_client import BOUND, DeviceClient


def _raw(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=BOUND)
    return sock


def _connect_packet(username: str, client_id: str = "raw-1") -> bytes:
    def text(value: str) -> bytes:
        raw = value.encode()
        return struct.pack("!H", len(raw)) + raw

    body = text("MQTT") + bytes([4, 0x82]) + struct.pack("!H", 60) + text(client_id) + text(username)
    return bytes([0x10, len(body)]) + body


def _read_all(sock: socket.socket) -> bytes:
    """What the server sends until it closes the connection (a bounded wait: the socket's timeout)."""
    chunks = []
    while chunk := sock.recv(4096):
        chunks.append(chunk)
    return b"".join(chunks)


def test_an_unknown_token_is_refused_with_connack_5_and_others_still_connect(device, clients):
    with pytest.raises(MQTTConnectError) as refused:
        clients("not-a-token")
    assert refused.value._code == 5
    with pytest.raises(MQTTConnectError):
        clients(None, client_id="no-credentials")
    client = clients(token(device))
    client.publish("v1/devices/me/attributes", {"a": 1})
    assert client.request_attributes() == {"client": {"a": 1}}


def test_mqtt_basic_credentials_connect_and_a_wrong_password_is_refused(api, device, clients):
    credentials = api.get(f"/api/device/{device.pk}/credentials").json()
    value = json.dumps({"clientId": "meter-c", "userName": "meter-u", "password": "s3cret"})
    assert api.post("/api/device/credentials", {**credentials, "credentialsType": "MQTT_BASIC",
                                                "credentialsValue": value}, format="json").status_code == 200
    client = clients("meter-u", "s3cret", client_id="meter-c")
    client.publish("v1/devices/me/attributes", {"basic": True})
    assert client.request_attributes() == {"client": {"basic": True}}
    for username, password, client_id in (("meter-u", "wrong", "meter-c"), ("meter-u", None, "meter-c"),
                                          ("meter-u", "s3cret", "other-c")):
        with pytest.raises(MQTTConnectError) as refused:
            clients(username, password, client_id=client_id)
        assert refused.value._code == 5


def test_malformed_and_refused_payloads_are_dropped_and_the_session_stays_up(api, device, clients, caplog):
    client = clients(token(device))
    with caplog.at_level(logging.DEBUG, logger="transports.mqtt.session"):
        client.publish("v1/devices/me/telemetry", b"{not json")
        client.publish("v1/devices/me/telemetry", b"[1, 2]")
        client.publish("v1/devices/me/attributes", b"\xff\xfe")
        client.publish("v1/devices/me/attributes", b'{"a": NaN}')
        client.publish("v1/devices/me/rpc/response/not-a-number", b"{}")
        client.publish("v1/devices/me/unknown/topic", b"{}")
        client.publish("v1/devices/me/telemetry", {"t": 1})
        assert client.request_attributes() == {}
    assert not client.disconnected.is_set()
    assert api.get(f"/api/plugins/telemetry/DEVICE/{device.pk}/values/timeseries", {"keys": "t"}).json()["t"]
    dropped = [r for r in caplog.records if "dropped" in r.getMessage()]
    assert len(dropped) == 6 and "not JSON" in dropped[0].getMessage()
    assert [r.levelno for r in dropped] == [logging.INFO] + [logging.DEBUG] * 5  # one INFO line a minute


def test_a_subscription_to_a_topic_outside_the_api_gets_the_failure_code(device, clients):
    client = clients(token(device))
    assert client.subscribe("v1/devices/other/attributes") == (0x80,)
    assert client.subscribe("v1/devices/me/attributes", qos=2) == (1,)  # QoS 1 at most, as ThingsBoard grants


def test_a_packet_past_the_payload_limit_closes_the_connection_and_stores_nothing(settings, transactional_db,
                                                                                 device):
    settings.DEVICE_MQTT_MAX_PAYLOAD_BYTES = 1024
    host = TransportThread("127.0.0.1", 0).start()
    try:
        client = DeviceClient(host.port, token(device)).connect()
        client.publish("v1/devices/me/attributes", {"big": "x" * 2000})
        assert client.disconnected.wait(BOUND)
        client.close()
        with _raw(host.port) as sock:
            sock.sendall(_connect_packet(token(device)))
            assert sock.recv(4) == packets.connack(0)
            sock.sendall(bytes([0x30]) + bytes([0xFF, 0xFF, 0xFF, 0x7F]))  # 256 MB announced, nothing read
            assert _read_all(sock) == b""
    finally:
        host.stop()
    from devices.attributes import get_attributes

    assert get_attributes(device.pk) == []


@pytest.mark.parametrize("garbage", [b"\x10\x02\x00\x01", b"\x30\x05\x00\x09abc", b"\xf0\x00",
                                     b"\x10\xff\xff\xff\xff\x01"])
def test_malformed_packets_close_only_their_own_connection(device, clients, transport, garbage):
    client = clients(token(device))
    with _raw(transport.port) as sock:
        sock.sendall(garbage)
        assert _read_all(sock) == b""
    with _raw(transport.port) as sock:  # a PUBLISH that breaks its own length after a good CONNECT
        sock.sendall(_connect_packet(token(device), "raw-2"))
        assert sock.recv(4) == packets.connack(0)
        sock.sendall(garbage)
        assert _read_all(sock) in (b"", packets.connack(0))
    client.publish("v1/devices/me/attributes", {"still": "up"})
    assert client.request_attributes() == {"client": {"still": "up"}}


def test_an_mqtt_5_connect_is_answered_unacceptable_protocol(device, transport):
    with _raw(transport.port) as sock:
        packet = bytearray(_connect_packet(token(device)))
        packet[8] = 5  # the protocol level
        sock.sendall(bytes(packet))
        assert _read_all(sock) == packets.connack(1)


def test_a_device_deleted_while_connected_is_disconnected_at_its_next_message(api, device, clients):
    client = clients(token(device))
    assert client.request_attributes() == {}
    assert api.delete(f"/api/device/{device.pk}").status_code == 200
    client.publish("v1/devices/me/telemetry", {"t": 1})
    assert client.disconnected.wait(BOUND)


def test_a_changed_token_ends_the_session_at_the_periodic_check(api, device, clients, transport):
    client = clients(token(device))
    assert client.request_attributes() == {}
    DeviceCredentials.objects.filter(device=device).update(credentials_id="a-new-token")  # as another process
    from transports.mqtt import auth

    auth._CACHE.forget()  # what TTL seconds do in another process
    transport.call(transport.server.check())
    assert client.disconnected.wait(BOUND)


def test_another_tenants_device_reaches_neither_calls_nor_attributes_of_this_one(tenant, other_tenant, api, device,
                                                                               clients):
    assert api.post(f"/api/plugins/telemetry/DEVICE/{device.pk}/SHARED_SCOPE", {"secret": 1},
                    format="json").status_code == 200
    rpc = rpc_calls.record(tenant.pk, device.pk, "6f2c1f4e-5b0a-4a43-9d1e-0c6a7b1f2e3d", {"method": "m"},
                           oneway=False, persistent=True, expiration_time=now_ms() + 60_000)
    intruder = make_device(other_tenant, "intruder")
    client = clients(token(intruder))
    client.publish(f"v1/devices/me/rpc/response/{rpc.request_id}", {"forged": True})
    assert client.request_attributes() == {}  # also: the reply above was handled
    assert Rpc.objects.get(pk=rpc.pk).status == "QUEUED" and Rpc.objects.get(pk=rpc.pk).response is None


def test_a_port_already_taken_is_a_warning_not_a_failure(transactional_db, caplog):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        with caplog.at_level(logging.WARNING, logger="transports.mqtt.server"):
            host = TransportThread("127.0.0.1", taken.getsockname()[1]).start()
        host.stop()
    assert isinstance(host.error, OSError)
    assert "device MQTT transport NOT started" in caplog.text and "DEVICE_MQTT_PORT" in caplog.text
