"""How the listener host learns of a new downlink when the encoder ran in another process:
Redis pub/sub (REDIS_URL), and the poll when nothing announces it. The in-process wake-up that
embedded mode uses is switched off here, so only the mechanism under test can deliver."""

import os

import pytest

from integrations.downlinks import notify, submit
from integrations.models import DownlinkStatus, Integration, OutgoingDownlink
from integrations.runner import Runner, RunnerThread
from integrations.tests.brokers import unique_topic, wait_until
from integrations.tests.downlinks import Subscriber, attributes_msg, make_encoder
from integrations.tests.factories import make_integration
from tenants.models import Tenant

pytestmark = pytest.mark.django_db(transaction=True)
ENCODER = "return {data: 'hi ' + metadata.deviceName, metadata: {topic: 'wake/' + metadata.deviceName}};"


@pytest.fixture
def tenant(transactional_db):
    return Tenant.objects.create(title="Wake-up Co")


@pytest.fixture
def host(monkeypatch):
    threads = []

    def start(outbox_poll: float) -> Runner:
        runner = Runner(lease_seconds=3, poll_seconds=0.3)
        runner.outbox.poll = outbox_poll
        threads.append(RunnerThread(runner).start())
        assert runner.started.wait(10)
        notify.unregister(runner.outbox)  # as if the encoder ran in a worker process
        return runner

    yield start
    for thread in threads:
        thread.stop()


def setup(tenant, broker, host, poll: float):
    integration = make_integration(tenant, "MQTT", kind="MQTT", configuration=broker.config(unique_topic() + "/+"),
                                   downlink_converter=make_encoder(tenant, ENCODER))
    runner = host(poll)
    wait_until(lambda: Integration.objects.filter(pk=integration.pk, connected=True).exists(), message="connected")
    runner.outbox.wake()  # the look after the start: nothing waits yet
    return integration


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (REDIS_URL) for pub/sub")
def test_redis_pub_sub_wakes_the_host_of_another_process(tenant, broker, host):
    integration = setup(tenant, broker, host, poll=3600)  # the poll would never come in time
    with Subscriber(broker, "wake/#") as subscriber:
        submit(tenant.pk, integration.pk, attributes_msg(tenant, "dev-r"))
        wait_until(lambda: subscriber.received, timeout=15, message="the publish woken by Redis")
    assert subscriber.received == [("wake/dev-r", b"hi dev-r")]


def test_without_announcements_the_poll_delivers(tenant, broker, host, settings):
    settings.REDIS_URL = ""
    integration = setup(tenant, broker, host, poll=0.5)
    with Subscriber(broker, "wake/#") as subscriber:
        submit(tenant.pk, integration.pk, attributes_msg(tenant, "dev-p"))
        wait_until(lambda: subscriber.received, timeout=15, message="the publish found by the poll")
    assert subscriber.received == [("wake/dev-p", b"hi dev-p")]
    wait_until(lambda: OutgoingDownlink.objects.filter(status=DownlinkStatus.DELIVERED).count() == 1,
               message="DELIVERED")
