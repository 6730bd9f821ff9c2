"""Firmware and software downloads over MQTT with a real client on a real socket, as ThingsBoard's SDK does
them: read the fw_* shared attributes, request v2/fw/request/{id}/chunk/{n} with the chunk size, put the
chunks together until an empty one; the bytes are the stored package's, exactly. Bad requests are refused on
v2/fw/error and the session stays up."""

import hashlib
import queue

import pytest

from devices.models import Device, OtaPackage
from devices.tests.ota_support import make_package
from devices.tests.test_ota_assignment import save_device
from tbproject.testing.factories import default_profile, make_device
from tbproject.testing.limits import limit_tenant
from tenants import limits
from transports.mqtt import ota, packets
from transports.tests.conftest import token
from transports.tests.mqtt_client import BOUND
from transports.tests.test_robustness import _raw, _text

DATA = bytes(range(256)) * 4 + b"0123456789"  # 1034 bytes: chunks of 100 end with a 34-byte one
FW_KEYS = "fw_title,fw_version,fw_checksum,fw_checksum_algorithm,fw_size"


@pytest.fixture
def device(tenant):
    return make_device(tenant, "mqtt-ota")


def assign(api, device, data=DATA, ota_type="FIRMWARE", version="1.0") -> dict:
    info = make_package(api, default_profile(device.tenant), data, title="fw", version=version, ota_type=ota_type)
    field = "firmwareId" if ota_type == "FIRMWARE" else "softwareId"
    res = save_device(api, device, **{field: {"entityType": "OTA_PACKAGE", "id": info["id"]["id"]}})
    assert res.status_code == 200, res.content  # saved as a user saves it: the device is told (fw_* attributes)
    return info


def raw(client, prefix: str) -> tuple[str, bytes]:
    """The next message whose topic starts with ``prefix``, its payload as bytes."""
    while True:
        topic, payload = client.received.get(timeout=BOUND)
        if topic.startswith(prefix):
            return topic, payload


def chunk(client, n: int, size, request_id: int = 1, kind: str = "fw") -> bytes:
    client.publish(f"v2/{kind}/request/{request_id}/chunk/{n}", str(size).encode() if size is not None else b"")
    topic, payload = raw(client, f"v2/{kind}/")
    assert topic == f"v2/{kind}/response/{request_id}/chunk/{n}", (topic, payload)
    return payload


def error(client, topic: str, payload: bytes, kind: str = "fw") -> str:
    client.publish(topic, payload)
    answer = raw(client, f"v2/{kind}/")
    assert answer[0] == f"v2/{kind}/error", answer
    return answer[1].decode()


@pytest.fixture
def ota_client(device, clients):
    client = clients(token(device))
    for topic_filter in ("v2/fw/response/+/chunk/+", "v2/fw/error", "v2/sw/response/+/chunk/+", "v2/sw/error"):
        assert client.subscribe(topic_filter) == (1,)
    return client


def test_the_sdks_download_puts_the_package_together_byte_exact(api, device, ota_client):
    assign(api, device)
    shared = ota_client.request_attributes(sharedKeys=FW_KEYS)["shared"]
    assert (shared["fw_title"], shared["fw_version"], shared["fw_size"]) == ("fw", "1.0", len(DATA))
    assert shared["fw_checksum_algorithm"] == "SHA256"
    parts, n = [], 0
    while part := chunk(ota_client, n, 100):
        assert len(part) == (100 if n < 10 else 34)
        parts.append(part)
        n += 1
    assert n == 11 and b"".join(parts) == DATA
    assert hashlib.sha256(b"".join(parts)).hexdigest() == shared["fw_checksum"]
    assert chunk(ota_client, 10_000, 100) == b""  # far past the end: empty too


def test_an_empty_payload_keeps_the_requests_size_or_asks_for_the_whole_file(api, device, ota_client):
    assign(api, device)
    assert chunk(ota_client, 0, None, request_id=7) == DATA
    assert chunk(ota_client, 2, 256, request_id=8) == DATA[512:768]
    assert chunk(ota_client, 3, None, request_id=8) == DATA[768:1024]


def test_software_comes_on_the_sw_topics(api, device, ota_client):
    software = b"\x00software\xff" * 50
    assign(api, device, software, ota_type="SOFTWARE")
    assert ota_client.request_attributes(sharedKeys="sw_size")["shared"] == {"sw_size": len(software)}
    assert chunk(ota_client, 0, 300, kind="sw") + chunk(ota_client, 1, 300, kind="sw") == software
    assert "NOT_FOUND" in error(ota_client, "v2/fw/request/1/chunk/0", b"100")  # no firmware assigned


def test_a_request_keeps_its_package_while_a_new_one_gets_the_new_package(api, device, ota_client):
    assign(api, device)
    assert chunk(ota_client, 0, 100, request_id=1) == DATA[:100]
    newer = b"new firmware" * 20
    assign(api, device, newer, version="2.0")
    assert chunk(ota_client, 1, 100, request_id=1) == DATA[100:200]
    assert chunk(ota_client, 0, 100, request_id=2) == newer[:100]


@pytest.mark.parametrize(("topic", "payload", "why"), [
    ("v2/fw/request/1/chunk/abc", b"100", "chunk number"),
    ("v2/fw/request/1/chunk/-1", b"100", "chunk number"),
    ("v2/fw/request/1/chunk/99999999999", b"100", "chunk number"),
    ("v2/fw/request/x/chunk/0", b"100", "request id"),
    ("v2/fw/request/1/chunk/0", b"-5", "chunk size"),
    ("v2/fw/request/1/chunk/0", b"ten", "chunk size"),
    ("v2/fw/request/1/chunk/0", b"\xff\xfe", "chunk size"),
    ("v2/fw/request/1/chunk/0", b"4294967296", "chunk size"),
    ("v2/fw/request/1/chunk/0", b"70000", "over"),
    ("v2/fw/request/1", b"100", "v2/fw/request/{requestId}/chunk/{chunk}"),
    ("v2/fw/request/1/chunk/0/more", b"100", "v2/fw/request/{requestId}/chunk/{chunk}"),
])
def test_bad_requests_are_refused_on_the_error_topic_and_the_session_stays_up(api, device, ota_client, topic,
                                                                               payload, why):
    assign(api, device)
    assert why in error(ota_client, topic, payload)
    assert chunk(ota_client, 0, 100) == DATA[:100]  # still served, and nothing else was sent meanwhile
    with pytest.raises(queue.Empty):
        ota_client.received.get_nowait()


def test_a_whole_file_larger_than_a_message_is_served_up_to_its_own_bound(api, device, ota_client, settings):
    big = bytes(range(256)) * 400 + b"tail"  # 102404 bytes: over the 65536 one message of a device may carry
    assign(api, device, big)
    assert chunk(ota_client, 0, None) == big  # the SDK's default (chunk size 0, or one over the file's size)
    settings.DEVICE_MQTT_OTA_MAX_WHOLE_FILE_BYTES = len(big) - 1
    assert f"over the {len(big) - 1}" in error(ota_client, "v2/fw/request/2/chunk/0", b"")
    assert chunk(ota_client, 1, 65536, request_id=3) == big[65536:]  # in chunks it still comes


def _publish_read(sock, topic: str, payload: bytes) -> bytes:
    """A QoS 0 request on a raw socket, and the payload of the PUBLISH that answers it."""
    body = _text(topic) + payload
    sock.sendall(bytes([0x30]) + packets._length(len(body)) + body)
    first, length, shift = _recv(sock, 1)[0], 0, 0
    while True:
        byte = _recv(sock, 1)[0]
        length, shift = length | (byte & 0x7F) << shift, shift + 7
        if not byte & 0x80:
            break
    answer = _recv(sock, length)
    size = int.from_bytes(answer[:2], "big")
    assert (first >> 4, answer[2:2 + size].decode()) == (3, topic.replace("/request/", "/response/"))
    return bytes(answer[2 + size:])


def _recv(sock, n: int) -> bytearray:
    data = bytearray()
    while len(data) < n:
        part = sock.recv(min(n - len(data), 1 << 20))
        assert part, "the server closed the connection"
        data += part
    return data


def test_a_whole_file_more_than_may_wait_to_be_sent_is_written_in_slices(api, device, transport):
    big = bytes(range(251)) * 25_000  # 6275000 bytes: more than the sockets hold and max_buffer (4 x 65536)
    assign(api, device, big)
    sock = _raw(transport.port, token(device), rcvbuf=4096)  # a device that reads as a small one does
    try:
        assert _publish_read(sock, "v2/fw/request/1/chunk/0", b"") == big
        assert _publish_read(sock, "v2/fw/request/2/chunk/1", b"100") == big[100:200]  # the session is still up
    finally:
        sock.close()


def test_bad_requests_count_in_the_rate_limits(tenant, device, clients, settings):
    settings.REDIS_URL = ""
    limit_tenant(tenant, transportDeviceMsgRateLimit="3:3600")
    limits.reset()
    limits.forget()
    try:
        client = clients(token(device))
        for topic in ("v2/fw/request/x/chunk/0", "v2/fw/request/1", "v2/sw/request/1/chunk/-1",
                      "v2/fw/request/1/chunk/0"):
            client.publish(topic, b"ten")
        assert client.disconnected.wait(BOUND)
    finally:
        limits.reset()
        limits.forget()


def test_a_package_gone_between_lookup_and_read_is_not_found(api, device, ota_client, monkeypatch):
    assign(api, device)
    real = ota.package_bytes

    def vanishing(package, size, n):
        OtaPackage.objects.filter(pk=package.pk).delete()
        return real(package, size, n)

    monkeypatch.setattr(ota, "package_bytes", vanishing)
    assert "NOT_FOUND" in error(ota_client, "v2/fw/request/1/chunk/0", b"")


def test_a_package_of_another_tenant_is_not_found(api, device, ota_client, mallory_api, other_tenant):
    theirs = make_package(mallory_api, default_profile(other_tenant), DATA, title="fw", version="1.0")
    Device.objects.filter(pk=device.pk).update(firmware_id=theirs["id"]["id"])
    assert "NOT_FOUND" in error(ota_client, "v2/fw/request/1/chunk/0", b"100")
    assert "NOT_FOUND" in error(ota_client, "v2/fw/request/2/chunk/0", b"")


@pytest.mark.parametrize("topic_filter", ["v2/fw/response/+", "v2/fw/response/#"])
def test_the_sdks_filters_are_refused_as_thingsboard_does_and_chunks_come_all_the_same(api, device, clients,
                                                                                       topic_filter):
    client = clients(token(device))
    assert client.subscribe(topic_filter) == (128,)  # ThingsBoard grants v2/fw/response/+/chunk/+ only
    assign(api, device)
    assert chunk(client, 0, 100) == DATA[:100]


def test_a_package_of_another_device_or_none_is_not_found(api, device, tenant, ota_client, clients):
    other = make_device(tenant, "has-firmware")
    assign(api, other)
    assert "NOT_FOUND" in error(ota_client, "v2/fw/request/1/chunk/0", b"100")
    assert chunk(clients(token(other)), 0, 100) == DATA[:100]
