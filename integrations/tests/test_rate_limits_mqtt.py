"""A listener over its rate limit pauses instead of dropping (issue 19, item 4), against a real
Mosquitto: the batcher waits at the sink's gate (integrations/sink.py), so QoS 1 messages stay
unacknowledged and the broker holds the rest; a listener stopped while paused leaves them to
the next session, and every message arrives."""

import asyncio
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from converters.choices import EventType
from converters.models import DebugEvent
from integrations import throttle
from integrations.sink import RunnerSink
from integrations.tests.brokers import RecordingSink, publish, unique_topic
from integrations.tests.factories import make_integration
from integrations.tests.test_mqtt_listener import listening
from tbproject.testing.limits import limit_tenant
from tenants import limits

pytestmark = pytest.mark.django_db(transaction=True)


class GatedSink(RecordingSink):
    """Records like RecordingSink, behind the real host sink's rate-limit gate."""

    def __init__(self, integration):
        super().__init__()
        self.pool = ThreadPoolExecutor(1)
        self.host = None
        self.integration = integration
        self.times: list[float] = []

    async def admit(self, n: int) -> int:
        if self.host is None:
            self.host = RunnerSink(self.integration, loop=asyncio.get_running_loop(), uplink_executor=self.pool,
                                   control_executor=self.pool)
        return await self.host.admit(n)

    def close(self) -> None:
        self.pool.submit(lambda: connection.close()).result()  # the database can be dropped after the test
        self.pool.shutdown()

    async def __call__(self, uplinks) -> None:
        self.times.extend(time.monotonic() for _ in uplinks)
        await super().__call__(uplinks)


@pytest.fixture(autouse=True)
def _fresh():
    limits.reset()
    throttle.EPISODES.reset()


def test_a_listener_over_its_limit_pauses_and_resumes_without_losing_a_message(broker, tenant):
    limit_tenant(tenant, integrationMsgsPerIntegrationRateLimit="4:1")
    integration = make_integration(tenant, "paced", kind="MQTT")
    topic, client_id = unique_topic(), f"paced-{uuid.uuid4().hex[:8]}"
    config = broker.config(topic, qos=1, cleanSession=False)
    first, second = GatedSink(integration), GatedSink(integration)
    sent = [b"m%02d" % i for i in range(16)]

    async def scenario():
        async with listening(config, first, client_id=client_id, stop_timeout=0.2):
            started = time.monotonic()
            await publish(broker, [(topic, payload) for payload in sent], qos=1)
            await first.wait_for(6)
            elapsed = time.monotonic() - started
        # stopped while paused: what was not handed on was never acknowledged
        async with listening(config, second, client_id=client_id):
            await second.wait_for(len(sent) - len(first.uplinks), timeout=20)
        return elapsed

    try:
        elapsed = asyncio.run(asyncio.wait_for(scenario(), 60))
    finally:
        first.close()
        second.close()
    received = [u.payload for u in first.uplinks + second.uplinks]
    assert set(received) == set(sent)  # nothing lost (a redelivered duplicate would be allowed)
    assert len(first.uplinks) < len(sent)  # the first listener was paused, not draining everything
    assert elapsed >= 0.4  # 4 at once, then one every 250 ms: the 6th cannot come before 0.5 s
    assert max(first.times[:6]) - min(first.times[:6]) >= 0.4
    throttle.EPISODES.flush()
    events = list(DebugEvent.objects.filter(entity_id=integration.pk, event_type=EventType.LC_EVENT)
                  .values_list("body", flat=True))
    suspended = [e for e in events if e["event"] == "SUSPENDED"]
    assert suspended and "integrationMsgsPerIntegrationRateLimit (4:1)" in suspended[0]["error"]


def test_without_a_limit_the_gate_lets_whole_batches_through(broker, tenant):
    integration = make_integration(tenant, "free", kind="MQTT")
    topic = unique_topic()
    sink = GatedSink(integration)

    async def scenario():
        async with listening(broker.config(topic, qos=1), sink):
            await publish(broker, [(topic, b"%d" % i) for i in range(200)], qos=1)
            await sink.wait_for(200)

    try:
        asyncio.run(asyncio.wait_for(scenario(), 60))
    finally:
        sink.close()
    assert sorted(int(u.payload) for u in sink.uplinks) == list(range(200))
    assert sink.calls < 50
