"""The MQTT listener against real Mosquitto brokers: delivery, acknowledgement after queueing,
reconnect after a broker restart, TLS with client certificates, password authentication, MQTT 5.

The sink stands in for the pipeline's queue here; test_runner.py runs the real one.
"""

import asyncio
import contextlib
import uuid

import pytest

from integrations.listeners.mqtt import MqttListener, probe
from integrations.tests.brokers import Certificates, RecordingSink, password_file, publish, unique_topic
from integrations.types.base import IntegrationError
from integrations.types.mqtt import MqttConfig


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 45))


@contextlib.asynccontextmanager
async def listening(configuration: dict, sink: RecordingSink, *, client_id: str | None = None,
                    metadata: dict | None = None, stop_timeout: float = 5.0):
    listener = MqttListener(MqttConfig.model_validate(configuration), sink,
                            client_id=client_id or f"test-{uuid.uuid4().hex[:8]}",
                            metadata=metadata or {"integrationName": "mqtt-test"}, integration_id="i-1")
    listener.stop_timeout = stop_timeout
    await listener.start()
    try:
        await asyncio.wait_for(listener.connected.wait(), 10)
        await asyncio.sleep(0.1)  # SUBACK
        yield listener
    finally:
        await listener.stop()


def test_it_hands_on_what_the_broker_delivers_with_topic_and_metadata(broker):
    topic = unique_topic()
    sink = RecordingSink()

    async def scenario():
        config = broker.config(f"{topic}/+", qos=1)
        async with listening(config, sink, metadata={"integrationName": "Meters", "site": "north"}):
            await publish(broker, [(f"{topic}/a1", b'{"temp": 21.5}'), (f"{topic}/a2", b"plain text")], qos=1)
            await publish(broker, [(f"{topic}/a3", bytes([0, 159, 255]))], qos=0)
            await sink.wait_for(3)

    run(scenario())
    by_topic = {u.metadata["topic"]: u for u in sink.uplinks}
    assert set(by_topic) == {f"{topic}/a1", f"{topic}/a2", f"{topic}/a3"}
    first = by_topic[f"{topic}/a1"]
    assert first.payload == b'{"temp": 21.5}' and first.integration_id == "i-1" and first.received_ts > 0
    assert first.metadata == {"integrationName": "Meters", "site": "north", "topic": f"{topic}/a1"}
    assert [by_topic[f"{topic}/{n}"].content_type for n in ("a1", "a2", "a3")] == ["JSON", "TEXT", "BINARY"]
    assert {"connected": True, "error": ""} in sink.reports


def test_a_topics_uplinks_share_one_metadata_object_and_the_worker_gets_copies(broker, monkeypatch):
    """queue.encode writes a shared metadata object once per batch; what the worker decodes is a
    copy per uplink (a pipeline step that adds a key changes one uplink), and the kept topics are
    bounded (per-device topics)."""
    from integrations import queue
    from integrations.listeners import mqtt

    monkeypatch.setattr(mqtt, "TOPIC_METADATA_CACHE", 2)
    topic = unique_topic()
    sink = RecordingSink()

    async def scenario():
        config = broker.config(f"{topic}/+", qos=1)
        async with listening(config, sink, metadata={"integrationName": "Meters"}):
            await publish(broker, [(f"{topic}/a", b"1"), (f"{topic}/a", b"2"), (f"{topic}/b", b"3")], qos=1)
            await sink.wait_for(3)
            await publish(broker, [(f"{topic}/c", b"4"), (f"{topic}/a", b"5")], qos=1)  # c: the cache was full
            await sink.wait_for(5)

    run(scenario())
    by_payload = {u.payload: u for u in sink.uplinks}
    assert by_payload[b"1"].metadata is by_payload[b"2"].metadata
    assert by_payload[b"1"].metadata == {"integrationName": "Meters", "topic": f"{topic}/a"}
    assert by_payload[b"3"].metadata == {"integrationName": "Meters", "topic": f"{topic}/b"}
    assert by_payload[b"5"].metadata == by_payload[b"1"].metadata  # made again after the cache was cleared
    decoded = queue.decode(queue.encode(sorted(sink.uplinks, key=lambda u: u.payload)))
    decoded[0].metadata["added"] = "by a step"
    assert "added" not in decoded[1].metadata and "added" not in by_payload[b"1"].metadata


def test_it_keeps_up_in_batches(broker):
    topic = unique_topic()
    # Batches form while a hand-over is in flight (group commit; an idle batcher hands a message on
    # at once): a sink as slow as a loaded Redis round trip, so that how fast this machine happens
    # to deliver the messages does not decide the batch sizes.
    sink = RecordingSink(delay=0.02)
    count = 2000

    async def scenario():
        async with listening(broker.config(topic, qos=1), sink):
            for start in range(0, count, 250):  # paced: Mosquitto queues at most 1,000 for a subscriber
                await publish(broker, [(topic, b"%d" % i) for i in range(start, start + 250)], qos=1)
                await sink.wait_for(start + 250)

    run(scenario())
    assert sorted(int(u.payload) for u in sink.uplinks) == list(range(count))
    assert sink.calls < count / 5  # handed on in batches, not one call per message


def test_it_drops_messages_larger_than_max_bytes_in_message_and_says_so(broker):
    topic = unique_topic()
    sink = RecordingSink()

    async def scenario():
        async with listening(broker.config(topic, maxBytesInMessage=16), sink):
            await publish(broker, [(topic, b"x" * 17), (topic, b"small")], qos=1)
            await sink.wait_for(1)

    run(scenario())
    assert [u.payload for u in sink.uplinks] == [b"small"]
    [(metadata, payload, reason)] = sink.drops
    assert metadata["topic"] == topic and payload == b"x" * 17
    assert reason == "Message of 17 bytes is larger than maxBytesInMessage (16)"


@pytest.mark.parametrize("version", ["MQTT_3_1_1", "MQTT_5"])
def test_it_acknowledges_a_qos1_message_only_once_it_is_queued(broker, version):
    """A listener that dies before the queue took a message leaves it unacknowledged: the broker
    delivers it again to the next connection with the same client id (a persistent session)."""
    topic, client_id = unique_topic(), f"ack-{uuid.uuid4().hex[:8]}"
    config = broker.config(topic, qos=1, cleanSession=False, protocolVersion=version)
    stuck, second = RecordingSink(), RecordingSink()

    async def scenario():
        stuck.block = asyncio.Event()  # the queue never answers
        async with listening(config, stuck, client_id=client_id, stop_timeout=0.3):
            await publish(broker, [(topic, b"precious")], qos=1)
            while not stuck.calls:
                await asyncio.sleep(0.02)
        async with listening(config, second, client_id=client_id):
            await second.wait_for(1)

    run(scenario())
    assert stuck.uplinks == [] and [u.payload for u in second.uplinks] == [b"precious"]


def test_it_retries_a_batch_the_queue_refused_and_acknowledges_it_after(broker):
    topic, client_id = unique_topic(), f"retry-{uuid.uuid4().hex[:8]}"
    config = broker.config(topic, qos=1, cleanSession=False)
    sink, after = RecordingSink(fail=1), RecordingSink()

    async def scenario():
        async with listening(config, sink, client_id=client_id):
            await publish(broker, [(topic, b"m1")], qos=1)
            await sink.wait_for(1)
        # acknowledged once queued: a new session of the same client gets nothing again
        async with listening(config, after, client_id=client_id):
            await asyncio.sleep(0.5)

    run(scenario())
    assert sink.calls == 2 and [u.payload for u in sink.uplinks] == [b"m1"]
    assert any(r.get("error", "").startswith("Failed to queue uplinks: queue unavailable") for r in sink.reports)
    assert after.uplinks == []


def test_it_reconnects_and_resubscribes_after_the_broker_restarts(make_broker):
    broker = make_broker().start()
    topic = unique_topic()
    sink = RecordingSink()

    async def scenario():
        async with listening(broker.config(topic, qos=1), sink) as listener:
            await publish(broker, [(topic, b"before")], qos=1)
            await sink.wait_for(1)
            broker.kill()
            while listener.connected.is_set():
                await asyncio.sleep(0.05)
            await asyncio.sleep(0.5)  # a reconnect attempt fails while the broker is down
            broker.start()
            await asyncio.wait_for(listener.connected.wait(), 15)
            await asyncio.sleep(0.2)  # SUBACK of the new connection
            await publish(broker, [(topic, b"after")], qos=1)
            await sink.wait_for(2)

    run(scenario())
    assert [u.payload for u in sink.uplinks] == [b"before", b"after"]
    lost = [r for r in sink.reports if r.get("connected") is False]
    assert lost and lost[0]["error"] == f"Connection to MQTT broker at 127.0.0.1:{broker.port} lost"
    assert sink.reports[-1] == {"connected": True, "error": ""}


def test_it_connects_with_tls_client_certificates(make_broker, tmp_path):
    certs = Certificates(tmp_path / "certs")
    broker = make_broker(certs.mosquitto_conf(require_certificate=True)).start()
    topic = unique_topic()
    sink = RecordingSink()
    credentials = {"type": "cert.PEM", "caCert": certs.ca, "cert": certs.client, "privateKey": certs.client_key}
    config = broker.config(topic, ssl=True, credentials=credentials)

    async def scenario():
        async with listening(config, sink):
            await publish(broker, [(topic, b"secure")], qos=1, ssl=_publisher_tls(certs, tmp_path))
            await sink.wait_for(1)
        without_cert = MqttConfig.model_validate(broker.config(topic, ssl=True, credentials={"caCert": certs.ca}))
        with pytest.raises(IntegrationError) as refused:
            await probe(without_cert)
        return refused.value

    refused = run(scenario())
    assert [u.payload for u in sink.uplinks] == [b"secure"]
    assert refused.message.startswith(f"Failed to connect to MQTT broker at 127.0.0.1:{broker.port}: ")


def _publisher_tls(certs: Certificates, tmp_path):
    import ssl

    context = ssl.create_default_context(cadata=certs.ca)
    (tmp_path / "client.pem").write_text(certs.client)
    (tmp_path / "client.key").write_text(certs.client_key)
    context.load_cert_chain(tmp_path / "client.pem", tmp_path / "client.key")
    return context


def test_it_authenticates_with_username_and_password(make_broker, tmp_path):
    passwords = password_file(tmp_path, "meter", "s3cret")
    broker = make_broker(f"allow_anonymous false\npassword_file {passwords}").start()
    topic = unique_topic()
    sink = RecordingSink()
    good = broker.config(topic, credentials={"type": "basic", "username": "meter", "password": "s3cret"})
    bad = broker.config(topic, credentials={"type": "basic", "username": "meter", "password": "wrong"})

    async def with_credentials():
        async with listening(good, sink):
            await publish(broker, [(topic, b"authorised")], qos=1, auth=("meter", "s3cret"))
            await sink.wait_for(1)
        with pytest.raises(IntegrationError) as refused:
            await probe(MqttConfig.model_validate(bad))
        return refused.value

    refused = run(with_credentials())
    assert [u.payload for u in sink.uplinks] == [b"authorised"]
    assert refused.permanent and "Connection Refused: not authorised" in refused.message


def test_check_names_the_broker_it_could_not_reach():
    from integrations.tests.brokers import free_port

    port = free_port()
    config = MqttConfig.model_validate({"clientConfiguration": {"host": "127.0.0.1", "port": port,
                                                                "connectTimeoutSec": 2},
                                        "topicFilters": [{"filter": "a/#"}]})
    with pytest.raises(IntegrationError) as refused:
        run(probe(config))
    assert refused.value.message.startswith(f"Failed to connect to MQTT broker at 127.0.0.1:{port}: ")
    assert not refused.value.permanent
