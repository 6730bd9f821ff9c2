"""The device CoAP transport against what a review found, over real UDP with real clients (aiocoap, and raw
datagrams where a client would not send them): a changed token ends its observations, uploads and floods are
bounded per sender, extra path segments are read as ThingsBoard reads them, Observe answers as ThingsBoard's,
large notifications go block-wise, provisioning succeeds and is counted per client."""

import asyncio
import json
import socket
import threading

import aiocoap
import pytest

from devices.models import Device, DeviceCredentials
from devices.tests.test_device_provision import KEY, SECRET, save_profile
from tenants.limits import device_attempts
from transports.coap import blocks
from transports.coap import server as coap_server
from transports.coap.server import TransportThread
from transports.tests import coap_client as fixtures
from transports.tests.coap_client import BOUND, CoapClient
from transports.tests.test_coap_api import path
from transports.tests.test_device_api import SHARED, latest

coap, coap_client = fixtures.coap, fixtures.coap_client  # the transport and its clients


def _wait(coap, condition) -> bool:
    observations = coap.server.observations
    with observations.changed:
        return observations.changed.wait_for(condition, BOUND)


def _share(api, device, values: dict) -> None:
    assert api.post(f"/api/plugins/telemetry/DEVICE/{device.pk}/{SHARED}", values, format="json").status_code == 200


class Raw:
    """Hand-made datagrams from a socket of its own (``source``: the address it sends from)."""

    def __init__(self, port: int, source: str = "127.0.0.1"):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((source, 0))
        self.sock.settimeout(BOUND)
        self.server, self.mid = ("127.0.0.1", port), 0

    def send(self, code, where: str, payload: bytes = b"", token: bytes | None = None, **options) -> int:
        self.mid += 1
        message = aiocoap.Message(code=code, payload=payload, **options)
        message.mtype, message.mid = aiocoap.CON, self.mid
        message.token = self.mid.to_bytes(4, "big") if token is None else token
        message.opt.uri_path = tuple(where.strip("/").split("/"))
        self.sock.sendto(message.encode(), self.server)
        return self.mid

    def answer(self) -> aiocoap.Message:
        """The next answer carrying a code (empty ACKs skipped)."""
        while True:
            message = aiocoap.Message.decode(self.sock.recv(70_000))
            if message.code != aiocoap.EMPTY:
                return message

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def raw(coap):
    made = []

    def make(source: str = "127.0.0.1") -> Raw:
        made.append(Raw(coap.port, source))
        return made[-1]

    yield make
    for one in made:
        one.close()


# 1. a changed token ends the observations made with the old one at their next notification


@pytest.mark.parametrize("feature", ["attributes", "rpc"])
def test_a_changed_token_ends_its_observation_with_4_01_and_no_update(api, device, coap, coap_client, feature):
    observation = coap_client().observe(path(device, feature))
    observation.next()
    assert _wait(coap, lambda: coap.server.observations.count() == 1)
    credentials = DeviceCredentials.objects.get(device=device)
    credentials.credentials_id = "a-new-token"
    credentials.save()
    for value in range(3):
        _share(api, device, {"secret": value})
        if feature == "rpc":
            assert api.post(f"/api/rpc/oneway/{device.pk}", {"method": "m", "params": {}, "persistent": True},
                            format="json").status_code == 200
    assert observation.next().code == aiocoap.UNAUTHORIZED
    assert observation.messages.empty()
    assert _wait(coap, lambda: coap.server.observations.count() == 0)


# 2. uploads: refused before assembly, bounded per sender


def test_a_block_wise_upload_with_a_bad_token_or_path_is_refused_at_its_first_block(device, coap, raw):
    sender = raw()
    for where, code in [("/api/v1/not-a-token/telemetry", aiocoap.UNAUTHORIZED),
                        ("/api/v1/x/nothing", aiocoap.BAD_REQUEST), ("/elsewhere", aiocoap.NOT_FOUND)]:
        sender.send(aiocoap.POST, where, b"x" * 64, block1=(0, True, 2))
        assert sender.answer().code == code
    assert coap.server.uploads.count() == 0


def test_block_wise_uploads_are_bounded_per_sender_and_the_next_completes(api, device, coap, raw, monkeypatch):
    monkeypatch.setattr(blocks, "MAX_UPLOADS_PER_SENDER", 2)
    sender = raw()
    for n in range(2):
        sender.send(aiocoap.POST, path(device, f"telemetry/{n}"), b'{"a":' + b" " * 59, block1=(0, True, 2))
        assert sender.answer().code == aiocoap.CONTINUE
    sender.send(aiocoap.POST, path(device, "telemetry/2"), b'{"b":' + b" " * 59, block1=(0, True, 2))
    assert sender.answer().code == aiocoap.SERVICE_UNAVAILABLE
    assert coap.server.uploads.count() == 2
    sender.send(aiocoap.POST, path(device, "telemetry/0"), b"1}", block1=(1, False, 2))
    assert sender.answer().code == aiocoap.CREATED
    assert latest(api, device, "a")["a"][0][1] == "1"


def test_a_datagram_past_4096_bytes_is_read_whole_and_past_the_cap_is_4_13(api, device, coap, raw):
    sender = raw()
    sender.send(aiocoap.POST, path(device, "telemetry"), json.dumps({"k": "x" * 60_000}).encode())
    assert sender.answer().code == aiocoap.CREATED  # not cut at aiocoap's 4,096-byte buffer
    assert latest(api, device, "k")["k"][0][1] == "x" * 60_000
    coap.server.max_bytes = 8192
    sender.send(aiocoap.POST, path(device, "telemetry"), json.dumps({"k": "y" * 60_000}).encode())
    answer = sender.answer()
    assert answer.code == aiocoap.REQUEST_ENTITY_TOO_LARGE and answer.opt.size1 == 8192


# 3. one sender flooding holds no other client up


def test_a_flooding_sender_is_answered_5_03_while_another_clients_post_is_stored(committed, api, tenant, settings,
                                                                                  monkeypatch):
    from tbproject.testing.factories import make_device

    settings.DEVICE_MQTT_DB_THREADS = 1
    monkeypatch.setattr(coap_server, "MAX_IN_FLIGHT_PER_SENDER", 2)
    device = make_device(tenant, "coap-flood")
    host = TransportThread("127.0.0.1", 0).start()
    gate = threading.Event()
    flood, client = Raw(host.port, "127.0.0.2"), CoapClient(host.port)
    try:
        held = asyncio.run_coroutine_threadsafe(host.server.db(gate.wait, BOUND), host._loop)
        for n in range(10):
            flood.send(aiocoap.POST, path(device, "telemetry"), json.dumps({"flood": n}).encode())
        assert [flood.answer().code for _ in range(8)] == [aiocoap.SERVICE_UNAVAILABLE] * 8
        answered = {}
        other = threading.Thread(target=lambda: answered.update(
            code=client.post(path(device, "telemetry"), {"other": 1}).code))
        other.start()
        gate.set()
        held.result(BOUND)
        other.join(BOUND)
        assert answered["code"] == aiocoap.CREATED
        assert sorted(flood.answer().code for _ in range(2)) == [aiocoap.CREATED] * 2
        assert latest(api, device, "other")["other"][0][1] == "1"
    finally:
        gate.set()
        flood.close()
        client.close()
        host.stop()


# 5. extra segments, as ThingsBoard reads the feature from the fourth


def test_extra_path_segments_are_ignored_but_after_an_rpc_id(api, device, coap_client):
    client = coap_client()
    _share(api, device, {"mode": "eco"})
    observation = client.observe(path(device, "attributes/updates"))
    assert observation.next_json() == {"mode": "eco"}
    _share(api, device, {"mode": "away"})
    assert observation.next_json() == {"mode": "away"}
    assert client.post(path(device, "telemetry/"), {"t": 1}).code == aiocoap.CREATED
    assert client.post(path(device, "telemetry/x"), {"u": 2}).code == aiocoap.CREATED
    assert set(latest(api, device, "t,u")) == {"t", "u"}
    assert client.post(path(device, "rpc/1/2"), {}).code == aiocoap.BAD_REQUEST


# 6. provisioning succeeds over CoAP, counted per client as the other APIs count


def test_a_device_provisions_itself_and_is_counted_by_its_ipv4_address(api, tenant, coap_client, monkeypatch):
    save_profile(api, "CoAP provisioned", "ALLOW_CREATE_NEW_DEVICES")
    counted = []
    take = device_attempts.take_provision
    monkeypatch.setattr(device_attempts, "take_provision", lambda client, key: counted.append(client) or take(
        client, key))
    client = coap_client()
    answer = client.post("/api/v1/provision", {"deviceName": "coap-prov", "provisionDeviceKey": KEY,
                                               "provisionDeviceSecret": SECRET})
    assert answer.code == aiocoap.CREATED, answer.payload
    body = json.loads(answer.payload)
    device = Device.objects.get(tenant=tenant, name="coap-prov")
    assert body == {"credentialsValue": DeviceCredentials.objects.get(device=device).credentials_id,
                    "credentialsType": "ACCESS_TOKEN", "status": "SUCCESS"}
    assert counted == ["127.0.0.1"]  # not '::ffff:127.0.0.1'
    assert client.post(f"/api/v1/{body['credentialsValue']}/telemetry", {"p": 1}).code == aiocoap.CREATED


# 7. Observe answers as ThingsBoard's


def test_an_rpc_observation_starts_2_03_a_cancel_ends_it_and_a_new_one_replaces_the_old_2_02(device, coap,
                                                                                              coap_client, raw):
    first = coap_client().observe(path(device, "rpc"))
    assert first.next().code == aiocoap.VALID
    second = coap_client().observe(path(device, "rpc"))
    assert second.next().code == aiocoap.VALID
    assert first.next().code == aiocoap.DELETED
    assert _wait(coap, lambda: coap.server.observations.count() == 1)
    canceller = raw()
    registration = canceller.send(aiocoap.GET, path(device, "rpc"), observe=0)
    assert canceller.answer().code == aiocoap.VALID
    # the cancellation carries the registration's token
    canceller.send(aiocoap.GET, path(device, "rpc"), token=registration.to_bytes(4, "big"), observe=1)
    assert canceller.answer().code == aiocoap.CONTENT
    assert _wait(coap, lambda: coap.server.observations.count() == 0)


# 8. large notifications and packages go block-wise


def test_a_6_kb_notification_is_sent_block_wise_and_read_whole(api, device, coap, coap_client):
    observation = coap_client().observe(path(device, "attributes"))
    assert observation.next_json() == {}
    big = "x" * 6000
    _share(api, device, {"big": big})
    assert observation.next_json() == {"big": big}
    assert coap.server.downloads.count() == 1  # kept for the follow-up blocks


def test_a_whole_package_is_read_block_by_block_nothing_kept(api, tenant, device, coap, coap_client):
    from devices.tests.ota_support import make_package
    from tbproject.testing.factories import default_profile

    data = bytes(range(256)) * 40
    info = make_package(api, default_profile(tenant), data, title="fw", version="2.0")
    device.firmware_id = info["id"]["id"]
    device.save()
    client = coap_client()
    for _ in range(3):
        assert client.get(path(device, "firmware"), query="title=fw&version=2.0").payload == data
    assert coap.server.downloads.count() == 0


def test_an_unknown_token_is_remembered_briefly_and_forgotten_when_credentials_change(device, coap, coap_client):
    client = coap_client()
    where = "/api/v1/coming-soon/telemetry"
    assert client.post(where, {"a": 1}).code == aiocoap.UNAUTHORIZED
    assert coap_server._UNKNOWN.get("coming-soon") is not None  # the next attempts cost no query
    credentials = DeviceCredentials.objects.get(device=device)
    credentials.credentials_id = "coming-soon"
    credentials.save()  # forgets the unknown tokens: the new one works at once
    assert client.post(where, {"a": 1}).code == aiocoap.CREATED
