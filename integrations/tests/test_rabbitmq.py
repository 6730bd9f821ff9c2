"""The RabbitMQ integration against the machine's RabbitMQ (127.0.0.1:5672, guest/guest):
consumption with metadata, acknowledgement only after queueing, requeue on stop, exchange
binding, downlink publishing, check() failures, and the whole path to stored telemetry.

Every test uses its own queues and exchanges (random names) and deletes them afterwards.
"""

import asyncio
import contextlib
import json
import shutil
import socket
import subprocess
import uuid

import aio_pika
import pytest

from integrations.listeners.rabbitmq import RabbitMqListener, probe
from integrations.messages import Downlink
from integrations.tests.brokers import RecordingSink, free_port, wait_until
from integrations.types.base import ConfigError, IntegrationError
from integrations.types.rabbitmq import RabbitMqConfig, RabbitMqIntegration
from tbproject.testing.telemetry import forget_tenant_telemetry

HOST, PORT = "127.0.0.1", 5672


def _reachable() -> bool:
    try:
        socket.create_connection((HOST, PORT), 1).close()
        return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _reachable(), reason="RabbitMQ is not running on 127.0.0.1:5672 "
                                "(apt-get install rabbitmq-server; rabbitmq-server -detached)")


def run(coroutine):
    return asyncio.run(asyncio.wait_for(coroutine, 45))


def name(prefix: str = "tbq") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def config(queues: str, **client) -> dict:
    return {"clientConfiguration": {"host": HOST, "port": PORT, "virtualHost": "/", "username": "guest",
                                    "password": "guest", "queues": queues, "connectionTimeout": 5000,
                                    "handshakeTimeout": 5000, "durable": False, "exclusive": False,
                                    "autoDelete": False, **client}}


@pytest.fixture
def cleanup():
    """Queues and exchanges to delete after the test."""
    made = {"queues": [], "exchanges": []}
    yield made

    async def delete():
        async with await aio_pika.connect(host=HOST, port=PORT) as connection:
            channel = await connection.channel()
            for queue in made["queues"]:
                await channel.queue_delete(queue)
            for exchange in made["exchanges"]:
                await channel.exchange_delete(exchange)

    asyncio.run(delete())


async def publish(messages, *, queue: str = "", exchange: str = "", **properties) -> None:
    async with await aio_pika.connect(host=HOST, port=PORT) as connection:
        channel = await connection.channel()
        target = await channel.get_exchange(exchange) if exchange else channel.default_exchange
        for routing_key, body in messages:
            await target.publish(aio_pika.Message(body, **properties), routing_key=routing_key or queue)


async def count(queue: str) -> int:
    async with await aio_pika.connect(host=HOST, port=PORT) as connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        return declared.declaration_result.message_count


class SlowSink(RecordingSink):
    """Takes 5 ms per hand-over, as a write to the pipeline's queue does: messages that arrive
    meanwhile must form the next batch."""

    async def __call__(self, uplinks) -> None:
        await asyncio.sleep(0.005)
        await super().__call__(uplinks)


@contextlib.asynccontextmanager
async def listening(configuration: dict, sink: RecordingSink, *, stop_timeout: float = 5.0,
                    integration_id: str = "i-1"):
    listener = RabbitMqListener(RabbitMqConfig.model_validate(configuration), sink,
                                metadata={"integrationName": "rabbit-test"}, integration_id=integration_id)
    listener.stop_timeout = stop_timeout
    await listener.start()
    try:
        await asyncio.wait_for(listener.connected.wait(), 10)
        yield listener
    finally:
        await listener.stop()


def test_it_hands_on_messages_of_each_queue_with_metadata_and_acknowledges_them(cleanup):
    q1, q2 = name(), name()
    cleanup["queues"] += [q1, q2]
    sink = RecordingSink()

    async def scenario():
        async with listening(config(f"{q1}, {q2}", durable=True), sink):
            await publish([(q1, b'{"t": 1}')], content_type="application/json", message_id="m-1")
            await publish([(q2, b"plain"), (q2, bytes([0, 200]))])
            await sink.wait_for(3)
        return await count(q1), await count(q2)

    assert run(scenario()) == (0, 0)  # all acknowledged: nothing left in the queues
    first = next(u for u in sink.uplinks if u.metadata["queue"] == q1)
    assert first.payload == b'{"t": 1}' and first.content_type == "JSON" and first.integration_id == "i-1"
    assert first.metadata == {"integrationName": "rabbit-test", "queue": q1, "exchange": "", "routingKey": q1,
                              "contentType": "application/json", "messageId": "m-1"}
    assert sorted(u.content_type for u in sink.uplinks if u.metadata["queue"] == q2) == ["BINARY", "TEXT"]
    assert {"connected": True, "error": ""} in sink.reports


def test_it_binds_its_queues_to_the_exchange(cleanup):
    queue, exchange = name(), name("tbx")
    cleanup["queues"].append(queue)
    cleanup["exchanges"].append(exchange)
    sink = RecordingSink()

    async def scenario():
        async with await aio_pika.connect(host=HOST, port=PORT) as connection:
            channel = await connection.channel()
            await channel.declare_exchange(exchange, aio_pika.ExchangeType.DIRECT)
        async with listening(config(queue, exchangeName=exchange), sink):
            await publish([(queue, b"via exchange"), ("other-key", b"not for us")], exchange=exchange)
            await sink.wait_for(1)
            await asyncio.sleep(0.2)

    run(scenario())
    assert [(u.payload, u.metadata["exchange"], u.metadata["routingKey"]) for u in sink.uplinks] == [
        (b"via exchange", exchange, queue)]


def test_it_acknowledges_only_once_queued_and_requeues_on_stop(cleanup):
    """A listener stopped before the pipeline took the message rejects it with requeue: the next
    consumer gets it again."""
    queue = name()
    cleanup["queues"].append(queue)
    stuck, second = RecordingSink(), RecordingSink()

    async def scenario():
        stuck.block = asyncio.Event()  # the pipeline's queue never answers
        async with listening(config(queue), stuck, stop_timeout=0.3):
            await publish([(queue, b"precious")])
            while not stuck.calls:
                await asyncio.sleep(0.02)
            assert await count(queue) == 0  # delivered, unacknowledged
        async with listening(config(queue), second):
            await second.wait_for(1)
        return await count(queue)

    assert run(scenario()) == 0
    assert stuck.uplinks == [] and [u.payload for u in second.uplinks] == [b"precious"]


def test_it_retries_a_batch_the_queue_refused_and_acknowledges_it_after(cleanup):
    queue = name()
    cleanup["queues"].append(queue)
    sink, after = RecordingSink(fail=1), RecordingSink()

    async def scenario():
        async with listening(config(queue), sink):
            await publish([(queue, b"m1")])
            await sink.wait_for(1)
        async with listening(config(queue), after):
            await asyncio.sleep(0.5)
        return await count(queue)

    assert run(scenario()) == 0
    assert sink.calls == 2 and [u.payload for u in sink.uplinks] == [b"m1"] and after.uplinks == []
    assert any(r.get("error", "").startswith("Failed to queue uplinks: queue unavailable") for r in sink.reports)


def test_it_keeps_up_in_batches(cleanup):
    queue = name()
    cleanup["queues"].append(queue)
    sink = SlowSink()
    total = 2000

    async def scenario():
        async with await aio_pika.connect(host=HOST, port=PORT) as connection:
            await (await connection.channel()).declare_queue(queue)
        await publish([(queue, b"%d" % i) for i in range(total)])  # a backlog, delivered prefetch-wise
        async with listening(config(queue), sink):
            await sink.wait_for(total, timeout=30)
        return await count(queue)

    assert run(scenario()) == 0
    assert sorted(int(u.payload) for u in sink.uplinks) == list(range(total))
    assert sink.calls < total / 5


def _close_connection(connection_name: str) -> None:
    """Make the broker drop one client connection, found by its connection_name (rabbitmqctl)."""
    if shutil.which("rabbitmqctl") is None:
        pytest.skip("rabbitmqctl is not installed: cannot drop a connection from the broker side")
    listed = subprocess.run(["rabbitmqctl", "list_connections", "pid", "client_properties", "-q"],
                            capture_output=True, text=True, timeout=30)
    if listed.returncode != 0:
        pytest.skip(f"rabbitmqctl cannot list connections here: {listed.stderr.strip()[:200]}")
    for line in listed.stdout.splitlines():  # '<pid>\t[{...},{"connection_name","<name>"},...]'
        if f'{{"connection_name","{connection_name}"}}' in line:
            subprocess.run(["rabbitmqctl", "close_connection", line.split("\t", 1)[0], "test drops it", "-q"],
                           check=True, capture_output=True, timeout=30)
            return
    raise AssertionError(f"no connection named {connection_name} at the broker: {listed.stdout[:500]}")


def test_it_reconnects_and_consumes_again_after_the_broker_drops_the_connection(cleanup):
    queue, integration_id = name(), uuid.uuid4().hex
    cleanup["queues"].append(queue)
    sink = RecordingSink()

    async def scenario():
        async with listening(config(queue, durable=True), sink, integration_id=integration_id) as listener:
            await publish([(queue, b"before")])
            await sink.wait_for(1)
            await asyncio.to_thread(_close_connection, f"tbproject-integration-{integration_id}")
            while listener.connected.is_set():
                await asyncio.sleep(0.05)
            await asyncio.wait_for(listener.connected.wait(), 20)
            await publish([(queue, b"after")])
            await sink.wait_for(2)

    run(scenario())
    assert [u.payload for u in sink.uplinks] == [b"before", b"after"]
    lost = [r for r in sink.reports if r.get("connected") is False]
    assert lost and lost[0]["error"] == f"Connection to RabbitMQ at {HOST}:{PORT}/ lost"
    assert sink.reports[-1] == {"connected": True, "error": ""}


def test_a_downlink_is_published_with_downlink_topic_as_routing_key(cleanup):
    queue, target = name(), name("tbdown")
    cleanup["queues"] += [queue, target]

    async def scenario():
        async with await aio_pika.connect(host=HOST, port=PORT) as connection:
            channel = await connection.channel()
            await channel.declare_queue(target)
        async with listening(config(queue, downlinkTopic="tbdown-${suffix}"), RecordingSink()) as listener:
            await listener.publish(Downlink("i-1", "meter-1", b'{"on": true}', "JSON",
                                            metadata={"suffix": target.split("-", 1)[1]}))
            with pytest.raises(IntegrationError) as unrouted:
                await listener.publish(Downlink("i-1", "meter-1", b"x", "TEXT", metadata={"suffix": "nobody"}))
            with pytest.raises(IntegrationError) as no_key:
                await listener.publish(Downlink("i-1", "meter-1", b"x", "TEXT"))
        async with await aio_pika.connect(host=HOST, port=PORT) as connection:
            channel = await connection.channel()
            message = await (await channel.declare_queue(target, passive=True)).get(timeout=5)
            await message.ack()
        return message, unrouted.value, no_key.value

    message, unrouted, no_key = run(scenario())
    assert message.body == b'{"on": true}' and message.content_type == "application/json"
    assert message.delivery_mode == aio_pika.DeliveryMode.PERSISTENT
    assert "did not take the downlink for routing key 'tbdown-nobody'" in unrouted.message
    assert no_key.permanent and "needs metadata 'suffix'" in no_key.message


def test_check_names_wrong_credentials_a_dead_port_and_a_missing_exchange():
    def failure(configuration) -> IntegrationError:
        with pytest.raises(IntegrationError) as refused:
            run(probe(RabbitMqConfig.model_validate(configuration)))
        return refused.value

    bad_password = failure(config("q", password="wrong"))
    assert bad_password.permanent
    assert bad_password.message.startswith(f"Failed to connect to RabbitMQ at {HOST}:{PORT}/: authentication refused")
    port = free_port()
    dead = failure(config("q", port=port))
    assert dead.message.startswith(f"Failed to connect to RabbitMQ at {HOST}:{port}/: ") and not dead.permanent
    missing = failure(config("q", exchangeName=name("nope")))
    assert "NOT_FOUND" in missing.message and missing.permanent
    run(probe(RabbitMqConfig.model_validate(config("q"))))  # the good one passes


def test_the_configuration_is_validated_and_the_password_is_secret():
    with pytest.raises(ConfigError, match="configuration.clientConfiguration.queues"):
        RabbitMqIntegration.validate(config(" , "))
    with pytest.raises(ConfigError, match="configuration.clientConfiguration.port"):
        RabbitMqIntegration.validate(config("q", port=0))
    masked = RabbitMqIntegration.masked(config("q", password="s3cret"))
    assert masked["clientConfiguration"]["password"] == "******"
    parsed = RabbitMqConfig.model_validate(config("a, b,a", virtualHost=""))
    assert parsed.clientConfiguration.queue_names == ["a", "b"] and parsed.clientConfiguration.virtualHost == "/"


@pytest.mark.django_db
def test_the_check_endpoint_answers_with_the_brokers_refusal(api, tenant):
    from integrations.tests.factories import make_uplink_converter

    converter = make_uplink_converter(tenant)
    body = {"name": "Rabbit", "type": "RABBITMQ", "defaultConverterId": {"entityType": "CONVERTER",
                                                                         "id": str(converter.pk)},
            "configuration": config("q", password="wrong")}
    res = api.post("/api/integration/check", body, format="json")
    assert res.status_code == 400 and "authentication refused" in json.dumps(res.json())
    body["configuration"] = config("q")
    assert api.post("/api/integration/check", body, format="json").status_code == 200


# --- through the listener host and the pipeline ----------------------------------------------------

@pytest.mark.django_db(transaction=True)
def test_a_message_becomes_stored_telemetry_through_the_host(cleanup, transactional_db):
    from devices.models import Device
    from devices.telemetry import latest
    from integrations.models import Integration
    from integrations.runner import Runner, RunnerThread
    from integrations.tests.factories import make_integration
    from tbproject.celery import app as celery_app
    from tenants.models import Tenant

    queue = name()
    cleanup["queues"].append(queue)
    tenant = Tenant.objects.create(title="Rabbit Co")
    integration = make_integration(tenant, "Rabbit in", kind="RABBITMQ", configuration=config(queue, durable=True))
    eager, celery_app.conf.task_always_eager = celery_app.conf.task_always_eager, True
    host = RunnerThread(Runner(lease_seconds=3, poll_seconds=0.3)).start()
    try:
        wait_until(lambda: Integration.objects.filter(pk=integration.pk, connected=True).exists(),
                   message="the integration to connect")
        asyncio.run(publish([(queue, json.dumps({"id": "rabbit-meter", "t": 7.5}).encode())]))
        device = wait_until(lambda: Device.objects.filter(tenant=tenant, name="rabbit-meter").first(),
                            message="the device")
        stored = wait_until(lambda: latest(device.pk, ["t"]), message="the telemetry")
        assert {key: value for key, (_, value) in stored.items()} == {"t": 7.5}
        wait_until(lambda: asyncio.run(count(queue)) == 0, message="the acknowledgement")
    finally:
        host.stop()
        celery_app.conf.task_always_eager = eager
        _delete_telemetry(tenant)


def _delete_telemetry(tenant) -> None:
    forget_tenant_telemetry(tenant)
