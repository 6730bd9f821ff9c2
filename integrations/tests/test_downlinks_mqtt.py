"""MQTT downlinks end to end with a real Mosquitto and the real listener host: submit -> encoder
(inline) -> the host that runs the integration -> a QoS 1 publish a subscriber receives; failures
and retries stay visible. The host runs in a thread of the test process, as in ``serve``."""

import json

import pytest

from converters.choices import EventType
from converters.models import DebugEvent
from integrations.downlinks import submit
from integrations.models import DownlinkStatus, Integration, OutgoingDownlink
from integrations.runner import Runner, RunnerThread
from integrations.tests.brokers import unique_topic, wait_until
from integrations.tests.downlinks import TOPIC_ENCODER, Subscriber, attributes_msg, make_encoder
from integrations.tests.factories import make_integration
from tbproject.testing.telemetry import forget_tenant_telemetry
from tenants.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)  # the host works in its own threads and connections
S = DownlinkStatus


@pytest.fixture
def tenant(transactional_db):
    tenant = Tenant.objects.create(title="Downlink Co")
    yield tenant
    forget_tenant_telemetry(tenant)


@pytest.fixture
def host():
    threads = []

    def start() -> Runner:
        runner = Runner(lease_seconds=3, poll_seconds=0.3)
        runner.outbox.poll = 0.3
        threads.append(RunnerThread(runner).start())
        assert runner.started.wait(10), "the host did not look at the database"
        return runner

    yield start
    for thread in threads:
        thread.stop()


def mqtt(tenant, broker, *, encoder=TOPIC_ENCODER, pattern=None, name="MQTT downlinks"):
    configuration = broker.config(unique_topic("up") + "/+")
    if pattern is not None:
        configuration["downlinkTopicPattern"] = pattern
    return make_integration(tenant, name, kind="MQTT", configuration=configuration,
                            downlink_converter=make_encoder(tenant, encoder))


def connected(integration) -> bool:
    return Integration.objects.filter(pk=integration.pk, connected=True).exists()


def statuses(integration) -> list[str]:
    return list(OutgoingDownlink.objects.filter(integration=integration).order_by("created_ts")
                .values_list("status", flat=True))


def test_a_downlink_reaches_the_topic_built_from_the_encoders_metadata(tenant, broker, host):
    device_type = unique_topic("thermostat").replace("/", "-")
    integration = mqtt(tenant, broker)  # downlinkTopicPattern defaults to ${topic}
    host()
    wait_until(lambda: connected(integration), message="the integration to connect")
    with Subscriber(broker, f"{device_type}/+/upload") as subscriber:
        submit(tenant.pk, integration.pk, attributes_msg(tenant, "dev-1", {"firmware": "1.2"}, device_type=device_type))
        wait_until(lambda: subscriber.received, message="the downlink publish")
    assert subscriber.received == [(f"{device_type}/dev-1/upload", b'{"version":"1.2"}')]
    wait_until(lambda: statuses(integration) == [S.DELIVERED], message="the DELIVERED status")
    row = OutgoingDownlink.objects.get(integration=integration)
    assert row.attempts == 1 and row.delivered_ts and row.error == ""


def test_a_pattern_resolves_placeholders_and_many_downlinks_pass_the_send_window(tenant, broker, host):
    prefix = unique_topic("cmd")
    encoder = "return {contentType: 'TEXT', data: '' + msg.n, metadata: {dev: metadata.deviceName}};"
    integration = mqtt(tenant, broker, encoder=encoder, pattern=prefix + "/${dev}/set")
    host()
    wait_until(lambda: connected(integration), message="the integration to connect")
    count = 60  # more than Mosquitto's Receive Maximum (20): gmqtt would raise OverflowError unwindowed
    with Subscriber(broker, f"{prefix}/#") as subscriber:
        for n in range(count):
            submit(tenant.pk, integration.pk, attributes_msg(tenant, f"d{n % 3}", {"n": n}))
        wait_until(lambda: len(subscriber.received) >= count, timeout=20, message="every publish")
    assert sorted(int(p) for _, p in subscriber.received) == list(range(count))
    assert {t for t, _ in subscriber.received} == {f"{prefix}/d{i}/set" for i in range(3)}
    wait_until(lambda: set(statuses(integration)) == {S.DELIVERED}, message="all DELIVERED")


def test_an_unresolvable_topic_fails_at_once_with_its_error_and_a_debug_event(tenant, broker, host):
    integration = mqtt(tenant, broker, pattern="devices/${nothere}/down")
    Integration.objects.filter(pk=integration.pk).update(debug_failures_enabled=True)
    host()
    wait_until(lambda: connected(integration), message="the integration to connect")
    submit(tenant.pk, integration.pk, attributes_msg(tenant))
    wait_until(lambda: statuses(integration) == [S.FAILED], message="the FAILED status")
    row = OutgoingDownlink.objects.get(integration=integration)
    assert "no 'nothere'" in row.error and row.attempts == 1
    event = wait_until(lambda: DebugEvent.objects.filter(entity_id=integration.pk, is_error=True,
                                                         event_type=EventType.DEBUG_INTEGRATION).first(),
                       message="the failure event")
    assert event.body["type"] == "Downlink" and "nothere" in event.body["error"]
    assert json.loads(event.body["metadata"]) == {"topic": "thermostat/dev-1/upload"}  # what the encoder said


def test_a_downlink_sent_while_the_broker_is_down_is_retried_until_it_gets_through(tenant, make_broker, host,
                                                                                  settings):
    settings.DOWNLINK_RETRY_SECONDS = 1
    broker = make_broker().start()
    encoder = "return {data: 'ping', metadata: {topic: 'down/' + metadata.deviceName}};"
    integration = mqtt(tenant, broker, encoder=encoder)
    host()
    wait_until(lambda: connected(integration), message="the integration to connect")
    broker.kill()
    wait_until(lambda: not connected(integration), message="the integration to notice")
    submit(tenant.pk, integration.pk, attributes_msg(tenant, "dev-9"))
    row = wait_until(lambda: OutgoingDownlink.objects.filter(integration=integration, attempts__gte=1,
                                                             status=S.PENDING).first(), message="a failed attempt")
    assert "Not connected to MQTT broker" in row.error
    broker.start()
    with Subscriber(broker, "down/#") as subscriber:
        wait_until(lambda: subscriber.received, timeout=30, message="the retried publish")
    assert subscriber.received[0] == ("down/dev-9", b"ping")
    wait_until(lambda: statuses(integration) == [S.DELIVERED], message="the DELIVERED status")


def test_a_downlink_that_exhausts_its_attempts_stays_visible_as_failed(tenant, make_broker, host, settings):
    settings.DOWNLINK_RETRY_SECONDS, settings.DOWNLINK_MAX_ATTEMPTS = 0, 2
    broker = make_broker().start()
    integration = mqtt(tenant, broker)
    host()
    wait_until(lambda: connected(integration), message="the integration to connect")
    broker.kill()
    wait_until(lambda: not connected(integration), message="the integration to notice")
    submit(tenant.pk, integration.pk, attributes_msg(tenant))
    wait_until(lambda: statuses(integration) == [S.FAILED], timeout=20, message="the FAILED status")
    row = OutgoingDownlink.objects.get(integration=integration)
    assert row.attempts == 2 and "gave up after 2 attempts" in row.error and json.loads(bytes(row.payload))
