"""AZURE_EVENT_HUB and AZURE_SERVICE_BUS on the Azure SDKs, against a mocked cloud.

Mocked cloud: no Azure service can run here, so fakes of EventHubConsumerClient and
ServiceBusClient (integrations/tests/azure_cloud.py) stand at the adapter boundary and hand the
listener the SDK's own EventData / ServiceBusReceivedMessage, decoded by the SDK from recorded
AMQP 1.0 messages. What is tested is our wiring: connection string, consumer group and
checkpoint store handed to the SDK, metadata of each message, checkpoints (in our database) and
completions only after queueing, a restart resuming from the checkpoint, a lost connection, a
refused key, downlinks. The AMQP 1.0 transport itself is tested for real in test_azure_amqp10.py.
"""

import asyncio

import pytest

from integrations.listeners import azure_sdk
from integrations.listeners.azure import EventHubListener, ServiceBusListener, probe_event_hub, probe_service_bus
from integrations.messages import Downlink
from integrations.tests.azure_cloud import RECORDED, EventHubCloud, ServiceBusCloud
from integrations.tests.brokers import RecordingSink, running
from integrations.types.azure_event_hub import AzureEventHubIntegration, EventHubConfig
from integrations.types.azure_service_bus import AzureServiceBusIntegration, ServiceBusConfig
from integrations.types.base import ConfigError, IntegrationError

NAMESPACE = RECORDED["eventhub"]["namespace"]
KEY = "c2VjcmV0LWtleS1mb3ItdGVzdHM="


def cs(key: str = KEY, entity: str = "tb-hub") -> str:
    text = f"Endpoint=sb://{NAMESPACE}/;SharedAccessKeyName=iothubowner;SharedAccessKey={key}"
    return f"{text};EntityPath={entity}" if entity else text


def run(coroutine, timeout: float = 30):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


@pytest.fixture
def event_hub(monkeypatch):
    cloud = EventHubCloud(KEY)
    monkeypatch.setitem(azure_sdk.CLIENTS, "eventhub", cloud.client_class())
    return cloud


@pytest.fixture
def service_bus(monkeypatch):
    cloud = ServiceBusCloud(KEY, "uplinks", "tb-sub")
    monkeypatch.setitem(azure_sdk.CLIENTS, "servicebus", cloud.client_class())
    return cloud


def hub_config(key: str = KEY, **client) -> EventHubConfig:
    return EventHubConfig.model_validate({"clientConfiguration": {"connectionString": cs(key), "consumerGroup":
                                                                  "tb-group", "connectTimeoutSec": 5, **client}})


def bus_config(key: str = KEY, **client) -> ServiceBusConfig:
    return ServiceBusConfig.model_validate({"clientConfiguration": {
        "connectionString": cs(key, ""), "topicName": "uplinks", "subName": "tb-sub", **client}})


def listening(listener_class, config, sink, integration_id: str, *, stop_timeout: float = 5.0):
    return running(listener_class(config, sink, metadata={"integrationName": "azure-sdk"},
                                  integration_id=integration_id), stop_timeout=stop_timeout)


@pytest.fixture
def hub_integration(transactional_db, tenant):
    from integrations.tests.factories import make_integration

    return make_integration(tenant, "Event Hub", kind="AZURE_EVENT_HUB",
                            configuration=hub_config().model_dump())


def checkpoints(integration) -> dict:
    from integrations.models import EventHubCheckpoint

    return {row.partition_id: (row.sequence_number, row.offset, row.consumer_group, row.eventhub, row.namespace)
            for row in EventHubCheckpoint.objects.filter(integration=integration)}


def test_event_hub_events_become_uplinks_with_metadata_and_are_checkpointed_once_queued(event_hub, hub_integration):
    sink = RecordingSink()

    async def scenario():
        async with listening(EventHubListener, hub_config(), sink, str(hub_integration.pk)):
            await sink.wait_for(5)
            await asyncio.sleep(0.2)

    run(scenario())
    client = event_hub.clients[-1]
    assert client.consumer_group == "tb-group" and isinstance(client.store, azure_sdk.DbCheckpointStore)
    assert client.cs.entity_path == "tb-hub"
    first = sink.uplinks[0]
    assert first.payload == b'{"devName": "TB-D-01", "msg": {"temp": 40, "humidity": 70}}'
    assert first.content_type == "JSON"
    assert first.metadata["integrationName"] == "azure-sdk" and first.metadata["partitionId"] == "0"
    assert first.metadata["iothub-connection-device-id"] == "TB-D-01"
    assert first.metadata["x-opt-sequence-number"] == "10" and first.metadata["x-opt-offset"] == "9216"
    assert first.metadata["x-opt-enqueued-time"] == "1764960010007" and first.metadata["alert"] == "none"
    assert first.metadata["contentType"] == "application/json" and first.metadata["messageId"]
    assert checkpoints(hub_integration) == {"0": (12, "10240", "tb-group", "tb-hub", NAMESPACE),
                                            "1": (11, "9728", "tb-group", "tb-hub", NAMESPACE)}


def test_a_restart_resumes_after_the_checkpoint_and_events_not_queued_are_read_again(event_hub, hub_integration):
    from azure.eventhub import EventData

    stuck, second, third = RecordingSink(), RecordingSink(), RecordingSink()

    async def scenario():
        stuck.block = asyncio.Event()  # the pipeline's queue never answers: nothing may be checkpointed
        async with listening(EventHubListener, hub_config(), stuck, str(hub_integration.pk), stop_timeout=0.3):
            while not stuck.calls:
                await asyncio.sleep(0.02)
        assert await asyncio.to_thread(checkpoints, hub_integration) == {}
        async with listening(EventHubListener, hub_config(), second, str(hub_integration.pk)):
            await second.wait_for(5)
            await asyncio.sleep(0.2)
        newer = EventData(b'{"devName": "TB-D-01", "msg": {"temp": 50}}')
        newer.raw_amqp_message.annotations = {b"x-opt-sequence-number": 13, b"x-opt-offset": b"10752"}
        event_hub.partitions["0"].append(newer)
        async with listening(EventHubListener, hub_config(), third, str(hub_integration.pk)):
            await third.wait_for(1)
            await asyncio.sleep(0.3)

    run(scenario())
    assert stuck.uplinks == [] and len(second.uplinks) == 5
    assert [u.payload for u in third.uplinks] == [b'{"devName": "TB-D-01", "msg": {"temp": 50}}']
    assert checkpoints(hub_integration)["0"][:2] == (13, "10752")


def test_a_lost_connection_is_reported_and_the_listener_resumes_without_loss(event_hub, hub_integration):
    event_hub.drop_after = 1  # the first batch arrives, then the service drops the link
    sink = RecordingSink()

    async def scenario():
        async with listening(EventHubListener, hub_config(), sink, str(hub_integration.pk)) as listener:
            while not any(r.get("connected") is False for r in sink.reports):
                await asyncio.sleep(0.02)
            await asyncio.wait_for(listener.connected.wait(), 10)
            await sink.wait_for(5)

    run(scenario())
    assert sorted(u.metadata["x-opt-sequence-number"] for u in sink.uplinks) == ["10", "10", "11", "11", "12"]
    lost = next(r for r in sink.reports if r.get("connected") is False)
    assert lost["error"] == (f"Failed to receive from Azure Event Hub at {NAMESPACE}/tb-hub: "
                             "the link was detached by the service")
    assert sink.reports[-1] == {"connected": True, "error": ""}


def test_a_wrong_key_is_a_clear_permanent_error(event_hub, service_bus):
    with pytest.raises(IntegrationError) as hub:
        run(probe_event_hub(hub_config(key="d3Jvbmc=")))
    assert hub.value.permanent and hub.value.message.startswith(
        f"Failed to connect to Azure Event Hub at {NAMESPACE}/tb-hub: authentication refused")
    run(probe_event_hub(hub_config()))
    with pytest.raises(IntegrationError) as bus:
        run(probe_service_bus(bus_config(key="d3Jvbmc=")))
    assert bus.value.permanent and "authentication refused" in bus.value.message
    with pytest.raises(IntegrationError, match="could not be found") as missing:
        run(probe_service_bus(bus_config(subName="nope")))
    assert missing.value.permanent
    run(probe_service_bus(bus_config()))
    assert len(service_bus.available) == 3 and not service_bus.locked  # the check only peeked


def test_service_bus_messages_are_completed_once_queued_and_given_back_on_stop(service_bus):
    stuck, sink = RecordingSink(), RecordingSink()

    async def scenario():
        stuck.block = asyncio.Event()
        async with listening(ServiceBusListener, bus_config(), stuck, "i-1", stop_timeout=0.3):
            while not stuck.calls:
                await asyncio.sleep(0.02)
        assert len(service_bus.available) == 3 and service_bus.completed == []
        async with listening(ServiceBusListener, bus_config(), sink, "i-1"):
            await sink.wait_for(3)
            await asyncio.sleep(0.2)

    run(scenario())
    assert len(service_bus.completed) == 3 and service_bus.available == [] and service_bus.locked == []
    first = sink.uplinks[0]
    assert first.payload == b'{"devName": "Sensor A1", "msg": {"temp": 23, "humidity": 40}}'
    assert first.metadata == {"integrationName": "azure-sdk", "deviceId": "Sensor A1", "n": "0",
                              "topicName": "uplinks", "subscriptionName": "tb-sub", "sequenceNumber": "100",
                              "enqueuedTime": "1764960000000", "messageId": "sb-0",
                              "correlationId": "corr-7", "contentType": "application/json", "subject": "telemetry"}


def test_service_bus_dropping_the_connection_is_reported_and_nothing_is_lost(service_bus):
    sink = RecordingSink()

    async def scenario():
        service_bus.drop_next = True  # the first receive fails: the namespace restarts
        listener = ServiceBusListener(bus_config(), sink, metadata={}, integration_id="i-1")
        await listener.start()
        try:
            await asyncio.wait_for(listener.connected.wait(), 10)
            await sink.wait_for(3)
            await asyncio.sleep(0.2)
        finally:
            await listener.stop()

    run(scenario())
    assert sink.reports[0] == {"connected": False, "error": "Failed to receive from Azure Service Bus at "
                                                            f"{NAMESPACE}/uplinks/tb-sub: Connection to the service "
                                                            "was lost"}
    assert sink.reports[-1] == {"connected": True, "error": ""}
    assert len(service_bus.completed) == 3 and not service_bus.available and not service_bus.locked


def test_a_service_bus_downlink_is_sent_to_the_downlink_topic(service_bus):
    async def scenario():
        async with listening(ServiceBusListener, bus_config(downlinkTopicName="commands"), RecordingSink(),
                             "i-1") as listener:
            await listener.publish(Downlink("i-1", "Sensor A1", b'{"on": true}', "JSON",
                                            metadata={"deviceId": "Sensor A1"}))
        async with listening(ServiceBusListener, bus_config(), RecordingSink(), "i-1") as listener:
            with pytest.raises(IntegrationError, match="no downlinkTopicName"):
                await listener.publish(Downlink("i-1", "Sensor A1", b"x", "TEXT"))

    run(scenario())
    [sent] = service_bus.sent["commands"]
    assert b"".join(sent.body) == b'{"on": true}' and sent.content_type == "application/json"
    assert sent.application_properties == {"deviceId": "Sensor A1"}


def test_the_configurations_have_thingsboards_keys_defaults_and_write_only_secrets():
    hub = EventHubConfig.model_validate({"clientConfiguration": {"connectionString": cs()}}).clientConfiguration
    assert (hub.consumerGroup, hub.connectTimeoutSec, hub.iotHubName, hub.enablePersistentCheckpoints) == (
        "$Default", 10, "", False)
    with pytest.raises(ConfigError, match="needs EntityPath"):
        AzureEventHubIntegration.validate({"clientConfiguration": {"connectionString": cs(entity="")}})
    with pytest.raises(ConfigError, match="has no Endpoint"):
        AzureServiceBusIntegration.validate({"clientConfiguration": {"connectionString": "SharedAccessKey=x",
                                                                     "topicName": "t", "subName": "s"}})
    with pytest.raises(ConfigError, match="needs SharedAccessKeyName and SharedAccessKey"):
        AzureServiceBusIntegration.validate({"clientConfiguration": {"connectionString": f"Endpoint=sb://{NAMESPACE}/",
                                                                     "topicName": "t", "subName": "s"}})
    masked = AzureEventHubIntegration.masked({"clientConfiguration": {"connectionString": cs(),
                                                                      "storageConnectionString": "x"}})
    assert masked["clientConfiguration"] == {"connectionString": "******", "storageConnectionString": "******"}
    masked = AzureServiceBusIntegration.masked({"clientConfiguration": {"connectionString": cs(),
                                                                        "downlinkConnectionString": cs()}})
    assert set(masked["clientConfiguration"].values()) == {"******"}


def test_a_configuration_the_source_cannot_use_is_reported_not_swallowed(service_bus):
    sink = RecordingSink()

    async def scenario():
        listener = ServiceBusListener(bus_config(subName=""), sink, metadata={}, integration_id="i-1")
        await listener.start()
        while not sink.reports:
            await asyncio.sleep(0.02)
        await listener.stop()

    run(scenario())
    assert sink.reports[0] == {"connected": False,
                               "error": "Azure Service Bus integration needs subName (the topic's subscription)"}


def test_iot_hub_downlinks_connect_as_the_policy_with_a_sas_token_of_its_key():
    """Azure IoT Hub's AMQP service endpoint: SASL PLAIN, user ``{policy}@sas.root.{hub}``, password
    a SAS token of the hub host signed with the (base64) policy key, ``skn`` the policy name."""
    import base64
    import hashlib
    import hmac
    import urllib.parse

    from integrations.listeners.azure import c2d_endpoint
    from integrations.types.azure_bus import ConnectionString

    endpoint, address = c2d_endpoint(ConnectionString.parse(cs()), "my-hub")
    assert (endpoint.host, endpoint.port, endpoint.ssl, endpoint.user, address) == (
        "my-hub.azure-devices.net", 5671, True, "iothubowner@sas.root.my-hub", "/messages/devicebound")
    token = endpoint.password()
    fields = dict(part.split("=", 1) for part in token.removeprefix("SharedAccessSignature ").split("&"))
    assert fields["sr"] == "my-hub.azure-devices.net" and fields["skn"] == "iothubowner"
    expected = base64.b64encode(hmac.new(base64.b64decode(KEY), f"my-hub.azure-devices.net\n{fields['se']}".encode(),
                                         hashlib.sha256).digest()).decode()
    assert urllib.parse.unquote(fields["sig"]) == expected
    with pytest.raises(IntegrationError, match="need SharedAccessKeyName and SharedAccessKey"):
        c2d_endpoint(ConnectionString.parse(f"Endpoint=sb://{NAMESPACE}/;SharedAccessSignature=sig"), "my-hub")
