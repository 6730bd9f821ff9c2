"""The transport under devices that misbehave or race it: a device that reads nothing (bounded writes, bounded
closes, the check and stop() never held), a session closed while it subscribes, server-side calls delivered as
ThingsBoard's MQTT transport does (SENT, DELIVERED at the PUBACK, QUEUED again when never acknowledged), the
device profile's MQTT topics, rate limits that count every message, one query for the periodic check, and the
CONNECT rules (client ids, packet id 0, a session taken over). Raw sockets where a well-behaved client would
not do it; every wait bounded (BOUND), none a measurement."""

import logging
import socket
import struct
import threading
import time

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from gmqtt.mqtt.handler import MQTTConnectError

from devices import attribute_updates
from devices.models import DeviceCredentials, DeviceProfile
from rulechains import rpc_calls
from rulechains.models import Rpc
from tbproject import waits
from tbproject.clock import now_ms
from tbproject.testing.factories import make_device
from tbproject.testing.limits import limit_tenant
from tenants import limits
from transports.mqtt import packets, server
from transports.mqtt.server import TransportThread
from transports.tests.conftest import token
from transports.tests.mqtt_client import BOUND


@pytest.fixture(autouse=True)
def _embedded(settings):
    settings.REDIS_URL = ""  # notifications in memory: the tests notify the sessions' keys themselves


def _text(value: str) -> bytes:
    raw = value.encode()
    return struct.pack("!H", len(raw)) + raw


def _connect(username: str | None, client_id: str = "raw", *, keepalive: int = 60, clean: bool = True) -> bytes:
    flags = (0x02 if clean else 0) | (0x80 if username is not None else 0)
    body = _text("MQTT") + bytes([4, flags]) + struct.pack("!H", keepalive) + _text(client_id)
    return bytes([0x10]) + packets._length(len(body) + (len(_text(username)) if username else 0)) + body + (
        _text(username) if username is not None else b"")


def _subscribe(topic: str, qos: int = 1, packet_id: int = 1) -> bytes:
    body = struct.pack("!H", packet_id) + _text(topic) + bytes([qos])
    return bytes([0x82]) + packets._length(len(body)) + body


def _read(sock: socket.socket) -> tuple[int, int, bytes]:
    """The next packet the server sent: (type, flags, body)."""
    first = sock.recv(1)
    assert first, "the server closed the connection"
    length, multiplier = 0, 1
    while True:
        byte = sock.recv(1)[0]
        length += (byte & 0x7F) * multiplier
        multiplier *= 128
        if not byte & 0x80:
            break
    body = b""
    while len(body) < length:
        chunk = sock.recv(length - len(body))
        assert chunk, "the server closed the connection"
        body += chunk
    return first[0] >> 4, first[0] & 0x0F, body


def _closed(sock: socket.socket) -> bool:
    """Whether the server closed (or aborted) the connection; what it sent before is skipped."""
    try:
        while sock.recv(65536):
            pass
    except ConnectionResetError:
        pass
    return True


def _raw(port: int, username: str | None, client_id: str = "raw", *, rcvbuf: int | None = None,
         keepalive: int = 60) -> socket.socket:
    sock = socket.socket()
    if rcvbuf:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    sock.settimeout(BOUND)
    sock.connect(("127.0.0.1", port))
    sock.sendall(_connect(username, client_id, keepalive=keepalive))
    assert sock.recv(4) == packets.connack(0)
    return sock


def _eventually(predicate) -> None:
    """Until ``predicate()`` holds; bounded by BOUND (a bound on a poll, never a measured time)."""
    deadline = time.monotonic() + BOUND
    while not predicate():
        assert time.monotonic() < deadline, "never happened"
        time.sleep(0.01)


def _session_of(host, device):
    found = [s for s in list(host.server.sessions) if s.device is not None and s.device.pk == device.pk]
    assert len(found) == 1
    return found[0]


def _backlog(host, session, nbytes: int) -> None:
    """``nbytes`` queued to the session's device (its socket's send buffer made small): what a device that reads
    nothing leaves behind."""
    async def stuff():
        session.writer.transport.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
        for _ in range(nbytes // 50_000):
            session.writer.write(packets.publish("v1/devices/me/attributes", b"x" * 50_000))
        return session.writer.transport.get_write_buffer_size()

    assert host.call(stuff()) > 70_000  # past asyncio's high-water mark (64 KiB): a write waits for the device


@pytest.fixture
def own_host(committed):
    made = []

    def start():
        made.append(TransportThread("127.0.0.1", 0).start())
        return made[-1]

    yield start
    for host in made:
        host.stop()


# --- 1, 2: a device that reads nothing -------------------------------------------------------------------

def test_a_device_reading_nothing_is_aborted_once_its_write_buffer_passes_the_cap(settings, own_host, device):
    settings.DEVICE_MQTT_MAX_PAYLOAD_BYTES = 1024  # a cap of 4 KiB waiting to be sent
    host = own_host()
    with _raw(host.port, token(device), rcvbuf=4096, keepalive=0) as sock:
        sock.sendall(_subscribe("v1/devices/me/attributes", qos=0))
        assert _read(sock)[0] == packets.SUBACK
        key = attribute_updates.key(device.pk)
        for i in range(5000):  # far more than the socket buffers hold
            if not host.server.sessions:
                break
            waits.notify(key, {"n": i, "pad": "x" * 900})
        _eventually(lambda: not host.server.sessions)
        assert _closed(sock)


def test_a_write_the_device_does_not_read_is_bounded_by_its_keep_alive(own_host, device):
    host = own_host()
    with _raw(host.port, token(device), rcvbuf=4096, keepalive=1) as sock:
        _backlog(host, _session_of(host, device), 150_000)  # under the cap (4 x 64 KiB)
        sock.sendall(bytes([0xC0, 0]))  # PINGREQ: its PINGRESP waits behind what the device does not read
        _eventually(lambda: not host.server.sessions)


def test_closing_sessions_of_devices_reading_nothing_holds_neither_the_check_nor_stop(own_host, tenant):
    host = own_host()
    devices = [make_device(tenant, f"stuck-{i}") for i in range(2)]
    socks = [_raw(host.port, token(d), f"stuck-{i}", rcvbuf=4096, keepalive=0) for i, d in enumerate(devices)]
    try:
        for d in devices:
            _backlog(host, _session_of(host, d), 150_000)
        DeviceCredentials.objects.filter(device=devices[0]).update(credentials_id="new-0")  # both gone
        DeviceCredentials.objects.filter(device=devices[1]).update(credentials_id="new-1")
        host.call(host.server.check(), timeout=BOUND)  # returns: each close bounded, both at once
        assert not host.server.sessions
        assert all(_closed(sock) for sock in socks)
        stuck = _raw(host.port, "new-0", "stuck-again", rcvbuf=4096, keepalive=0)
        socks.append(stuck)
        _backlog(host, _session_of(host, devices[0]), 150_000)
        host.stop()
        assert not host._thread.is_alive()
    finally:
        for sock in socks:
            sock.close()


# --- 3: closed while subscribing ---------------------------------------------------------------------------

def test_a_session_closed_while_it_subscribes_leaves_no_subscription_behind(transport, device, monkeypatch):
    entered, go, real = threading.Event(), threading.Event(), waits.subscribe

    def slow_subscribe(key, callback, **kwargs):
        subscription = real(key, callback, **kwargs)
        entered.set()
        go.wait(BOUND)
        return subscription

    monkeypatch.setattr(waits, "subscribe", slow_subscribe)
    key = attribute_updates.key(device.pk)
    with _raw(transport.port, token(device)) as sock:
        sock.sendall(_subscribe("v1/devices/me/attributes"))
        assert entered.wait(BOUND)
        transport.call(_session_of(transport, device).close())
        go.set()
        _eventually(lambda: waits.waiting(key) == 0)


# --- 4: server-side calls ----------------------------------------------------------------------------------

def _call(tenant, device, **kwargs) -> Rpc:
    return rpc_calls.record(tenant.pk, device.pk, kwargs.pop("uuid", "6f2c1f4e-5b0a-4a43-9d1e-0c6a7b1f2e3d"),
                            {"method": "reboot", "params": {}}, oneway=True, persistent=True,
                            expiration_time=now_ms() + 60_000, **kwargs)


def _status(rpc) -> str:
    return Rpc.objects.get(pk=rpc.pk).status


def test_a_call_is_sent_when_written_and_delivered_at_the_devices_puback(transport, tenant, device):
    rpc = _call(tenant, device)
    with _raw(transport.port, token(device)) as sock:
        sock.sendall(_subscribe("v1/devices/me/rpc/request/+", qos=1))
        assert _read(sock)[0] == packets.SUBACK
        kind, flags, body = _read(sock)
        assert kind == packets.PUBLISH and (flags >> 1) & 3 == 1
        message = packets.parse_publish(flags, body)
        assert message.topic == f"v1/devices/me/rpc/request/{rpc.request_id}"
        assert _status(rpc) == "SENT"
        sock.sendall(packets.puback(message.packet_id) + bytes([0xC0, 0]))
        assert _read(sock)[0] == packets.PINGRESP  # handled in order: the PUBACK before it
        assert _status(rpc) == "DELIVERED"


def test_a_call_never_acknowledged_is_queued_again_and_comes_to_the_next_session(transport, tenant, device,
                                                                                clients):
    rpc = _call(tenant, device)
    with _raw(transport.port, token(device)) as sock:
        sock.sendall(_subscribe("v1/devices/me/rpc/request/+", qos=1))
        assert _read(sock)[0] == packets.SUBACK
        assert _read(sock)[0] == packets.PUBLISH
    _eventually(lambda: _status(rpc) == "QUEUED")
    client = clients(token(device))
    client.subscribe("v1/devices/me/rpc/request/+")
    assert client.message("v1/devices/me/rpc/request/")[0] == f"v1/devices/me/rpc/request/{rpc.request_id}"
    assert client.request_attributes() == {}
    assert _status(rpc) == "DELIVERED"


def test_a_call_to_a_qos_0_subscription_is_delivered_once_written(transport, tenant, device):
    rpc = _call(tenant, device)
    with _raw(transport.port, token(device)) as sock:
        sock.sendall(_subscribe("v1/devices/me/rpc/request/+", qos=0))
        assert _read(sock)[0] == packets.SUBACK
        kind, flags, _ = _read(sock)
        assert kind == packets.PUBLISH and not flags
        _eventually(lambda: _status(rpc) == "DELIVERED")


# --- 5: the device profile's topics ------------------------------------------------------------------------

def _mqtt_profile(api, name: str, **configuration) -> DeviceProfile:
    body = {"name": name, "transportType": "MQTT",
            "profileData": {"transportConfiguration": {"type": "MQTT", **configuration}}}
    res = api.post("/api/deviceProfile", body, format="json")
    assert res.status_code == 200, res.content
    return DeviceProfile.objects.get(pk=res.json()["id"]["id"])


def test_a_profiles_telemetry_and_attribute_topics_with_wildcards_are_served(api, tenant, clients):
    profile = _mqtt_profile(api, "custom-topics", deviceTelemetryTopic="sensors/+/telemetry",
                            deviceAttributesTopic="sensors/attributes/#",
                            transportPayloadTypeConfiguration={"transportPayloadType": "JSON"})
    device = make_device(tenant, "custom", profile=profile)
    client = clients(token(device))
    client.publish("sensors/a1/telemetry", {"t": 5})
    client.publish("sensors/attributes/x/y", {"fw": "1.0"})
    client.publish("v1/devices/me/telemetry", {"ignored": 1})  # the profile's topics replace the default ones
    assert client.request_attributes() == {"client": {"fw": "1.0"}}
    stored = api.get(f"/api/plugins/telemetry/DEVICE/{device.pk}/values/timeseries", {"keys": "t,ignored"}).json()
    assert list(stored) == ["t"] and stored["t"][0]["value"] in (5, "5")


def test_a_profile_with_protobuf_payloads_is_refused_at_connect_with_a_log_line(api, tenant, clients, caplog):
    profile = _mqtt_profile(api, "proto", transportPayloadTypeConfiguration={"transportPayloadType": "PROTOBUF"})
    device = make_device(tenant, "proto-dev", profile=profile)
    with caplog.at_level(logging.WARNING, logger="transports.mqtt.session"), \
            pytest.raises(MQTTConnectError) as refused:
        clients(token(device))
    assert refused.value._code == 5
    assert "PROTOBUF" in caplog.text and str(device.pk) in caplog.text


# --- 6: every message counts in the rate limits --------------------------------------------------------------

def test_messages_to_unknown_topics_and_bad_payloads_count_in_the_rate_limits(tenant, device, clients):
    limit_tenant(tenant, transportDeviceMsgRateLimit="3:3600")
    limits.reset()
    limits.forget()
    try:
        client = clients(token(device))
        client.publish("v1/devices/me/unknown", {"a": 1})
        client.publish("v1/devices/me/telemetry", b"{not json")
        client.publish("v1/devices/me/unknown", {"a": 2})
        client.publish("v1/devices/me/unknown", {"a": 3})
        assert client.disconnected.wait(BOUND)
    finally:
        limits.reset()
        limits.forget()


# --- 7: the periodic check --------------------------------------------------------------------------------------

def test_the_check_asks_one_query_for_all_sessions_and_marks_all_keys_at_once(transport, tenant, clients,
                                                                           monkeypatch):
    devices = [make_device(tenant, f"checked-{i}") for i in range(3)]
    for d in devices:
        clients(token(d)).subscribe("v1/devices/me/attributes")
    queries, marked, db = [], [], transport.server.db

    async def counting_db(fn, *args):
        def run():
            with CaptureQueriesContext(connections["default"]) as captured:
                result = fn(*args)
            queries.append(len(captured.captured_queries))
            return result
        return await db(run)

    monkeypatch.setattr(transport.server, "db", counting_db)
    monkeypatch.setattr(waits, "expect_many", lambda keys, ms: marked.append(sorted(keys)))
    from transports.mqtt import auth

    auth._CACHE.forget()
    transport.call(transport.server.check())
    assert sum(queries) == 1 and len(transport.server.sessions) == 3
    assert marked == [sorted(attribute_updates.key(d.pk) for d in devices)]


def test_gone_names_the_identities_that_may_no_longer_connect(tenant, django_assert_num_queries):
    from transports.mqtt import auth

    kept, changed = make_device(tenant, "kept"), make_device(tenant, "changed")
    identities = [auth.authenticate("c", token(d), None) for d in (kept, changed)]
    DeviceCredentials.objects.filter(device=changed).update(credentials_id="other")
    with django_assert_num_queries(1):
        assert server.gone(identities) == {identities[1]}


# --- 8: CONNECT rules ------------------------------------------------------------------------------------------

def test_an_empty_client_id_without_a_clean_session_is_identifier_rejected(transport, device):
    with socket.create_connection(("127.0.0.1", transport.port), timeout=BOUND) as sock:
        sock.sendall(_connect(token(device), "", clean=False))
        assert sock.recv(4) == packets.connack(2)
        assert _closed(sock)


@pytest.mark.parametrize("packet", [bytes([0x32, 5]) + _text("t") + b"\x00\x00",  # PUBLISH QoS 1, id 0
                                    _subscribe("v1/devices/me/attributes", packet_id=0)])
def test_packet_id_0_closes_the_connection(transport, device, packet):
    with _raw(transport.port, token(device)) as sock:
        sock.sendall(packet)
        assert _closed(sock)
    _eventually(lambda: not transport.server.sessions)


def test_a_new_session_with_the_same_client_id_takes_over(device, clients):
    old = clients(token(device), client_id="meter-1")
    new = clients(token(device), client_id="meter-1")
    assert old.disconnected.wait(BOUND)
    new.publish("v1/devices/me/attributes", {"up": True})
    assert new.request_attributes() == {"client": {"up": True}}


def test_past_the_sessions_a_device_may_have_its_oldest_is_closed(transport, device):
    socks = []
    try:
        for i in range(server.MAX_SESSIONS_PER_DEVICE + 1):
            socks.append(_raw(transport.port, token(device), f"many-{i}"))
        assert _closed(socks[0])
        socks[-1].sendall(bytes([0xC0, 0]))
        assert _read(socks[-1])[0] == packets.PINGRESP
        assert len(transport.server.sessions) == server.MAX_SESSIONS_PER_DEVICE
    finally:
        for sock in socks:
            sock.close()


def test_expect_many_marks_every_key_in_redis(settings):
    import os

    from tbproject import redis_client

    if not os.environ.get("REDIS_URL"):
        pytest.skip("needs Redis (set REDIS_URL; .ci/run does)")
    settings.REDIS_URL = os.environ["REDIS_URL"]
    keys = [f"test-expect-many:{i}" for i in range(3)]
    waits.expect_many(keys, 5_000)
    client = redis_client.shared(socket_timeout=5, connect_timeout=2)
    names = [waits._expect_key(key) for key in keys]
    try:
        assert all(0 < client.pttl(name) <= 6_000 for name in names)
    finally:
        client.delete(*names)
