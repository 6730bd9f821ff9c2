"""MQTT, Kafka and RabbitMQ publish nodes through the engine (ThingsBoard's export JSON), against real
peers: a private Mosquitto, the Kafka-protocol peer Tansu, the machine's RabbitMQ."""

import asyncio
import json
import socket
import threading
import uuid

import aio_pika
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from gmqtt import Client

from integrations.tests.brokers import MOSQUITTO, Broker, wait_until
from integrations.tests.kafka_peer import create, tansu_broker
from rulechains import engine, nodes
from rulechains.nodes.base import ConfigError
from rulechains.tests.helpers import events_of, install_root, make_node, msg, node
from tbproject.testing.factories import make_device


@pytest.fixture(scope="module")
def tansu():
    """``host:port`` of a Tansu broker (integrations/tests/kafka_peer.py) for this module."""
    with tansu_broker() as servers:
        yield servers


@pytest.fixture(scope="module")
def mosquitto(tmp_path_factory):
    if MOSQUITTO is None:
        pytest.skip("mosquitto is not installed (apt-get install mosquitto): the MQTT node needs a real broker")
    broker = Broker(tmp_path_factory.mktemp("mosquitto-rulenode"),
                    conf=f"allow_anonymous false\npassword_file {_password_file(tmp_path_factory)}").start()
    yield broker
    broker.stop()


def _password_file(tmp_path_factory):
    """A Mosquitto password file for user ``tb`` / ``pw`` (mosquitto_passwd writes the hash)."""
    import shutil
    import subprocess

    path = tmp_path_factory.mktemp("mosquitto-auth") / "passwd"
    tool = shutil.which("mosquitto_passwd")
    if tool is None:
        pytest.skip("mosquitto_passwd is not installed: cannot make a broker that checks credentials")
    subprocess.run([tool, "-b", "-c", str(path), "tb", "pw"], check=True, capture_output=True)
    return path


@pytest.fixture
def device(tenant):
    return make_device(tenant, "pump-1")


def publish_chain(tenant, node_type, **configuration):
    """switch -> publish node (debug) -> log on Failure, as a user would build it."""
    return install_root(tenant, [
        node(nodes.SWITCH, "switch"), node(node_type, "publish", True, **configuration), node(nodes.LOG, "failed"),
    ], [(0, 1, "Post telemetry"), (1, 2, "Failure")])


def outs(chain):
    return [(e["relationType"], json.loads(e["metadata"]), e.get("error")) for e in events_of(chain.nodes.get(index=1),
                                                                                            "OUT")]


# --- MQTT ---------------------------------------------------------------------------------------

class Subscriber:
    """A gmqtt subscriber in its own thread and loop, collecting (topic, payload, retain)."""

    def __init__(self, broker, topic_filter):
        self.got, self.ready = [], threading.Event()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_until_complete, args=(self.main(broker, topic_filter),),
                                       daemon=True)

    async def main(self, broker, topic_filter):
        client = Client(f"sub-{uuid.uuid4().hex[:8]}")
        client.set_auth_credentials("tb", "pw")
        client.on_message = lambda c, topic, payload, qos, props: self.got.append((topic, payload)) or 0
        client.on_subscribe = lambda *args: self.ready.set()
        await client.connect(broker.host, broker.port)
        client.subscribe(topic_filter, qos=1)
        while not self.got_enough:
            await asyncio.sleep(0.05)
        await client.disconnect()

    def __enter__(self):
        self.got_enough = False
        self.thread.start()
        assert self.ready.wait(10), "the subscriber did not subscribe"
        return self

    def __exit__(self, *exc):
        self.got_enough = True
        self.thread.join(10)


def test_the_mqtt_node_publishes_each_message_to_its_topic(tenant, device, mosquitto):
    base = f"tb/{uuid.uuid4().hex[:8]}"
    chain = publish_chain(tenant, nodes.MQTT, topicPattern=base + "/${deviceName}/$[kind]", host=mosquitto.host,
                          port=mosquitto.port, connectTimeoutSec=5, clientId="", appendClientIdSuffix=False,
                          cleanSession=True, retainedMessage=False, ssl=False, protocolVersion="MQTT_3_1_1",
                          credentials={"type": "basic", "username": "tb", "password": "pw"})
    with Subscriber(mosquitto, base + "/#") as sub:
        engine.process([msg(tenant, device, data={"kind": "a", "t": i}, metadata={"deviceName": "pump-1"})
                        for i in range(30)])
        wait_until(lambda: len(sub.got) >= 30, message="30 messages at the subscriber")
    assert sorted(json.loads(p)["t"] for _, p in sub.got) == list(range(30))
    assert {t for t, _ in sub.got} == {base + "/pump-1/a"}
    assert [r for r, _, _ in outs(chain)] == ["Success"] * 30


def test_the_mqtt_node_fails_the_batch_with_the_reason_when_the_broker_refuses(tenant, device, mosquitto):
    chain = publish_chain(tenant, nodes.MQTT, topicPattern="x", host=mosquitto.host, port=mosquitto.port,
                          connectTimeoutSec=5, credentials={"type": "basic", "username": "tb", "password": "wrong"})
    engine.process([msg(tenant, device), msg(tenant, device)])
    [(relation, metadata, error), _] = outs(chain)
    assert relation == "Failure" and "error" in metadata and error


def test_the_mqtt_node_refuses_configurations_it_cannot_run(tenant):
    with pytest.raises(ConfigError, match="topicPattern"):
        make_node(tenant, nodes.MQTT, host="h")
    with pytest.raises(ConfigError, match="port"):
        make_node(tenant, nodes.MQTT, topicPattern="t", host="h", port=70000)


# --- Kafka --------------------------------------------------------------------------------------

async def _read(servers, topic, count):
    consumer = AIOKafkaConsumer(bootstrap_servers=servers, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in (consumer.partitions_for_topic(topic) or {0})]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        got = []
        while len(got) < count:
            batch = await asyncio.wait_for(consumer.getmany(timeout_ms=500), 20)
            got.extend(r for records in batch.values() for r in records)
        return got
    finally:
        await consumer.stop()


def test_the_kafka_node_produces_with_key_and_headers_and_reports_the_offset(tenant, device, tansu):
    topic = f"tb-{uuid.uuid4().hex[:8]}"
    asyncio.run(create(tansu, topic, partitions=1))
    chain = publish_chain(tenant, nodes.KAFKA, topicPattern="${prefix}" + topic[3:], keyPattern="${deviceName}",
                          bootstrapServers=tansu, retries=0, batchSize=16384, linger=0, bufferMemory=33554432,
                          acks="-1", keySerializer="org.apache.kafka.common.serialization.StringSerializer",
                          valueSerializer="org.apache.kafka.common.serialization.StringSerializer",
                          otherProperties={}, addMetadataKeyValuesAsKafkaHeaders=True, kafkaHeadersCharset="UTF-8")
    engine.process([msg(tenant, device, data={"t": i}, metadata={"deviceName": "pump-1", "prefix": "tb-"})
                    for i in range(3)])
    records = asyncio.run(_read(tansu, topic, 3))
    assert sorted(json.loads(r.value)["t"] for r in records) == [0, 1, 2]
    assert {r.key for r in records} == {b"pump-1"} and (("deviceName", b"pump-1") in records[0].headers)
    results = outs(chain)
    assert [r for r, _, _ in results] == ["Success"] * 3
    assert sorted(int(m["offset"]) for _, m, _ in results) == [0, 1, 2] and results[0][1]["topic"] == topic


def test_the_kafka_node_fails_when_no_broker_answers(tenant, device):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    [[out]] = make_node(tenant, nodes.KAFKA, topicPattern="t", bootstrapServers=f"127.0.0.1:{port}") \
        .process_batch(_ctx(tenant), [msg(tenant, device)])
    assert out.relation == "Failure" and out.msg.metadata["error"]


# --- RabbitMQ -----------------------------------------------------------------------------------

def _rabbitmq() -> bool:
    try:
        socket.create_connection(("127.0.0.1", 5672), 1).close()
        return True
    except OSError:
        return False


needs_rabbitmq = pytest.mark.skipif(not _rabbitmq(), reason="RabbitMQ is not running on 127.0.0.1:5672 "
                                    "(apt-get install rabbitmq-server; rabbitmq-server -detached)")


async def _queue_roundtrip(queue, count):
    async with await aio_pika.connect(host="127.0.0.1", port=5672) as connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        got = []
        for _ in range(count):
            message = await declared.get(timeout=5)
            await message.ack()
            got.append(message)
        await channel.queue_delete(queue)
        return got


async def _declare(queue):
    async with await aio_pika.connect(host="127.0.0.1", port=5672) as connection:
        await (await connection.channel()).declare_queue(queue, auto_delete=False)


@needs_rabbitmq
def test_the_rabbitmq_node_publishes_with_thingsboards_message_properties(tenant, device):
    queue = f"tbq-{uuid.uuid4().hex[:8]}"
    asyncio.run(_declare(queue))
    chain = publish_chain(tenant, nodes.RABBITMQ, exchangeNamePattern="", routingKeyPattern="${queue}",
                          messageProperties="PERSISTENT_TEXT_PLAIN", host="127.0.0.1", port=5672, virtualHost="/",
                          username="guest", password="guest", automaticRecoveryEnabled=False,
                          connectionTimeout=5000, handshakeTimeout=5000, clientProperties={})
    engine.process([msg(tenant, device, data={"t": i}, metadata={"queue": queue}) for i in range(3)]
                   + [msg(tenant, device, metadata={"queue": queue, "exchange": "none"})])
    got = asyncio.run(_queue_roundtrip(queue, 4))
    assert [json.loads(m.body) for m in got[:3]] == [{"t": 0}, {"t": 1}, {"t": 2}]
    assert got[0].content_type == "text/plain" and got[0].delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert [r for r, _, _ in outs(chain)] == ["Success"] * 4


@needs_rabbitmq
def test_a_missing_exchange_fails_only_its_messages(tenant, device):
    queue = f"tbq-{uuid.uuid4().hex[:8]}"
    asyncio.run(_declare(queue))
    node_ = make_node(tenant, nodes.RABBITMQ, exchangeNamePattern="${exchange}", routingKeyPattern=queue,
                      host="127.0.0.1", port=5672, connectionTimeout=5000, handshakeTimeout=5000)
    outs_ = node_.process_batch(_ctx(tenant), [msg(tenant, device, metadata={"exchange": f"nope-{queue}"}),
                                               msg(tenant, device, metadata={"exchange": ""})])
    assert [o.relation for [o] in outs_] == ["Failure", "Success"] and "NOT_FOUND" in outs_[0][0].error
    assert len(asyncio.run(_queue_roundtrip(queue, 1))) == 1


def test_the_rabbitmq_node_refuses_configurations_it_cannot_run(tenant):
    with pytest.raises(ConfigError, match="messageProperties"):
        make_node(tenant, nodes.RABBITMQ, host="h", messageProperties="LOUD")


def _ctx(tenant):
    from rulechains.nodes.base import NodeContext
    from tbproject.clock import now_ms

    return NodeContext(tenant.pk, now_ms())
