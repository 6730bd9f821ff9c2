"""A downlink fan-out to a fleet (issue 18): every device receives its message exactly once when
nothing fails, with a real Mosquitto and the real listener host, through the batched path.

Two shapes: one shared-attribute save per device through the API (what a user of ThingsBoard's
API does for a fleet), and one rule-engine batch holding a message per device (what the rules
task hands the engine once it coalesced many API requests), encoded before it is stored, as
the worker does it (tasks not eager for the downlink path)."""

import time
from collections import Counter

import pytest

pytest.importorskip("rulechains.services", reason="the rule engine (rulechains) is not there yet")

from devices.models import Device, DeviceProfile
from integrations.models import DownlinkStatus, Integration, OutgoingDownlink
from integrations.tests import test_downlinks_e2e as e2e
from integrations.tests.brokers import unique_topic, wait_until
from integrations.tests.downlinks import Subscriber, make_encoder
from integrations.tests.factories import make_integration
from rulechains import engine, nodes
from rulechains import messages as m
from rulechains.tests.helpers import install_root, node

pytestmark = pytest.mark.django_db(transaction=True)  # the host works in its own threads and connections
tenant, api, host = e2e.tenant, e2e.api, e2e.host  # the fixtures of the downlink example's end-to-end test

FLEET = 450  # more than two of the host's claims (200), fewer than Mosquitto queues for a subscriber (1,000)
ENCODER = ("return {contentType: 'TEXT', data: msg.firmware, "
           "metadata: {topic: integrationMetadata.prefix + '/' + metadata.deviceName + '/down'}};")


@pytest.fixture
def fleet(tenant, broker, host):
    """(integration, devices, prefix): a root chain switch -> downlink node, a connected MQTT integration."""
    prefix = unique_topic("fleet")
    configuration = {**broker.config(unique_topic("up") + "/+"), "metadata": {"prefix": prefix}}
    integration = make_integration(tenant, "Fleet downlinks", kind="MQTT", configuration=configuration,
                                   downlink_converter=make_encoder(tenant, ENCODER))
    install_root(tenant, [node(nodes.SWITCH, "switch"), node(nodes.INTEGRATION_DOWNLINK, "push",
                                                               integrationId=str(integration.pk))],
                 [(0, 1, "Attributes Updated")])
    profile = DeviceProfile.objects.get(tenant=tenant, is_default=True)
    devices = Device.objects.bulk_create([Device(tenant=tenant, name=f"unit-{i:04d}", profile=profile)
                                          for i in range(FLEET)])
    host()
    wait_until(lambda: Integration.objects.filter(pk=integration.pk, connected=True).exists(),
               message="the integration to connect")
    return integration, devices, prefix


def received_exactly_once(subscriber, prefix, devices, firmware: str) -> None:
    wait_until(lambda: len(subscriber.received) >= len(devices), timeout=60, message="every downlink")
    time.sleep(0.5)  # a duplicate would come right behind
    counts = Counter(subscriber.received)
    expected = {(f"{prefix}/{d.name}/down", firmware.encode()) for d in devices}
    assert set(counts) == expected, f"{len(set(counts) ^ expected)} topics differ"
    assert set(counts.values()) == {1}, [k for k, n in counts.items() if n != 1][:3]


def all_delivered(integration, count: int) -> bool:
    rows = OutgoingDownlink.objects.filter(integration=integration)
    return rows.count() == count and not rows.exclude(status=DownlinkStatus.DELIVERED).exists()


def test_it_delivers_one_save_per_device_through_the_api_exactly_once(fleet, api, broker):
    integration, devices, prefix = fleet
    devices = devices[:150]  # a request each, through the whole Django stack: enough to show it
    with Subscriber(broker, f"{prefix}/+/down") as subscriber:
        for device in devices:
            e2e.save_shared(api, device, firmware="4.2")
        received_exactly_once(subscriber, prefix, devices, "4.2")
    wait_until(lambda: all_delivered(integration, len(devices)), message="every row DELIVERED")


def test_it_delivers_a_rule_engine_batch_for_the_fleet_exactly_once(fleet, broker, tenant, as_in_a_worker):
    integration, devices, prefix = fleet
    msgs = [m.Msg(m.ATTRIBUTES_UPDATED, tenant.pk, "DEVICE", d.pk, {"firmware": "5.0"},
                  {"scope": "SHARED_SCOPE", "deviceName": d.name, "deviceType": "default"}) for d in devices]
    with Subscriber(broker, f"{prefix}/+/down") as subscriber:
        report = engine.process(msgs)
        assert (report.messages, report.failures, report.unrouted) == (len(devices), 0, 0)
        assert OutgoingDownlink.objects.filter(integration=integration, status=DownlinkStatus.QUEUED).count() == 0
        received_exactly_once(subscriber, prefix, devices, "5.0")
    wait_until(lambda: all_delivered(integration, len(devices)), message="every row DELIVERED")


def test_downlinks_to_one_device_in_one_batch_arrive_in_their_order(fleet, broker, tenant, as_in_a_worker):
    integration, devices, prefix = fleet
    device = devices[0]
    versions = [f"6.{n}" for n in range(40)]  # one batch: they share a created_ts, the ids keep the order
    msgs = [m.Msg(m.ATTRIBUTES_UPDATED, tenant.pk, "DEVICE", device.pk, {"firmware": v},
                  {"scope": "SHARED_SCOPE", "deviceName": device.name, "deviceType": "default"}) for v in versions]
    with Subscriber(broker, f"{prefix}/+/down") as subscriber:
        engine.process(msgs)
        wait_until(lambda: len(subscriber.received) >= len(versions), timeout=30, message="every downlink")
    assert [payload.decode() for _, payload in subscriber.received] == versions
