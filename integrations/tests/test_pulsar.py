"""The APACHE_PULSAR integration against a real Pulsar-protocol peer: pulsar-lite (a third-party
broker in the pulsar-lite wheel, not Apache Pulsar; integrations/tests/peers.py), on a free
loopback port with its metrics endpoint off. Consumption with metadata, acknowledgement only after
queueing, a listener SIGKILLed mid-stream and a broker SIGKILLed and restarted losing nothing,
downlinks read back, a refused connection named in check() and in the status, and the whole path
from ``POST /api/integration`` through the listener host to stored telemetry and back out as a
downlink. Every test uses its own topics and subscription (random names).
"""

import asyncio
import json

import pytest

from integrations.tests.brokers import RecordingSink, free_port, running, unique_name, wait_for_value, wait_until
from integrations.tests.brokers import run_async as run
from integrations.tests.listener_child import child_listener

pulsar = pytest.importorskip("pulsar", reason="pulsar-client (requirements.txt) is not installed")

from integrations.listeners.pulsar import PulsarListener, probe  # noqa: E402
from integrations.messages import Downlink  # noqa: E402
from integrations.tests.peers import PulsarLite  # noqa: E402
from integrations.types.base import ConfigError, IntegrationError  # noqa: E402
from integrations.types.pulsar import ApachePulsarIntegration, PulsarConfig  # noqa: E402


@pytest.fixture(scope="module")
def broker(tmp_path_factory):
    instance = PulsarLite(tmp_path_factory.mktemp("pulsar-lite")).start()
    yield instance
    instance.stop()


@pytest.fixture
def own_broker(tmp_path):
    """A broker of the test's own, to kill and restart."""
    instance = PulsarLite(tmp_path / "pulsar-lite").start()
    yield instance
    instance.stop()


def name(prefix: str = "tbp") -> str:
    return unique_name(prefix)


def config(url: str, topics: str, *, subscription: str | None = None, **client) -> dict:
    return {"clientConfiguration": {"serviceUrl": url, "topics": topics, "subscriptionName": subscription or name("s"),
                                    "maxNumMessages": 1000, "maxNumBytes": 10485760, "timeoutInMs": 100,
                                    "credentials": {"type": "anonymous"}, **client}}


def produce(url: str, topic: str, messages) -> None:
    """``[(key or None, payload), ...]`` sent and confirmed by the broker."""
    client = pulsar.Client(url, operation_timeout_seconds=10)
    try:
        producer = client.create_producer(topic)
        for key, payload in messages:
            producer.send(payload, partition_key=key)
    finally:
        client.close()


class SlowSink(RecordingSink):
    """Takes 20 ms per hand-over, so a stream is still flowing when the test stops the listener."""

    async def __call__(self, uplinks) -> None:
        await asyncio.sleep(0.02)
        await super().__call__(uplinks)


def listening(configuration: dict, sink, *, integration_id: str = "i-1", connect_timeout: float = 15.0,
              retry_ceiling: float = 30.0):
    listener = PulsarListener(PulsarConfig.model_validate(configuration), sink,
                              metadata={"integrationName": "pulsar-test"}, integration_id=integration_id)
    listener.nack_delay_ms, listener.retry_ceiling = 100, retry_ceiling
    return running(listener, connect_timeout=connect_timeout)


#: How long a listener may take to connect right after another consumer of its subscription was
#: SIGKILLed: pulsar-lite dropped every new consumer right after its lookup for about 15 s then
#: (seen once in CI: "Temporary error in creating consumer: ResultDisconnected"), until it had
#: noticed the dead connection; the listener keeps retrying by itself meanwhile. Once more past 60 s
#: in CI: the broker now pings every 3 s (peers.PulsarLite), the listener retries at least every 2 s,
#: and a timeout shows the listener's last reports and the broker's log.
AFTER_A_KILLED_CONSUMER = 90.0


def test_it_hands_on_messages_with_topic_and_key_and_acknowledges_them_after_queueing(broker):
    t1, t2, subscription = name(), name(), name("s")
    sink, again = RecordingSink(), RecordingSink()

    async def scenario():
        async with listening(config(broker.url, f"{t1}, {t2}", subscription=subscription), sink) as listener:
            await asyncio.to_thread(produce, broker.url, t1, [("meter-1", b'{"t": 1}')])
            await asyncio.to_thread(produce, broker.url, t2, [(None, b"plain"), (None, bytes([0, 200]))])
            await sink.wait_for(3, timeout=15)
            await wait_for_value(lambda: listener.acknowledged, 3)
        async with listening(config(broker.url, f"{t1}, {t2}", subscription=subscription), again):
            await asyncio.sleep(1.0)  # nothing acknowledged is delivered again

    run(scenario())
    first = next(u for u in sink.uplinks if u.metadata["topic"].endswith(t1))
    assert first.payload == b'{"t": 1}' and first.content_type == "JSON" and first.integration_id == "i-1"
    assert first.metadata == {"integrationName": "pulsar-test", "topic": f"persistent://public/default/{t1}",
                              "key": "meter-1"}
    assert sorted(u.content_type for u in sink.uplinks if u.metadata["topic"].endswith(t2)) == ["BINARY", "TEXT"]
    assert all("key" not in u.metadata for u in sink.uplinks if u.metadata["topic"].endswith(t2))
    assert {"connected": True, "error": ""} in sink.reports and again.uplinks == []


def test_nothing_is_acknowledged_while_the_queue_refuses_and_a_stopped_listener_loses_nothing(broker):
    topic, subscription = name(), name("s")
    stuck, second = RecordingSink(), RecordingSink()

    async def scenario():
        stuck.block = asyncio.Event()
        async with listening(config(broker.url, topic, subscription=subscription), stuck) as listener:
            listener.stop_timeout = 0.3
            await asyncio.to_thread(produce, broker.url, topic, [(None, b"precious")])
            await wait_for_value(lambda: stuck.calls, 1)
        assert listener.acknowledged == 0
        async with listening(config(broker.url, topic, subscription=subscription), second) as listener:
            await second.wait_for(1, timeout=15)
            await wait_for_value(lambda: listener.acknowledged, 1)

    run(scenario())
    assert stuck.uplinks == [] and [u.payload for u in second.uplinks] == [b"precious"]


def test_a_listener_killed_or_stopped_mid_stream_and_restarted_loses_nothing(broker, tmp_path):
    """The first listener runs in a process of its own and is SIGKILLed mid-stream; the second is
    stopped cleanly mid-stream; the third reads the rest. Every message is handed on."""
    topic, subscription, total = name(), name("s"), 300
    second, third = SlowSink(), SlowSink()
    configuration = config(broker.url, topic, subscription=subscription, maxNumMessages=10)
    run(_subscribe_once(configuration))  # the subscription exists before the stream starts
    produce(broker.url, topic, [(f"k{i % 7}", b"%d" % i) for i in range(total)])
    with child_listener("integrations.listeners.pulsar.PulsarListener", "integrations.types.pulsar.PulsarConfig",
                        configuration, tmp_path / "child") as child:  # SIGKILLed: what it held is not acknowledged
        wait_until(lambda: len(child.payloads()) >= 40, 30, message=f"the child's uplinks ({child.log})")
    killed = [int(line) for line in child.payloads()]

    async def scenario():
        async with listening(configuration, second, connect_timeout=AFTER_A_KILLED_CONSUMER, retry_ceiling=2.0):
            await second.wait_for(80, timeout=30)
        async with listening(configuration, third):
            await wait_for_value(lambda: len(set(killed) | {int(p) for p in _payloads(second, third)}), total,
                                 timeout=30)

    try:
        run(scenario(), AFTER_A_KILLED_CONSUMER + 90)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nthe broker's log ends: {broker.log()[-2000:]}") from exc
    seen = killed + [int(u.payload) for sink in (second, third) for u in sink.uplinks]
    assert set(seen) == set(range(total))  # every produced message was handed on
    assert len(second.uplinks) < total and len(third.uplinks) < total  # each took over mid-stream


def _payloads(*sinks) -> list[bytes]:
    return [u.payload for sink in sinks for u in sink.uplinks]


async def _subscribe_once(configuration: dict) -> None:
    async with listening(configuration, RecordingSink()):
        pass


def test_a_broker_killed_and_restarted_loses_nothing_and_the_listener_reconnects(own_broker):
    """Messages wait in the durable subscription while the broker is SIGKILLed and restarted
    (pulsar-lite keeps them in RocksDB); the running listener reports the lost connection, comes
    back by itself, and hands on what was held unacknowledged across the restart and what is sent after."""
    topic, subscription = name(), name("s")
    configuration = config(own_broker.url, topic, subscription=subscription)
    sink = RecordingSink()

    async def scenario():
        await _subscribe_once(configuration)
        await asyncio.to_thread(produce, own_broker.url, topic, [(None, b"early-%d" % i) for i in range(5)])
        own_broker.kill()
        own_broker.start()
        sink.block = asyncio.Event()
        async with listening(configuration, sink) as listener:
            await wait_for_value(lambda: sink.calls, 1)  # received, held: not acknowledged
            own_broker.kill()
            await wait_for_value(lambda: int(not listener.connected.is_set()), 1, timeout=10)
            own_broker.start()
            await asyncio.wait_for(listener.connected.wait(), 30)
            sink.block.set()
            await asyncio.to_thread(produce, own_broker.url, topic, [(None, b"late-%d" % i) for i in range(5)])
            await wait_for_value(lambda: len({u.payload for u in sink.uplinks}), 10, timeout=30)

    run(scenario(), 120)
    assert {u.payload for u in sink.uplinks} == {b"early-%d" % i for i in range(5)} | {b"late-%d" % i for i in range(5)}
    lost = [r for r in sink.reports if r.get("connected") is False]
    assert lost and lost[0]["error"] == f"Connection to Pulsar at {own_broker.url} lost; reconnecting"
    assert sink.reports[-1] == {"connected": True, "error": ""}


def test_a_downlink_is_published_to_its_topic_with_its_key_and_properties(broker):
    topic, fallback = name("tbdown"), name("tbdown")
    client = pulsar.Client(broker.url, operation_timeout_seconds=10)
    readers = {t: client.subscribe(t, name("r"), initial_position=pulsar.InitialPosition.Earliest)
               for t in (topic, fallback)}

    async def scenario():
        async with listening(config(broker.url, name(), downlinkTopic=fallback), RecordingSink()) as listener:
            await listener.publish(Downlink("i-1", "meter-1", b'{"on": true}', "JSON",
                                            metadata={"topic": topic, "key": "meter-1", "deviceName": "meter-1"}))
            await listener.publish(Downlink("i-1", "meter-2", b"off", "TEXT"))
        with pytest.raises(IntegrationError) as no_topic:
            async with listening(config(broker.url, name()), RecordingSink()) as listener:
                await listener.publish(Downlink("i-1", "meter-1", b"x", "TEXT"))
        return no_topic.value

    try:
        no_topic = run(scenario())
        keyed, fallen_back = readers[topic].receive(10_000), readers[fallback].receive(10_000)
    finally:
        client.close()
    assert (keyed.data(), keyed.partition_key(), keyed.properties()) == (b'{"on": true}', "meter-1",
                                                                         {"deviceName": "meter-1"})
    assert (fallen_back.data(), fallen_back.partition_key()) == (b"off", "")
    assert no_topic.permanent and "no metadata.topic" in no_topic.message


def test_check_and_the_listener_name_a_refused_connection(broker):
    port = free_port()
    dead = config(f"pulsar://127.0.0.1:{port}", "t")
    with pytest.raises(IntegrationError) as refused:
        run(probe(PulsarConfig.model_validate(dead)))
    assert refused.value.message == (f"Failed to connect to Pulsar at pulsar://127.0.0.1:{port}: "
                                     f"127.0.0.1:{port} connection refused")
    run(probe(PulsarConfig.model_validate(config(broker.url, "t"))))  # the good one passes
    sink = RecordingSink()

    async def scenario():  # a refusal may pass: start() succeeds and the listener keeps trying
        listener = PulsarListener(PulsarConfig.model_validate(dead), sink, metadata={}, integration_id="i-1")
        await listener.start()
        await wait_for_value(lambda: len(sink.reports), 1)
        await listener.stop()

    run(scenario())
    assert sink.reports[0] == {"connected": False, "error": refused.value.message}


def test_a_token_credential_is_sent_in_the_connect_command():
    """pulsar-lite checks no credentials, so a plain socket stands in for the broker and reads the
    client's CONNECT command: it carries the token (auth method "token"); anonymous carries none."""
    import socket
    import threading

    def connect_frames(configuration: dict) -> bytes:
        server = socket.create_server(("127.0.0.1", 0))
        port, frames = server.getsockname()[1], []

        def serve():
            server.settimeout(10)
            for _ in range(2):  # the reachability check's connection, then the client's
                try:
                    conn, _ = server.accept()
                except OSError:
                    return
                conn.settimeout(3)
                try:
                    frames.append(conn.recv(4096))
                except OSError:
                    pass
                conn.close()

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        configuration["clientConfiguration"]["serviceUrl"] = f"pulsar://127.0.0.1:{port}"
        try:
            run(probe(PulsarConfig.model_validate(configuration)), 2)
        except (IntegrationError, TimeoutError):
            pass  # no answer to CONNECT: the probe fails or waits, the frame was read
        thread.join(15)
        server.close()
        return b"".join(frames)

    sent = connect_frames(config("pulsar://h:1", "t", credentials={"type": "token", "token": "eyJ.wire-token"}))
    assert b"token" in sent and b"eyJ.wire-token" in sent
    assert b"eyJ" not in connect_frames(config("pulsar://h:1", "t"))


def test_the_configuration_has_thingsboards_defaults_and_is_validated_and_the_token_is_secret():
    defaults = PulsarConfig.model_validate({"clientConfiguration": {}}).clientConfiguration
    assert (defaults.serviceUrl, defaults.topics, defaults.subscriptionName, defaults.maxNumMessages,
            defaults.maxNumBytes, defaults.timeoutInMs, defaults.credentials.type) == (
        "pulsar://localhost:6650", "my-topic", "my-subscription", 1000, 10485760, 100, "anonymous")
    with pytest.raises(ConfigError, match="configuration.clientConfiguration: Field required"):
        ApachePulsarIntegration.validate({})
    with pytest.raises(ConfigError, match="configuration.clientConfiguration.serviceUrl: .*pulsar://host:6650"):
        ApachePulsarIntegration.validate(config("http://broker:8080", "t"))
    with pytest.raises(ConfigError, match="'broker:x' in the service URL is not host:port"):
        ApachePulsarIntegration.validate(config("pulsar://broker:x", "t"))
    with pytest.raises(ConfigError, match="configuration.clientConfiguration.topics"):
        ApachePulsarIntegration.validate(config("pulsar://h:1", " , "))
    with pytest.raises(ConfigError, match="credentials of type token need the token"):
        ApachePulsarIntegration.validate(config("pulsar://h:1", "t", credentials={"type": "token", "token": " "}))
    parsed = PulsarConfig.model_validate(config("pulsar+ssl://a:1,b", "x, y,x")).clientConfiguration
    assert parsed.topic_names == ["x", "y"]
    from integrations.types.pulsar import endpoints
    assert endpoints(parsed.serviceUrl) == [("a", 1), ("b", 6651)]
    with_token = config("pulsar://h:1", "t", credentials={"type": "token", "token": "eyJ.secret"})
    masked = ApachePulsarIntegration.masked(with_token)
    assert masked["clientConfiguration"]["credentials"] == {"type": "token", "token": "******"}
    kept = ApachePulsarIntegration.keep_secrets(masked, with_token)
    assert kept["clientConfiguration"]["credentials"]["token"] == "eyJ.secret"


@pytest.mark.django_db
def test_the_check_endpoint_answers_the_refused_connection(api, tenant, broker):
    from integrations.tests.factories import make_uplink_converter
    from integrations.tests.hosted import check

    converter, port = make_uplink_converter(tenant), free_port()
    status, message = check(api, "APACHE_PULSAR", converter, config(f"pulsar://127.0.0.1:{port}", "t"))
    assert status == 400 and message.endswith(f"127.0.0.1:{port} connection refused")
    assert check(api, "APACHE_PULSAR", converter, config(broker.url, "t"))[0] == 200


@pytest.mark.django_db
def test_the_integration_page_offers_the_guided_form_with_the_token_as_a_secret(client, tenant_admin):
    from integrations.tests.hosted import guided_form

    client.force_login(tenant_admin)
    secrets, fields = guided_form(client, "APACHE_PULSAR")
    assert secrets == ["clientConfiguration.credentials.token"]
    assert {"serviceUrl", "topics", "subscriptionName", "maxNumMessages", "maxNumBytes", "timeoutInMs",
            "credentials", "downlinkTopic"} <= fields


# --- through the API, the listener host and the pipeline -------------------------------------------

ENCODER = "return {contentType: 'JSON', data: JSON.stringify(msg), metadata: {key: metadata.deviceName}};"


@pytest.mark.django_db(transaction=True)
def test_an_integration_posted_as_thingsboard_json_stores_telemetry_sends_a_downlink_and_reports_a_dead_broker(
        api, tenant, broker):
    from integrations.downlinks import submit
    from integrations.models import DownlinkStatus, OutgoingDownlink
    from integrations.tests.downlinks import attributes_msg, make_encoder
    from integrations.tests.hosted import failure_of, hosting, post_integrations, statistics, stored, wait_connected
    from integrations.tests.uplinks import converter

    topic, down = name(), name("tbdown")
    reader_client = pulsar.Client(broker.url, operation_timeout_seconds=10)
    reader = reader_client.subscribe(down, name("r"), initial_position=pulsar.InitialPosition.Earliest)
    dead_port = free_port()
    ids = post_integrations(api, "APACHE_PULSAR", converter(tenant), make_encoder(tenant, ENCODER),
                            live=config(broker.url, topic, downlinkTopic=down),
                            dead=config(f"pulsar://127.0.0.1:{dead_port}", topic))
    try:
        with hosting(tenant):
            wait_connected(ids["live"])
            produce(broker.url, topic, [("pulsar-meter", json.dumps({"name": "pulsar-meter",
                                                                     "telemetry": {"t": 7.5}}).encode())])
            assert stored(tenant, "pulsar-meter", "t") == 7.5
            counted = statistics(ids["live"])
            submit(tenant.pk, ids["live"], attributes_msg(tenant, "pulsar-meter", {"firmware": "1.2"}))
            sent = reader.receive(20_000)
            wait_until(lambda: OutgoingDownlink.objects.filter(integration_id=ids["live"],
                                                               status=DownlinkStatus.DELIVERED).exists(),
                       message="the DELIVERED status")
            dead, error, lifecycle = failure_of(ids["dead"])
    finally:
        reader_client.close()
    assert (json.loads(sent.data()), sent.partition_key()) == ({"firmware": "1.2"}, "pulsar-meter")
    expected = (f"Failed to connect to Pulsar at pulsar://127.0.0.1:{dead_port}: "
                f"127.0.0.1:{dead_port} connection refused")
    assert dead.last_error == expected and not dead.connected
    assert error.body["method"] == "connect" and error.body["error"] == expected
    assert counted["messagesProcessed"] == 1 and counted["errorsOccurred"] == 0
    assert [e.body["event"] for e in lifecycle][:1] == ["STARTED"]  # a refusal may pass: it keeps trying
