"""Uplinks over TCP and RabbitMQ, from send to stored and queryable (issue 7's benchmark).

Run by bench/uplinks.py in its production setup (a Celery worker and a runintegrations process
of their own). Each figure stands beside a bare peer of the same transport, fed by the same
client in the same run (bench/bare_peers.py):

    TCP       one persistent connection per device, newline-delimited JSON text, against an
              asyncio server that only counts lines;
    RabbitMQ  messages published to a queue (publisher confirms), against an aio-pika consumer
              that only acknowledges and counts.
"""

import asyncio
import json
import subprocess
import sys
import time
import uuid

from bench import procs
from bench.bare_peers import TCP_BACKLOG
from bench.setup import processed

__all__ = ["tcp", "rabbitmq", "bare_seconds", "json_bodies", "stored_seconds", "wait_connected"]

AMQP_URL = "amqp://guest:guest@127.0.0.1:5672/"


def bare_seconds(argv: list[str], env: dict, send) -> float:
    """Seconds from the first send until the bare peer counted everything."""
    peer = subprocess.Popen([sys.executable, "-m", "bench.bare_peers", *argv], cwd=procs.ROOT, env=env,
                            stdout=subprocess.PIPE, text=True)
    try:
        if peer.stdout.readline().strip() != "ready":
            raise RuntimeError(f"bare peer {argv[0]} did not start")
        started = time.monotonic()
        send()
        return float(peer.stdout.readline().split()[1]) - started
    finally:
        peer.kill()
        peer.wait()


def wait_connected(integration, label: str, seconds: float) -> None:
    """Wait until the listener host reports ``integration`` connected to its peer."""
    from integrations.models import Integration

    deadline = time.monotonic() + seconds
    while not Integration.objects.filter(pk=integration.pk, connected=True).exists():
        if time.monotonic() > deadline:
            raise RuntimeError(f"the {label} integration did not connect: see var/bench/integrations.log")
        time.sleep(0.1)


def stored_seconds(env, dsn, clock, n: int, devices: int, integration, *, label: str, readings, wait_stored,
                   encode, send, connect_seconds: float | None = None):
    """``(load, seconds)``: in a worker and a listener host of their own, ``integration`` (deleted
    afterwards) gets one warm-up reading per device, then ``n`` readings; ``seconds`` runs from the
    first send of those until all are stored. ``encode(readings)`` makes what ``send()`` sends."""
    try:
        warm_first, first = clock.take(devices), clock.take(n)
        warm, load = encode(readings(devices, warm_first)), encode(readings(n, first))
        with procs.worker(env), procs.listener_host(env):
            if connect_seconds:
                wait_connected(integration, label, connect_seconds)
            before = processed(dsn) + devices  # once the warm-up is stored and counted
            send(warm)
            if wait_stored(dsn, warm_first, warm_first + devices, devices * 3, 120, processed_at_least=before) is None:
                raise RuntimeError(f"{label} warm-up uplinks were not stored: see var/bench/integrations.log")
            started = time.perf_counter()
            send(load)
            done = wait_stored(dsn, first, first + n, n * 3, 180, processed_at_least=before + n)
    finally:
        integration.delete()
    if done is None:
        raise RuntimeError(f"{label} uplinks were not all stored within the timeout")
    return load, done - started


def json_bodies(rows) -> list[bytes]:
    """Each reading as a JSON body."""
    return [json.dumps(r).encode() for r in rows]


async def _send_lines(port: int, lines_per_device: dict[str, list[bytes]]) -> None:
    async def device(lines):
        for _ in range(50):  # the listener host may still be binding
            try:
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                break
            except OSError:
                await asyncio.sleep(0.1)
        writer.write(b"".join(line + b"\n" for line in lines))
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    await asyncio.gather(*(device(lines) for lines in lines_per_device.values()))


def _by_device(bodies: list[tuple[str, bytes]]) -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = {}
    for name, body in bodies:
        out.setdefault(name, []).append(body)
    return out


def tcp(env, dsn, tenant, conv, clock, quick: bool, *, readings, wait_stored, row, devices: int) -> dict:
    from integrations.models import Integration

    n = 5000 if quick else 30000
    port = procs.free_port()
    integration = Integration.objects.create(
        tenant=tenant, name="bench-tcp", type="TCP", default_converter=conv,
        configuration={"clientConfiguration": {
            "port": port, "bindAddress": "127.0.0.1", "soBacklogOption": TCP_BACKLOG, "handlerConfiguration": {
                "handlerType": "TEXT", "messageSeparator": "SYSTEM_LINE_SEPARATOR", "maxFrameLength": 1024}}})
    load, seconds = stored_seconds(
        env, dsn, clock, n, devices, integration, label="TCP", readings=readings, wait_stored=wait_stored,
        encode=lambda rows: _by_device([(r["n"], json.dumps(r).encode()) for r in rows]),
        send=lambda lines: asyncio.run(_send_lines(port, lines)))
    bare_port = procs.free_port()
    bare = bare_seconds(["tcp", str(bare_port), str(n)], env, lambda: asyncio.run(_send_lines(bare_port, load)))
    return row("tcp_uplink_stored_msg_per_s", n / seconds, "msg/s",
               "bare asyncio TCP server counting the same lines (msg/s)", n / bare,
               "informational (issue 7)", messages=n, connections=len(load))


async def _publish(queue_name: str, bodies: list[bytes]) -> None:
    import aio_pika

    connection = await aio_pika.connect(AMQP_URL)
    channel = await connection.channel(publisher_confirms=True)
    window = 200
    for i in range(0, len(bodies), window):
        await asyncio.gather(*(channel.default_exchange.publish(aio_pika.Message(body), routing_key=queue_name)
                               for body in bodies[i:i + window]))
    await connection.close()


def rabbitmq(env, dsn, tenant, conv, clock, quick: bool, *, readings, wait_stored, row, devices: int) -> dict:
    from integrations.models import Integration

    n = 5000 if quick else 30000
    queue_name = f"bench-{uuid.uuid4().hex[:8]}"
    integration = Integration.objects.create(
        tenant=tenant, name="bench-rabbitmq", type="RABBITMQ", default_converter=conv,
        configuration={"clientConfiguration": {"host": "127.0.0.1", "port": 5672, "queues": queue_name,
                                               "autoDelete": True}})
    bodies, seconds = stored_seconds(
        env, dsn, clock, n, devices, integration, label="RabbitMQ", readings=readings, wait_stored=wait_stored,
        encode=json_bodies, send=lambda batch: asyncio.run(_publish(queue_name, batch)), connect_seconds=30)
    bare_queue = f"bench-bare-{uuid.uuid4().hex[:8]}"
    bare = bare_seconds(["amqp", AMQP_URL, bare_queue, str(n)], env,
                        lambda: asyncio.run(_publish(bare_queue, bodies)))
    return row("rabbitmq_uplink_stored_msg_per_s", n / seconds, "msg/s",
               "bare aio-pika consumer acknowledging the same messages (msg/s)", n / bare,
               "informational (issue 7)", messages=n)
