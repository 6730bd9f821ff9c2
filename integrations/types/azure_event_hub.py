"""Azure Event Hub: a consumer-group reader of an Event Hub (typically IoT Hub's built-in
Event Hub-compatible endpoint), with downlinks sent to IoT Hub devices as cloud-to-device messages.

Configuration keys are ThingsBoard's (``configuration.clientConfiguration``): ``connectionString``
(the Event Hub-compatible endpoint, with ``EntityPath``; write-only), ``consumerGroup`` (default
``$Default``), ``connectTimeoutSec``, ``iotHubName`` (the hub that downlinks go to; its key is the
connection string's), and ``storageConnectionString`` (write-only), ``containerName``,
``enablePersistentCheckpoints``, which are accepted and have no effect: checkpoints are always
kept in this project's database (integrations/models_checkpoints.py).

At-least-once: per partition, a batch of events is checkpointed only once all of it is durably
queued; a listener that stops or dies first leaves the checkpoint where it was, and the next
one reads those events again. A partition with no checkpoint yet is read from its latest event
(the Azure SDK's default). Uplink metadata: ``partitionId``, the events' system annotations
by their Azure names (``x-opt-sequence-number``, ``x-opt-offset``, ``x-opt-enqueued-time``,
``iothub-connection-device-id``, ...), their application properties, and ``messageId``,
``correlationId``, ``contentType`` when set. Downlinks: the encoder's ``metadata.deviceId``
(else the device name) is the IoT Hub device; the payload is sent to
``/devices/{deviceId}/messages/devicebound``.

The connection lives in integrations/listeners/azure.py (Azure SDK, or the generic AMQP 1.0
transport for an ``amqp://`` endpoint).
"""

from pydantic import BaseModel, ConfigDict, Field, field_validator

from integrations.types.azure_bus import ConnectionString
from integrations.types.base import ClientListenerIntegration, TypeConfig

__all__ = ["EventHubConfig", "AzureEventHubIntegration"]


class ClientConfiguration(BaseModel):
    model_config = ConfigDict(extra="allow")
    connectTimeoutSec: int = Field(10, ge=1, le=600)
    connectionString: str = Field(min_length=1, description="Event Hub-compatible endpoint (with EntityPath)")
    consumerGroup: str = "$Default"
    iotHubName: str = Field("", description="IoT hub that downlinks (cloud-to-device messages) go to")
    storageConnectionString: str = ""
    containerName: str = ""
    enablePersistentCheckpoints: bool = False

    @field_validator("connectionString")
    @classmethod
    def _connection_string(cls, value: str) -> str:
        if not ConnectionString.parse(value).entity_path:
            raise ValueError("needs EntityPath=<event hub name>")
        return value

    @field_validator("consumerGroup", mode="before")
    @classmethod
    def _default_group(cls, value):
        return value or "$Default"


class EventHubConfig(TypeConfig):
    clientConfiguration: ClientConfiguration


class AzureEventHubIntegration(ClientListenerIntegration):
    kind, label = "AZURE_EVENT_HUB", "Azure Event Hub"
    config_model = EventHubConfig
    secret_fields = ("clientConfiguration.connectionString", "clientConfiguration.storageConnectionString")

    listener_class = "integrations.listeners.azure.EventHubListener"
    probe_function = "integrations.listeners.azure.probe_event_hub"
