"""Azure Service Bus: a receiver of one topic subscription, with downlinks sent to a topic.

Configuration keys are ThingsBoard's (``configuration.clientConfiguration``): ``connectionString``
(the namespace's; write-only), ``topicName``, ``subName`` (the subscription), and for downlinks
``downlinkTopicName`` with ``downlinkConnectionString`` (write-only; the uplink one when empty).

At-least-once: messages are received in peek-lock mode and completed only once durably queued;
a listener that stops first abandons them, one that dies lets their locks expire: either way
Service Bus delivers them again. Uplink metadata: ``topicName``, ``subscriptionName``,
``sequenceNumber``, ``enqueuedTime`` (ms), ``deliveryCount``, the application properties, and
``messageId``, ``correlationId``, ``contentType``, ``subject`` when set. A downlink is one
message to ``downlinkTopicName``, its application properties the encoder's metadata (ThingsBoard's
examples set ``deviceId``).

The connection lives in integrations/listeners/azure.py (Azure SDK, or the generic AMQP 1.0
transport for an ``amqp://`` endpoint, where the node read is ``topicName/Subscriptions/subName``,
or ``topicName`` alone when ``subName`` is empty).
"""

from pydantic import BaseModel, ConfigDict, Field, field_validator

from integrations.types.azure_bus import connection_string
from integrations.types.base import ClientListenerIntegration, TypeConfig

__all__ = ["ServiceBusConfig", "AzureServiceBusIntegration"]


class ClientConfiguration(BaseModel):
    model_config = ConfigDict(extra="allow")
    connectionString: str = Field(min_length=1, description="the namespace's connection string")
    topicName: str = Field(min_length=1)
    subName: str = Field("", description="the topic's subscription")
    downlinkConnectionString: str = Field("", description="for downlinks; the uplink one when empty")
    downlinkTopicName: str = ""

    @field_validator("connectionString", "downlinkConnectionString")
    @classmethod
    def _connection_string(cls, value: str) -> str:
        return connection_string(value) if value else value


class ServiceBusConfig(TypeConfig):
    clientConfiguration: ClientConfiguration


class AzureServiceBusIntegration(ClientListenerIntegration):
    kind, label = "AZURE_SERVICE_BUS", "Azure Service Bus"
    config_model = ServiceBusConfig
    secret_fields = ("clientConfiguration.connectionString", "clientConfiguration.downlinkConnectionString")

    listener_class = "integrations.listeners.azure.ServiceBusListener"
    probe_function = "integrations.listeners.azure.probe_service_bus"
