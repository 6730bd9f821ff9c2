"""The UDP integration against real UDP sockets: each datagram one uplink in the handler's shape
(HEX, TEXT, BINARY, JSON), downlinks to the sender's last address within timeToLiveInMinutes,
the run through the listener host to stored telemetry, check(), and configuration errors
through the integration API."""

import asyncio
import json
import socket

import pytest

from integrations.messages import Downlink
from integrations.tests.sockets import api_body, free_udp_port, host_tenant, row, run, running  # noqa: F401
from integrations.tests.test_runner import eager, host  # noqa: F401 - fixtures
from integrations.types.base import IntegrationError
from integrations.types.udp import UdpIntegration
from tbproject.testing.api import assert_error


def udp_config(port: int, **client) -> dict:
    handler = client.pop("handler", {"type": "BINARY"})
    return {"clientConfiguration": {"port": port, "bindAddress": "127.0.0.1", "handlerConfiguration": handler,
                                    **client}}


def device_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5)
    return sock


def route_of(sock: socket.socket) -> dict:
    address, port = sock.getsockname()
    return {"remoteAddress": address, "remotePort": str(port)}


SN = b"SN-003default25.769"


@pytest.mark.parametrize(("handler", "sent", "payload", "content_type"), [
    ({"type": "BINARY"}, SN, SN, "BINARY"),
    ({"type": "JSON"}, b'{"deviceName": "SN-003"}', b'{"deviceName": "SN-003"}', "JSON"),
    ({"type": "TEXT"}, b"SN-003,default,temperature,25.7", b"SN-003,default,temperature,25.7", "TEXT"),
    ({"type": "TEXT", "charsetName": "ISO-8859-1"}, "café".encode("latin-1"), "café".encode(), "TEXT"),
    # ThingsBoard's documented HEX decoder reads decodeToJson(payload).reports[0].value
    ({"type": "HEX"}, SN, b'{"reports":[{"value":"534e2d30303364656661756c7432352e373639"}]}', "JSON"),
])
def test_each_datagram_is_one_uplink_in_the_handlers_shape(handler, sent, payload, content_type):
    port = free_udp_port()

    async def scenario():
        async with running("UDP", udp_config(port, handler=handler), name="UDP in",
                           metadata={"site": "north"}) as (_, sink):
            with device_socket() as device:
                device.sendto(sent, ("127.0.0.1", port))
                await sink.wait_for(1)
                return sink, route_of(device)

    sink, route = run(scenario())
    [uplink] = sink.uplinks
    assert (uplink.payload, uplink.content_type) == (payload, content_type)
    assert uplink.metadata == {"integrationName": "UDP in", "site": "north", **route}
    assert {"connected": True, "error": ""} in sink.reports
    if handler["type"] == "HEX":
        assert bytes.fromhex(json.loads(uplink.payload)["reports"][0]["value"]) == sent


def test_hex_datagrams_longer_than_max_frame_length_are_dropped_with_an_event():
    port = free_udp_port()

    async def scenario():
        async with running("UDP", udp_config(port, handler={"type": "HEX", "maxFrameLength": 4})) as (_, sink):
            with device_socket() as device:
                device.sendto(b"12345", ("127.0.0.1", port))
                device.sendto(b"1234", ("127.0.0.1", port))
                await sink.wait_for(1)
                return sink

    sink = run(scenario())
    assert [json.loads(u.payload)["reports"][0]["value"] for u in sink.uplinks] == ["31323334"]
    [(metadata, payload, reason)] = sink.drops
    assert payload == b"12345" and reason == "Datagram of 5 bytes is longer than maxFrameLength (4)"


def test_many_datagrams_from_many_senders_are_handed_on_in_batches():
    port = free_udp_port()

    async def scenario():
        async with running("UDP", udp_config(port, soRcvBuf=1024)) as (_, sink):
            sink.block = asyncio.Event()  # the queue is slow: what arrives meanwhile forms the next batch
            devices = [device_socket() for _ in range(4)]
            for n in range(400):
                devices[n % 4].sendto(b"%d" % n, ("127.0.0.1", port))
                if n % 50 == 49:
                    await asyncio.sleep(0.01)  # let the loop read: loopback drops what overflows the buffer
            await asyncio.sleep(0.1)
            sink.block.set()
            await sink.wait_for(400)
            for device in devices:
                device.close()
            return sink

    sink = run(scenario())
    assert sorted(int(u.payload) for u in sink.uplinks) == list(range(400))
    assert len({u.metadata["remotePort"] for u in sink.uplinks}) == 4
    assert sink.calls <= 3  # the first datagram, then the rest in batches


def test_a_downlink_goes_to_the_devices_last_address():
    port = free_udp_port()

    async def scenario():
        async with running("UDP", udp_config(port)) as (instance, sink):
            with device_socket() as device, device_socket() as other:
                device.sendto(b"SN-1", ("127.0.0.1", port))
                other.sendto(b"SN-2", ("127.0.0.1", port))
                await sink.wait_for(2)
                route = next(u.metadata for u in sink.uplinks if u.payload == b"SN-1")
                await instance.downlink(Downlink("i", "SN-1", b'{"powerState":"on"}', route=route))
                received = await asyncio.get_running_loop().run_in_executor(None, device.recvfrom, 2048)
                other.settimeout(0.2)
                with pytest.raises(TimeoutError):
                    other.recvfrom(2048)
            unknown = {"remoteAddress": "127.0.0.1", "remotePort": "9"}
            with pytest.raises(IntegrationError) as refused:
                await instance.downlink(Downlink("i", "SN-9", b"x", route=unknown))
            return received, refused.value.message

    (payload, sender), refused = run(scenario())
    assert payload == b'{"powerState":"on"}' and sender == ("127.0.0.1", port)
    assert refused == ("No datagram from 127.0.0.1:9 (device 'SN-9') within the last 1440 minutes: "
                       "its address is not known")


def test_a_downlink_after_time_to_live_is_refused_until_the_device_sends_again():
    port = free_udp_port()

    async def scenario():
        async with running("UDP", udp_config(port, timeToLiveInMinutes=0.02)) as (instance, sink):  # 1.2 s
            with device_socket() as device:
                device.sendto(b"hello", ("127.0.0.1", port))
                await sink.wait_for(1)
                route = sink.uplinks[0].metadata
                await asyncio.sleep(1.5)
                with pytest.raises(IntegrationError) as expired:
                    await instance.downlink(Downlink("i", "SN-1", b"late", route=route))
                device.sendto(b"again", ("127.0.0.1", port))
                await sink.wait_for(2)
                await instance.downlink(Downlink("i", "SN-1", b"fresh", route=route))
                received, _ = await asyncio.get_running_loop().run_in_executor(None, device.recvfrom, 2048)
                return expired.value.message, received

    expired, received = run(scenario())
    assert expired.startswith("No datagram from 127.0.0.1:") and received == b"fresh"


def test_the_address_cache_keeps_the_most_recent_senders_only():
    port = free_udp_port()

    async def scenario():
        async with running("UDP", udp_config(port, cacheSize=2)) as (instance, sink):
            devices = [device_socket() for _ in range(3)]
            for n, device in enumerate(devices):
                device.sendto(b"%d" % n, ("127.0.0.1", port))
                await sink.wait_for(n + 1)
            with pytest.raises(IntegrationError):  # the oldest sender was evicted
                await instance.downlink(Downlink("i", "d0", b"x", route=route_of(devices[0])))
            await instance.downlink(Downlink("i", "d2", b"y", route=route_of(devices[2])))
            received, _ = await asyncio.get_running_loop().run_in_executor(None, devices[2].recvfrom, 64)
            for device in devices:
                device.close()
            return received

    assert run(scenario()) == b"y"


def test_a_port_in_use_fails_the_start_and_the_check():
    port = free_udp_port()
    config = udp_config(port)

    async def scenario():
        async with running("UDP", config, name="First") as (first, _):
            first.check()
            second = UdpIntegration(row("UDP", config, name="Second"))
            with pytest.raises(IntegrationError) as start:
                await second.start(None)
            return start.value.message

    assert run(scenario()) == f"UDP port {port} is already used by integration 'First'"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.bind(("127.0.0.1", port))
        with pytest.raises(IntegrationError) as taken:
            UdpIntegration(row("UDP", config)).check()
    assert taken.value.message == f"Cannot listen on UDP port {port} (127.0.0.1): Address already in use"
    UdpIntegration(row("UDP", config)).check()


@pytest.mark.django_db(transaction=True)
def test_the_listener_host_runs_a_udp_integration_to_stored_telemetry(host_tenant, host, eager):  # noqa: F811
    from devices.models import Device
    from integrations.tests.brokers import wait_until
    from integrations.tests.factories import make_integration
    from integrations.tests.uplinks import values

    port = free_udp_port()
    make_integration(host_tenant, "UDP meters", kind="UDP", configuration=udp_config(port, handler={"type": "JSON"}))
    host()
    with device_socket() as device:
        meter = None
        for _ in range(150):  # datagrams sent before the host bound the port are lost: send until seen
            device.sendto(b'{"id": "udp-meter-1", "t": 7.5}', ("127.0.0.1", port))
            meter = Device.objects.filter(tenant=host_tenant, name="udp-meter-1").first()
            if meter:
                break
            asyncio.run(asyncio.sleep(0.2))
        assert meter is not None, "the device was not provisioned"
        wait_until(lambda: values(meter, ["t"]) == {"t": 7.5}, timeout=30, message="the telemetry")


@pytest.mark.parametrize(("configuration", "message"), [
    ({}, "configuration.clientConfiguration: Field required"),
    ({"clientConfiguration": {"port": 0}}, "configuration.clientConfiguration.port"),
    ({"clientConfiguration": {"handlerConfiguration": {"type": "XML"}}},
     "configuration.clientConfiguration.handlerConfiguration.type"),
    ({"clientConfiguration": {"handlerConfiguration": {"type": "TEXT", "charsetName": "nope"}}},
     "unknown charset 'nope'"),
    ({"clientConfiguration": {"cacheSize": 0}}, "configuration.clientConfiguration.cacheSize"),
])
def test_the_api_refuses_bad_udp_configurations_naming_the_field(api, tenant, configuration, message):
    from integrations.tests.factories import make_uplink_converter

    body = api_body(make_uplink_converter(tenant), "UDP", configuration)
    assert_error(api.post("/api/integration", body, format="json"), 400, message)


def test_the_api_saves_a_thingsboard_udp_configuration_unchanged(api, tenant):
    from integrations.tests.factories import make_uplink_converter

    exported = {"clientConfiguration": {"port": 11560, "soBroadcast": True, "soRcvBuf": 64, "cacheSize": 1000,
                                        "timeToLiveInMinutes": 1440, "handlerConfiguration": {"type": "HEX",
                                                                                              "maxFrameLength": 128}},
                "metadata": {"site": "north"}}
    res = api.post("/api/integration", api_body(make_uplink_converter(tenant), "UDP", exported), format="json")
    assert res.status_code == 200, res.content
    assert res.json()["configuration"] == exported
