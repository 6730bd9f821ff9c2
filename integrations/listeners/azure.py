"""The listeners of AZURE_EVENT_HUB and AZURE_SERVICE_BUS, and their connection checks.

Each picks its message source by the connection string's endpoint (types/azure_bus.py): the
Azure SDK for an ``sb://`` namespace (integrations/listeners/azure_sdk.py), the generic AMQP 1.0
transport (integrations/listeners/amqp10.py) for an ``amqp://``/``amqps://`` broker. Event Hub
downlinks are IoT Hub cloud-to-device messages, sent over AMQP 1.0 as IoT Hub documents it:
SASL PLAIN as ``{keyName}@sas.root.{hub}`` with a SAS token, to ``/messages/devicebound``, the
device in the message's ``to``.
"""

import time
import uuid

from integrations.listeners.amqp10 import Amqp10Sender, Amqp10Source, Endpoint
from integrations.listeners.sources import SourceListener, amqp_metadata, probe_with
from integrations.types.azure_bus import ConnectionString
from integrations.types.base import IntegrationError

__all__ = ["EventHubListener", "ServiceBusListener", "probe_event_hub", "probe_service_bus", "c2d_endpoint"]

C2D_ADDRESS = "/messages/devicebound"
SAS_TTL_SECONDS = 3600


def _proton_metadata(message, **extra) -> dict[str, str]:
    return amqp_metadata(message.properties, message.annotations, messageId=message.id,
                         correlationId=message.correlation_id, contentType=message.content_type,
                         subject=message.subject, **extra)


# --- Event Hub ----------------------------------------------------------------------------------

def _event_hub_what(cs: ConnectionString) -> str:
    return f"Azure Event Hub at {cs.host}/{cs.entity_path}"


def event_hub_source(config, integration_id: str = ""):
    cc = config.clientConfiguration
    cs = ConnectionString.parse(cc.connectionString)
    if cs.generic:
        return Amqp10Source(cs.endpoint(_event_hub_what(cs)), cs.entity_path, metadata_of=_proton_metadata,
                            timeout=cc.connectTimeoutSec)
    from integrations.listeners.azure_sdk import EventHubSdkSource

    return EventHubSdkSource(cc, cs, integration_id, what=_event_hub_what(cs))


def c2d_endpoint(cs: ConnectionString, hub: str) -> tuple[Endpoint, str]:
    """(endpoint, node address) of IoT Hub's cloud-to-device queue for ``hub``."""
    if cs.generic:  # a plain broker stands in for IoT Hub: the hub name is the node
        return cs.endpoint(f"the AMQP 1.0 broker at {cs.host}:{cs.port} (IoT hub '{hub}')"), hub
    if not cs.key_name or not cs.key:
        raise IntegrationError("Downlinks to IoT Hub need SharedAccessKeyName and SharedAccessKey in the "
                               "connection string", permanent=True)
    from integrations.types.azure_iot_hub import sas_token

    host = hub if "." in hub else f"{hub}.azure-devices.net"

    def password() -> str:  # a fresh token for each connection
        return f"{sas_token(host, cs.key, int(time.time()) + SAS_TTL_SECONDS)}&skn={cs.key_name}"

    return Endpoint(host, 5671, True, f"{cs.key_name}@sas.root.{hub.split('.')[0]}", password,
                    f"Azure IoT Hub {host}"), C2D_ADDRESS


def _to_device(message, downlink) -> None:
    device = str((downlink.metadata or {}).get("deviceId") or downlink.device_name or "")
    if not device:
        raise IntegrationError("The downlink names no IoT Hub device: set metadata.deviceId in the downlink "
                               "converter", permanent=True)
    message.address = f"/devices/{device}/messages/devicebound"
    message.id = str(uuid.uuid4())


class EventHubListener(SourceListener):
    def __init__(self, config, sink, *, metadata: dict[str, str], integration_id: str):
        super().__init__(config, sink, metadata=metadata, integration_id=integration_id)
        self.what = _event_hub_what(ConnectionString.parse(config.clientConfiguration.connectionString))

    def make_source(self):
        return event_hub_source(self.config, self.integration_id)

    def make_sender(self):
        cc = self.config.clientConfiguration
        if not cc.iotHubName:
            raise IntegrationError("Azure Event Hub integration has no iotHubName to send downlinks to",
                                   permanent=True)
        endpoint, address = c2d_endpoint(ConnectionString.parse(cc.connectionString), cc.iotHubName)
        return Amqp10Sender(endpoint, address, prepare=_to_device, timeout=cc.connectTimeoutSec)


probe_event_hub = probe_with(event_hub_source)


# --- Service Bus --------------------------------------------------------------------------------

def _service_bus_what(cs: ConnectionString, topic: str, subscription: str = "") -> str:
    return f"Azure Service Bus at {cs.host}/{topic}{'/' + subscription if subscription else ''}"


def service_bus_source(config, integration_id: str = ""):
    cc = config.clientConfiguration
    cs = ConnectionString.parse(cc.connectionString)
    what = _service_bus_what(cs, cc.topicName, cc.subName)
    if cs.generic:
        address = f"{cc.topicName}/Subscriptions/{cc.subName}" if cc.subName else cc.topicName
        return Amqp10Source(cs.endpoint(what), address, timeout=10.0, metadata_of=lambda message: _proton_metadata(
            message, topicName=cc.topicName, subscriptionName=cc.subName))
    if not cc.subName:
        raise IntegrationError("Azure Service Bus integration needs subName (the topic's subscription)",
                               permanent=True)
    from integrations.listeners.azure_sdk import ServiceBusSdkSource

    return ServiceBusSdkSource(cc, cs, what=what)


class ServiceBusListener(SourceListener):
    def __init__(self, config, sink, *, metadata: dict[str, str], integration_id: str):
        super().__init__(config, sink, metadata=metadata, integration_id=integration_id)
        cc = config.clientConfiguration
        self.what = _service_bus_what(ConnectionString.parse(cc.connectionString), cc.topicName, cc.subName)

    def make_source(self):
        return service_bus_source(self.config, self.integration_id)

    def make_sender(self):
        cc = self.config.clientConfiguration
        if not cc.downlinkTopicName:
            raise IntegrationError("Azure Service Bus integration has no downlinkTopicName to send downlinks to",
                                   permanent=True)
        cs = ConnectionString.parse(cc.downlinkConnectionString or cc.connectionString)
        what = _service_bus_what(cs, cc.downlinkTopicName)
        if cs.generic:
            return Amqp10Sender(cs.endpoint(what), cc.downlinkTopicName)
        from integrations.listeners.azure_sdk import ServiceBusSdkSender

        return ServiceBusSdkSender(cs, cc.downlinkConnectionString or cc.connectionString, cc.downlinkTopicName,
                                   what=what)


probe_service_bus = probe_with(service_bus_source)
