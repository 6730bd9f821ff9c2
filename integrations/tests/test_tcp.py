"""The TCP integration against real socket clients: uplinks per frame (TEXT, BINARY, JSON), bad
frames dropped, downlinks on the device's connection, idle connections closed, the run through
the listener host to stored telemetry and check(). The framing itself is tested in
test_tcp_framing.py, the configuration through the integration API in test_tcp_api.py."""

import asyncio
import json
import shutil
import subprocess

import pytest

from integrations.messages import Downlink
from integrations.tests.sockets import api_body, free_port, host_tenant, row, run, running  # noqa: F401
from integrations.tests.test_runner import eager, host  # noqa: F401 - fixtures
from integrations.types.base import IntegrationError
from integrations.types.tcp import TcpIntegration

# --- the server ----------------------------------------------------------------------------------

def tcp_config(port: int, **handler) -> dict:
    return {"clientConfiguration": {"port": port, "bindAddress": "127.0.0.1", "handlerConfiguration": handler}}


async def connect(port: int):
    return await asyncio.open_connection("127.0.0.1", port)


def route_of(writer) -> dict:
    address, port = writer.get_extra_info("sockname")[:2]
    return {"remoteAddress": address, "remotePort": str(port)}


def test_it_hands_on_each_text_frame_with_the_remote_address():
    port = free_port()

    async def scenario():
        async with running("TCP", tcp_config(port, handlerType="TEXT"), name="Meters",
                           metadata={"site": "north"}) as (_, sink):
            _, first = await connect(port)
            _, second = await connect(port)
            first.write(b"SN-1,default,t,1\nSN-1,def")
            second.write(b"SN-2,default,t,2\r\n")
            await first.drain()
            first.write(b"ault,t,3\n")
            await sink.wait_for(3)
            return sink, route_of(first), route_of(second)

    sink, first, second = run(scenario())
    by_payload = {u.payload: u for u in sink.uplinks}
    assert set(by_payload) == {b"SN-1,default,t,1", b"SN-2,default,t,2", b"SN-1,default,t,3"}
    uplink = by_payload[b"SN-1,default,t,3"]
    assert uplink.metadata == {"integrationName": "Meters", "site": "north", **first}
    assert by_payload[b"SN-2,default,t,2"].metadata["remotePort"] == second["remotePort"]
    assert uplink.content_type == "TEXT" and uplink.received_ts > 0
    assert {"connected": True, "error": ""} in sink.reports


def test_binary_and_json_handlers_end_to_end():
    binary, jsons = free_port(), free_port()
    binary_handler = {"handlerType": "BINARY", "byteOrder": "LITTLE_ENDIAN", "lengthFieldOffset": 4,
                      "lengthFieldLength": 1, "initialBytesToStrip": 5, "maxFrameLength": 128}

    async def scenario():
        async with running("TCP", tcp_config(binary, **binary_handler)) as (_, bin_sink), \
                running("TCP", tcp_config(jsons, handlerType="JSON")) as (_, json_sink):
            _, writer = await connect(binary)
            writer.write(b"0000\x11SN-002default25.7" * 2)
            _, writer = await connect(jsons)
            writer.write(b'[{"deviceName": "SN-002", "temperature": 25.7}]\n{"deviceName": "SN-003"}')
            await bin_sink.wait_for(2)
            await json_sink.wait_for(2)
            return bin_sink.uplinks, json_sink.uplinks

    binary_uplinks, json_uplinks = run(scenario())
    assert [(u.payload, u.content_type) for u in binary_uplinks] == [(b"SN-002default25.7", "BINARY")] * 2
    assert [json.loads(u.payload) for u in json_uplinks] == [[{"deviceName": "SN-002", "temperature": 25.7}],
                                                            {"deviceName": "SN-003"}]
    assert {u.content_type for u in json_uplinks} == {"JSON"}


@pytest.mark.parametrize(("keepalive", "nodelay"), [(True, False), (False, True)])
def test_socket_options_are_applied(keepalive, nodelay):
    import socket

    port = free_port()
    config = tcp_config(port, handlerType="TEXT")
    config["clientConfiguration"].update(soKeepaliveOption=keepalive, tcpNoDelay=nodelay, soRcvBuf=128, soSndBuf=32)

    async def scenario():
        async with running("TCP", config) as (instance, sink):
            _, writer = await connect(port)
            writer.write(b"hello\n")
            await sink.wait_for(1)
            [connection] = instance._server.connections.values()
            sock = connection.transport.get_extra_info("socket")
            return (bool(sock.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE)),
                    bool(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)),
                    sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF),
                    sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF))

    got_keepalive, got_nodelay, rcvbuf, sndbuf = run(scenario())
    assert (got_keepalive, got_nodelay) == (keepalive, nodelay)
    assert rcvbuf >= 128 * 1024 and 32 * 1024 <= sndbuf < 128 * 1024  # Linux doubles what was asked


@pytest.mark.skipif(shutil.which("ss") is None, reason="needs ss (iproute2) to read a listening backlog")
def test_the_listen_backlog_is_so_backlog_option():
    """``soBacklogOption`` is the accept queue Linux keeps for the port (a burst of more connections
    than it holds is refused or reset by the kernel: README, the TCP row); ``ss`` shows a listening
    socket's backlog as its Send-Q."""
    port = free_port()
    config = tcp_config(port, handlerType="TEXT")
    config["clientConfiguration"]["soBacklogOption"] = 300

    def listen_backlog() -> int:
        out = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
        [line] = out.strip().splitlines()
        return int(line.split()[2])  # State Recv-Q Send-Q ...

    async def scenario():
        async with running("TCP", config):
            return listen_backlog()

    assert run(scenario()) == 300


def test_a_bad_frame_is_dropped_with_an_event_and_the_connection_and_others_carry_on():
    port = free_port()

    async def scenario():
        async with running("TCP", tcp_config(port, handlerType="TEXT", maxFrameLength=8)) as (_, sink):
            _, noisy = await connect(port)
            _, quiet = await connect(port)
            noisy.write(b"far too long a line\nshort\n")
            quiet.write(b"other\n")
            await sink.wait_for(2)
            return sink, route_of(noisy)

    sink, noisy = run(scenario())
    assert sorted(u.payload for u in sink.uplinks) == [b"other", b"short"]
    [(metadata, payload, reason)] = sink.drops
    assert metadata["remotePort"] == noisy["remotePort"] and payload == b"far too long a line"
    assert reason == "Frame of 19 bytes is longer than maxFrameLength (8)"


def test_a_slow_queue_stops_the_reading_instead_of_losing_frames():
    port = free_port()
    count = 20_000

    async def scenario():
        async with running("TCP", tcp_config(port, handlerType="TEXT")) as (instance, sink):
            sink.block = asyncio.Event()  # the queue does not answer yet
            _, writer = await connect(port)
            writer.write(b"".join(b'{"id": "meter", "n": %d, "pad": "xxxxx"}\n' % n for n in range(count)))
            while not instance._server._paused:
                await asyncio.sleep(0.02)
            read_while_blocked = instance._server.offered
            sink.block.set()
            await sink.wait_for(count, timeout=30)
            return read_while_blocked, sink

    read_while_blocked, sink = run(scenario())
    assert read_while_blocked < count  # the rest waited in the socket buffers
    assert [json.loads(u.payload)["n"] for u in sink.uplinks] == list(range(count)) and sink.drops == []


def test_a_burst_from_many_connections_past_the_batchers_bound_loses_nothing():
    """Each connection's read is already in flight when the listener goes over its mark: what
    they deliver is held, not dropped (a bench run of 1,000 connections lost 19,500 frames)."""
    port = free_port()
    connections, lines = 400, 40  # 16,000 frames: more than the batcher holds (10,000)

    async def scenario():
        async with running("TCP", tcp_config(port, handlerType="TEXT")) as (instance, sink):
            sink.block = asyncio.Event()
            writers = []
            for c in range(connections):
                _, writer = await connect(port)
                writer.write(b"".join(b'{"c": %d, "n": %d}\n' % (c, n) for n in range(lines)))
                writers.append(writer)
            for writer in writers:
                writer.close()  # the clients go away: what they sent must still arrive
            while not instance._server._paused:
                await asyncio.sleep(0.02)
            sink.block.set()
            await sink.wait_for(connections * lines, timeout=60)
            return sink

    sink = run(scenario())
    got = [json.loads(u.payload) for u in sink.uplinks]
    assert len(got) == connections * lines and sink.drops == []
    for c in (0, connections // 2, connections - 1):  # each connection's frames in order
        assert [g["n"] for g in got if g["c"] == c] == list(range(lines))


def test_a_downlink_goes_back_on_the_devices_open_connection():
    port = free_port()

    async def scenario():
        async with running("TCP", tcp_config(port, handlerType="TEXT")) as (instance, sink):
            device_reader, device = await connect(port)
            other_reader, other = await connect(port)
            device.write(b"SN-1,default,t,1\n")
            other.write(b"SN-2,default,t,2\n")
            await sink.wait_for(2)
            route = next(u.metadata for u in sink.uplinks if u.payload.startswith(b"SN-1"))
            await instance.downlink(Downlink(str(instance.integration.pk), "SN-1", b'{"powerState":"on"}',
                                             route=route))
            received = await asyncio.wait_for(device_reader.readline(), 5)
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(other_reader.read(1), 0.2)
            unknown = {"remoteAddress": "127.0.0.1", "remotePort": "1"}
            with pytest.raises(IntegrationError) as refused:
                await instance.downlink(Downlink(str(instance.integration.pk), "SN-9", b"x", route=unknown))
            with pytest.raises(IntegrationError) as unseen:
                await instance.downlink(Downlink(str(instance.integration.pk), "SN-8", b"x"))
            return received, refused.value.message, unseen.value.message

    received, refused, unseen = run(scenario())
    assert received == b'{"powerState":"on"}\n'  # TEXT mode appends a newline, as ThingsBoard does
    assert refused == "No open TCP connection to 127.0.0.1:1 for device 'SN-9'"
    assert unseen == "No open TCP connection to the device (no uplink seen yet) for device 'SN-8'"


def test_a_binary_downlink_is_written_as_it_is():
    port = free_port()
    handler = {"handlerType": "BINARY", "lengthFieldLength": 1, "initialBytesToStrip": 1}

    async def scenario():
        async with running("TCP", tcp_config(port, **handler)) as (instance, sink):
            reader, writer = await connect(port)
            writer.write(b"\x02hi")
            await sink.wait_for(1)
            await instance.downlink(Downlink("i", "d", b"\x01\x02", route=sink.uplinks[0].metadata))
            return await asyncio.wait_for(reader.readexactly(2), 5), await _nothing_more(reader)

    assert run(scenario()) == (b"\x01\x02", True)


async def _nothing_more(reader) -> bool:
    try:
        await asyncio.wait_for(reader.read(1), 0.2)
    except TimeoutError:
        return True
    return False


def test_connections_idle_past_time_to_live_are_closed():
    port = free_port()
    config = tcp_config(port, handlerType="TEXT")
    config["clientConfiguration"]["timeToLiveInMinutes"] = 0.005  # 0.3 s

    async def scenario():
        async with running("TCP", config) as (instance, sink):
            reader, writer = await connect(port)
            writer.write(b"hello\n")
            await sink.wait_for(1)
            closed = await asyncio.wait_for(reader.read(), 10)  # EOF once the server closed it
            with pytest.raises(IntegrationError):
                await instance.downlink(Downlink("i", "d", b"late", route=sink.uplinks[0].metadata))
            return closed, len(instance._server.connections)

    assert run(scenario()) == (b"", 0)


def test_stop_closes_the_connections_and_frees_the_port():
    port = free_port()

    async def scenario():
        async with running("TCP", tcp_config(port, handlerType="TEXT")) as (_, sink):
            reader, writer = await connect(port)
            writer.write(b"last words\n")
            await sink.wait_for(1)
        eof = await asyncio.wait_for(reader.read(), 5)
        async with running("TCP", tcp_config(port, handlerType="TEXT")):  # bound again at once
            pass
        return eof, [u.payload for u in sink.uplinks]

    assert run(scenario()) == (b"", [b"last words"])


def test_a_port_in_use_fails_the_start_and_the_check_with_a_clear_error():
    port = free_port()
    config = tcp_config(port, handlerType="TEXT")

    async def scenario():
        async with running("TCP", config, name="First") as (first, _):
            first.check()  # its own port: fine
            second = TcpIntegration(row("TCP", config, name="Second"))
            with pytest.raises(IntegrationError) as in_process:
                second.check()
            with pytest.raises(IntegrationError) as start:
                await second.start(None)
            return in_process.value.message, start.value.message

    in_process, start = run(scenario())
    assert in_process == start == f"TCP port {port} is already used by integration 'First'"
    TcpIntegration(row("TCP", config)).check()  # free again

    import socket

    with socket.socket() as other:  # held by something else on this host
        other.bind(("127.0.0.1", port))
        other.listen()
        with pytest.raises(IntegrationError) as taken:
            TcpIntegration(row("TCP", config)).check()
    assert taken.value.message == f"Cannot listen on TCP port {port} (127.0.0.1): Address already in use"


# --- through the listener host to stored telemetry ------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_the_listener_host_runs_a_tcp_integration_to_stored_telemetry(host_tenant, host, eager):  # noqa: F811
    import socket

    from converters.choices import EventType
    from converters.models import DebugEvent
    from devices.models import Device
    from integrations.tests.brokers import wait_until
    from integrations.tests.factories import make_integration
    from integrations.tests.uplinks import values

    port = free_port()
    integration = make_integration(host_tenant, "TCP meters", kind="TCP", debug_failures_enabled=True,
                                   configuration=tcp_config(port, handlerType="TEXT", maxFrameLength=64))
    host()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as device:
        device.sendall(b'{"id": "tcp-meter-1", "t": 21.5}\n{"id": "tcp-meter-1", "t": 22.5, "pad": "'
                       + b"x" * 64 + b'"}\n{"id": "tcp-meter-1", "t": 23.5}\n')
        meter = wait_until(lambda: Device.objects.filter(tenant=host_tenant, name="tcp-meter-1").first(),
                           timeout=30, message="the device")
        wait_until(lambda: values(meter, ["t"]) == {"t": 23.5}, timeout=30, message="the telemetry")
    dropped = wait_until(lambda: DebugEvent.objects.filter(entity_id=integration.pk,
                                                           event_type=EventType.DEBUG_INTEGRATION).first(),
                         timeout=30,
                         message="the debug event of the dropped frame")
    assert dropped.body["error"] == "Frame of 107 bytes is longer than maxFrameLength (64)"


@pytest.mark.django_db(transaction=True)
def test_a_new_port_takes_effect_without_a_restart(host_tenant, host, eager):  # noqa: F811
    import socket

    from integrations.tests.brokers import wait_until
    from integrations.tests.factories import make_integration
    from integrations.tests.test_runner import lc_events

    old, new = free_port(), free_port()
    integration = make_integration(host_tenant, "TCP moving", kind="TCP",
                                   configuration=tcp_config(old, handlerType="TEXT"))
    host()
    wait_until(lambda: lc_events(integration) == [("STARTED", "Success")], message="the start")
    socket.create_connection(("127.0.0.1", old), timeout=5).close()

    integration.configuration = tcp_config(new, handlerType="TEXT")
    integration.save()
    wait_until(lambda: ("UPDATED", "Success") in lc_events(integration), message="the UPDATED event")
    socket.create_connection(("127.0.0.1", new), timeout=5).close()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", old), timeout=5)
