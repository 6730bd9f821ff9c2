"""The PUB_SUB integration against Google's pstest fake (not the Pub/Sub service nor Google's
emulator), built from Debian's golang-google-cloud-dev and reached through
``PUBSUB_EMULATOR_HOST`` (integrations/tests/peers.py). Pulling with ThingsBoard's metadata,
acknowledgement only after queueing, a listener SIGKILLed between receiving and queueing losing
nothing (Pub/Sub redelivers after the ack deadline), a restarted fake (same address, state lost)
reconnected to, downlinks read back, an unknown subscription and malformed keys refused clearly,
and the whole path from ``POST /api/integration`` through the listener host to stored telemetry
and back out as a downlink. Every test uses its own topics and subscriptions (random names).
"""

import asyncio
import json
import os
import time
import uuid

import pytest

from integrations.tests.brokers import RecordingSink, running, unique_name, wait_for_value, wait_until
from integrations.tests.brokers import run_async as run
from integrations.tests.listener_child import child_listener

pubsub_v1 = pytest.importorskip("google.cloud.pubsub_v1", reason="google-cloud-pubsub (requirements.txt) is missing")

from integrations.listeners.pubsub import PubSubListener, probe  # noqa: E402
from integrations.messages import Downlink  # noqa: E402
from integrations.tests.peers import Pstest  # noqa: E402
from integrations.types.base import ConfigError, IntegrationError  # noqa: E402
from integrations.types.pubsub import PubSubConfig, PubSubIntegration  # noqa: E402

PROJECT = "tb-test-project"


def service_account_key() -> str:
    """A service-account key file's JSON, with a fresh RSA key (Google's fake and emulator ignore it)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return json.dumps({"type": "service_account", "project_id": PROJECT, "private_key_id": uuid.uuid4().hex,
                       "private_key": pem, "client_email": f"tb@{PROJECT}.iam.gserviceaccount.com",
                       "client_id": "1", "token_uri": "https://oauth2.googleapis.com/token"}, indent=2)


KEY = service_account_key()


@pytest.fixture(scope="module")
def fake():
    """A pstest server for the module; PUBSUB_EMULATOR_HOST points Google's clients at it."""
    server = Pstest().start()
    previous = os.environ.get("PUBSUB_EMULATOR_HOST")
    os.environ["PUBSUB_EMULATOR_HOST"] = server.address
    yield server
    server.stop()
    if previous is None:
        os.environ.pop("PUBSUB_EMULATOR_HOST", None)
    else:
        os.environ["PUBSUB_EMULATOR_HOST"] = previous


def name(prefix: str = "tbg") -> str:
    return unique_name(prefix)


def create(topic: str, *subscriptions: str) -> None:
    publisher, subscriber = pubsub_v1.PublisherClient(), pubsub_v1.SubscriberClient()
    try:
        publisher.create_topic(name=publisher.topic_path(PROJECT, topic))
        for subscription in subscriptions:  # this pstest refuses deadlines under 10 s
            subscriber.create_subscription(name=subscriber.subscription_path(PROJECT, subscription),
                                           topic=publisher.topic_path(PROJECT, topic), ack_deadline_seconds=10)
    finally:
        subscriber.close()


def publish(topic: str, *payloads: bytes, **attributes) -> list[str]:
    publisher = pubsub_v1.PublisherClient()
    futures = [publisher.publish(publisher.topic_path(PROJECT, topic), p, **attributes) for p in payloads]
    return [f.result(timeout=10) for f in futures]


def pull(subscription: str, count: int = 1, timeout: float = 10.0) -> list:
    subscriber = pubsub_v1.SubscriberClient()
    path, got, deadline = subscriber.subscription_path(PROJECT, subscription), [], time.monotonic() + timeout
    try:
        while len(got) < count and time.monotonic() < deadline:
            answer = subscriber.pull(subscription=path, max_messages=count, timeout=5)
            got += [m.message for m in answer.received_messages]
            if answer.received_messages:
                subscriber.acknowledge(subscription=path, ack_ids=[m.ack_id for m in answer.received_messages])
        return got
    finally:
        subscriber.close()


def config(subscription: str, *, project: str = PROJECT, **client) -> dict:
    return {"clientConfiguration": {"projectId": project, "subscriptionId": subscription, "serviceAccountKey": KEY,
                                    "serviceAccountKeyFileName": "key.json", **client}}


def listening(configuration: dict, sink, *, health_every: float = 10.0):
    listener = PubSubListener(PubSubConfig.model_validate(configuration), sink,
                              metadata={"integrationName": "pubsub-test"}, integration_id="i-1")
    listener.health_every = health_every
    return running(listener)


def test_it_hands_on_messages_with_their_message_id_and_acknowledges_them_after_queueing(fake):
    topic, subscription = name(), name("s")
    create(topic, subscription)
    sink, again = RecordingSink(), RecordingSink()

    async def scenario():
        async with listening(config(subscription), sink) as listener:
            ids = await asyncio.to_thread(publish, topic, b'{"t": 1}', bytes([0, 200]), device="meter-1")
            await sink.wait_for(2)
            await wait_for_value(lambda: listener.acknowledged, 2)
        async with listening(config(subscription), again):
            await asyncio.sleep(1.0)  # nothing acknowledged is delivered again
        return ids

    ids = run(scenario())
    assert sorted(u.metadata["pubSubMsgId"] for u in sink.uplinks) == sorted(ids)
    first = next(u for u in sink.uplinks if u.payload == b'{"t": 1}')
    assert first.metadata == {"integrationName": "pubsub-test", "pubSubMsgId": first.metadata["pubSubMsgId"]}
    assert sorted(u.content_type for u in sink.uplinks) == ["BINARY", "JSON"] and first.integration_id == "i-1"
    assert {"connected": True, "error": ""} in sink.reports and again.uplinks == []


def test_nothing_is_acknowledged_while_the_queue_refuses_and_a_stopped_listener_loses_nothing(fake):
    topic, subscription = name(), name("s")
    create(topic, subscription)
    stuck, second = RecordingSink(), RecordingSink()

    async def scenario():
        stuck.block = asyncio.Event()
        async with listening(config(subscription), stuck) as listener:
            listener.stop_timeout = 0.3
            await asyncio.to_thread(publish, topic, b"precious")
            await wait_for_value(lambda: stuck.calls, 1)
        assert listener.acknowledged == 0
        async with listening(config(subscription), second) as listener:  # nacked: redelivered at once
            await second.wait_for(1)
            await wait_for_value(lambda: listener.acknowledged, 1)

    run(scenario())
    assert stuck.uplinks == [] and [u.payload for u in second.uplinks] == [b"precious"]


def test_a_listener_killed_between_receiving_and_queueing_loses_nothing(fake, tmp_path):
    """The first listener runs in a process of its own whose queue never answers; it is SIGKILLed
    holding the messages unacknowledged, and Pub/Sub hands them to the next one after the deadline."""
    topic, subscription = name(), name("s")
    create(topic, subscription)
    configuration = config(subscription)
    with child_listener("integrations.listeners.pubsub.PubSubListener", "integrations.types.pubsub.PubSubConfig",
                        configuration, tmp_path / "child", hold=True,
                        env={**os.environ, "PUBSUB_EMULATOR_HOST": fake.address}) as child:
        wait_until(child.connected, 60, message=f"the child to start ({child.log})")
        publish(topic, b"m-1", b"m-2")
        wait_until(child.payloads, 60, message=f"the child to receive ({child.log})")
    # SIGKILLed while the messages are received and not queued
    second = RecordingSink()

    async def scenario():
        async with listening(configuration, second) as listener:
            await second.wait_for(2, timeout=40)
            await wait_for_value(lambda: listener.acknowledged, 2)

    run(scenario(), 60)
    assert child.payloads()[0] in (b"m-1", b"m-2")  # the killed one held a batch, never queued
    assert sorted(u.payload for u in second.uplinks) == [b"m-1", b"m-2"]


def test_it_reconnects_when_the_fake_restarts_and_reports_it_meanwhile(fake):
    """pstest keeps no state across a restart: the test recreates topic and subscription, as an
    operator would after an outage; new messages then flow through the same listener."""
    topic, subscription = name(), name("s")
    create(topic, subscription)
    sink = RecordingSink()

    async def scenario():
        async with listening(config(subscription), sink, health_every=0.3) as listener:
            await asyncio.to_thread(publish, topic, b"before")
            await sink.wait_for(1)
            fake.stop()
            await wait_for_value(lambda: int(not listener.connected.is_set()), 1)
            await asyncio.to_thread(fake.start)
            await asyncio.to_thread(create, topic, subscription)
            await asyncio.wait_for(listener.connected.wait(), 30)
            await asyncio.to_thread(publish, topic, b"after")
            await sink.wait_for(2, timeout=30)

    try:
        run(scenario(), 90)
    finally:
        if fake.process is None or fake.process.poll() is not None:
            fake.start()
    assert [u.payload for u in sink.uplinks] == [b"before", b"after"]
    down = [r for r in sink.reports if r.get("connected") is False]
    assert down and down[0]["error"].startswith(f"Failed to subscribe to Pub/Sub projects/{PROJECT}/subscriptions/")
    assert sink.reports[-1] == {"connected": True, "error": ""}


def test_a_downlink_is_published_to_the_downlink_topic_with_the_metadata_as_attributes(fake):
    topic, subscription, down, reader = name(), name("s"), name("tbdown"), name("r")
    create(topic, subscription)
    create(down, reader)

    async def scenario():
        async with listening(config(subscription, downlinkTopicName=down), RecordingSink()) as listener:
            await listener.publish(Downlink("i-1", "meter-1", b'{"on": true}', "JSON",
                                            metadata={"deviceName": "meter-1", "timeout": "x"}))
        with pytest.raises(IntegrationError) as no_topic:
            async with listening(config(subscription), RecordingSink()) as listener:
                await listener.publish(Downlink("i-1", "meter-1", b"x", "TEXT"))
        with pytest.raises(IntegrationError) as unknown:
            async with listening(config(subscription, downlinkTopicName=name("nope")), RecordingSink()) as listener:
                await listener.publish(Downlink("i-1", "meter-1", b"x", "TEXT"))
        return no_topic.value, unknown.value

    no_topic, unknown = run(scenario())
    [sent] = pull(reader)
    assert (sent.data, dict(sent.attributes)) == (b'{"on": true}', {"deviceName": "meter-1"})
    assert no_topic.permanent and "no downlinkTopicName" in no_topic.message
    assert unknown.permanent and unknown.message.endswith("failed: the topic was not found")


def test_an_unknown_subscription_is_refused_by_check_and_fails_the_start(fake):
    missing = config(name("missing"))
    expected = (f"Failed to subscribe to Pub/Sub projects/{PROJECT}/subscriptions/"
                f"{missing['clientConfiguration']['subscriptionId']}: not found (check the project id and the "
                "subscription id)")
    with pytest.raises(IntegrationError) as refused:
        run(probe(PubSubConfig.model_validate(missing)))
    assert refused.value.message == expected and refused.value.permanent
    sink = RecordingSink()

    async def scenario():
        listener = PubSubListener(PubSubConfig.model_validate(missing), sink, metadata={}, integration_id="i-1")
        with pytest.raises(IntegrationError) as failed:
            await listener.start()
        await listener.stop()
        return failed.value

    failed = run(scenario())
    assert failed.message == expected and failed.permanent
    assert sink.reports == [{"connected": False, "error": expected}]
    topic, subscription = name(), name("s")
    create(topic, subscription)
    run(probe(PubSubConfig.model_validate(config(subscription))))  # an existing one passes


@pytest.mark.parametrize("key, error", [
    ("{not json", "the service account key is not JSON (line 1, column 2)"),
    ('{"type": "authorized_user"}', "is not a service-account key file"),
    ('{"type": "service_account", "private_key": "x"}', "lacks client_email, token_uri"),
    (json.dumps({**json.loads(KEY), "private_key": "-----BEGIN PRIVATE KEY-----\nc2VjcmV0\n-----END PRIVATE KEY-----"}),
     "private_key is not a valid PEM private key"),
])
def test_a_malformed_service_account_key_is_refused_without_quoting_it(key, error):
    with pytest.raises(ConfigError) as refused:
        PubSubIntegration.validate(config("s", serviceAccountKey=key))
    assert str(refused.value).startswith("configuration.clientConfiguration.serviceAccountKey: ")
    assert error in str(refused.value) and "c2VjcmV0" not in str(refused.value)


def test_the_configuration_requires_thingsboards_keys_and_the_key_is_secret():
    with pytest.raises(ConfigError, match="configuration.clientConfiguration: Field required"):
        PubSubIntegration.validate({})
    for key in ("projectId", "subscriptionId", "serviceAccountKey"):
        configuration = config("s")
        del configuration["clientConfiguration"][key]
        with pytest.raises(ConfigError, match=f"configuration.clientConfiguration.{key}: Field required"):
            PubSubIntegration.validate(configuration)
    parsed = PubSubConfig.model_validate(config("sub", downlinkTopicName="down")).clientConfiguration
    assert parsed.subscription_path == f"projects/{PROJECT}/subscriptions/sub"
    assert parsed.downlink_topic_path == f"projects/{PROJECT}/topics/down"
    assert PubSubConfig.model_validate(config("s", downlinkTopicName="projects/p/topics/t")
                                       ).clientConfiguration.downlink_topic_path == "projects/p/topics/t"
    masked = PubSubIntegration.masked(config("s"))
    assert masked["clientConfiguration"]["serviceAccountKey"] == "******"
    assert PubSubIntegration.keep_secrets(masked, config("s"))["clientConfiguration"]["serviceAccountKey"] == KEY


@pytest.mark.django_db
def test_the_check_endpoint_answers_an_unknown_subscription_and_a_malformed_key(api, tenant, fake):
    from integrations.tests.factories import make_uplink_converter
    from integrations.tests.hosted import check

    converter = make_uplink_converter(tenant)
    status, message = check(api, "PUB_SUB", converter, config("no-such-subscription"))
    assert status == 400 and message.endswith("no-such-subscription: not found (check the project id and the "
                                              "subscription id)")
    status, message = check(api, "PUB_SUB", converter, config("s", serviceAccountKey="{not json"))
    assert status == 400 and "serviceAccountKey: Value error, the service account key is not JSON" in message
    topic, subscription = name(), name("s")
    create(topic, subscription)
    assert check(api, "PUB_SUB", converter, config(subscription))[0] == 200


@pytest.mark.django_db
def test_the_integration_page_offers_the_guided_form_with_the_key_as_a_secret(client, tenant_admin):
    from integrations.tests.hosted import guided_form

    client.force_login(tenant_admin)
    secrets, fields = guided_form(client, "PUB_SUB")
    assert secrets == ["clientConfiguration.serviceAccountKey"]
    assert {"projectId", "subscriptionId", "serviceAccountKey", "serviceAccountKeyFileName",
            "downlinkTopicName"} <= fields


# --- through the API, the listener host and the pipeline -------------------------------------------

ENCODER = "return {contentType: 'JSON', data: JSON.stringify(msg), metadata: {device: metadata.deviceName}};"


@pytest.mark.django_db(transaction=True)
def test_an_integration_posted_as_thingsboard_json_stores_telemetry_sends_a_downlink_and_reports_a_refusal(
        api, tenant, fake):
    from integrations.downlinks import submit
    from integrations.models import DownlinkStatus, OutgoingDownlink
    from integrations.tests.downlinks import attributes_msg, make_encoder
    from integrations.tests.hosted import failure_of, hosting, post_integrations, statistics, stored, wait_connected
    from integrations.tests.uplinks import converter

    topic, subscription, down, reader, missing = name(), name("s"), name("tbdown"), name("r"), name("missing")
    create(topic, subscription)
    create(down, reader)
    decoder = converter(tenant)
    bad = {"name": "bad key", "type": "PUB_SUB",
           "defaultConverterId": {"entityType": "CONVERTER", "id": str(decoder.pk)},
           "configuration": config(subscription, serviceAccountKey='{"type": "service_account", "private_key": "p"}')}
    res = api.post("/api/integration", bad, format="json")
    assert res.status_code == 400 and "lacks client_email, token_uri" in res.json()["message"]
    ids = post_integrations(api, "PUB_SUB", decoder, make_encoder(tenant, ENCODER),
                            live=config(subscription, downlinkTopicName=down), dead=config(missing))
    with hosting(tenant):
        wait_connected(ids["live"])
        publish(topic, json.dumps({"name": "pubsub-meter", "telemetry": {"t": 7.5}}).encode())
        assert stored(tenant, "pubsub-meter", "t") == 7.5
        counted = statistics(ids["live"])
        submit(tenant.pk, ids["live"], attributes_msg(tenant, "pubsub-meter", {"firmware": "1.2"}))
        [sent] = pull(reader, timeout=20)
        wait_until(lambda: OutgoingDownlink.objects.filter(integration_id=ids["live"],
                                                           status=DownlinkStatus.DELIVERED).exists(),
                   message="the DELIVERED status")
        dead, error, _ = failure_of(ids["dead"])
        lifecycle = wait_until(lambda: failure_of(ids["dead"])[2], message="the FAILED lifecycle event")
    assert (json.loads(sent.data), dict(sent.attributes)) == ({"firmware": "1.2"}, {"device": "pubsub-meter"})
    expected = (f"Failed to subscribe to Pub/Sub projects/{PROJECT}/subscriptions/{missing}: not found "
                "(check the project id and the subscription id)")
    assert dead.last_error == expected and not dead.connected
    assert error.body["method"] == "connect" and error.body["error"] == expected
    assert counted["messagesProcessed"] == 1 and counted["errorsOccurred"] == 0
    assert (lifecycle[0].body["event"], lifecycle[0].body["status"], lifecycle[0].body["error"]) == (
        "FAILED", "Failure", expected)
