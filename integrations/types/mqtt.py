"""MQTT integration: a client of an outside broker, subscribed to ``topicFilters``.

Configuration keys are ThingsBoard's, so exported integrations import unchanged. The
connection itself (gmqtt) lives in integrations/listeners/mqtt.py, run by runintegrations.
Downlinks are published with QoS 1 to ``downlinkTopicPattern`` (``${key}`` from the encoder's
metadata, default ``${topic}``).
"""

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from integrations.messages import Downlink
from integrations.types.base import IntegrationError, ListenerIntegration, TypeConfig, UplinkSink, run_sync

__all__ = ["MqttConfig", "MqttIntegration", "downlink_topic"]

_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


class Credentials(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["anonymous", "basic", "cert.PEM"] = "anonymous"
    username: str = ""
    password: str = ""
    caCert: str = ""
    cert: str = ""
    privateKey: str = ""
    privateKeyPassword: str = ""


class ClientConfiguration(BaseModel):
    model_config = ConfigDict(extra="allow")
    host: str = Field(min_length=1)
    port: int = Field(1883, ge=1, le=65535)
    ssl: bool = False
    cleanSession: bool = True
    clientId: str = ""
    connectTimeoutSec: int = Field(10, ge=1, le=120)
    maxBytesInMessage: int = Field(32368, ge=1)
    protocolVersion: Literal["MQTT_3_1", "MQTT_3_1_1", "MQTT_5"] | None = None
    credentials: Credentials = Credentials()


class TopicFilter(BaseModel):
    filter: str = Field(min_length=1)
    qos: int = Field(0, ge=0, le=2)


class MqttConfig(TypeConfig):
    clientConfiguration: ClientConfiguration
    topicFilters: list[TopicFilter] = Field(min_length=1)
    downlinkTopicPattern: str = "${topic}"


class MqttIntegration(ListenerIntegration):
    kind, label = "MQTT", "MQTT"
    config_model = MqttConfig
    secret_fields = (
        "clientConfiguration.credentials.password",
        "clientConfiguration.credentials.privateKey",
        "clientConfiguration.credentials.privateKeyPassword",
    )

    _connection = None

    @property
    def client_id(self) -> str:
        """The configured clientId, else one derived from the integration's id: stable, so that
        whichever host runs the integration resumes the same broker session."""
        return self.config.clientConfiguration.clientId or f"tb-{str(self.integration.pk).replace('-', '')[:19]}"

    async def start(self, emit: UplinkSink) -> None:
        from integrations.listeners.mqtt import MqttListener

        self._connection = MqttListener(self.config, emit, client_id=self.client_id, metadata=self.metadata,
                                        integration_id=str(self.integration.pk))
        await self._connection.start()

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.stop()

    async def downlink(self, downlink: Downlink) -> None:
        """Publish the encoded payload with QoS 1 to ``downlinkTopicPattern``, its ``${key}``
        placeholders taken from the encoder's metadata (default ``${topic}``)."""
        if self._connection is None:
            raise IntegrationError(f"Integration '{self.integration.name}' is not running")
        topic = downlink_topic(self.config.downlinkTopicPattern, downlink.metadata)
        await self._connection.publish(topic, downlink.payload)

    def check(self) -> None:
        """Connect to the broker once (connectTimeoutSec); IntegrationError("Failed to connect to
        MQTT broker at host:port: reason") when that fails."""
        from integrations.listeners.mqtt import probe

        run_sync(lambda: probe(self.config))


def downlink_topic(pattern: str, metadata: dict[str, str]) -> str:
    """``pattern`` with every ``${key}`` replaced by ``metadata[key]``; a missing key, an empty
    topic or a wildcard is a permanent IntegrationError (a retry would publish no better)."""
    missing = [key for key in _PLACEHOLDER.findall(pattern or "") if key not in metadata]
    if missing:
        raise IntegrationError(f"downlinkTopicPattern '{pattern}': the encoder's metadata has no "
                               f"{', '.join(repr(k) for k in missing)}", permanent=True)
    topic = _PLACEHOLDER.sub(lambda m: str(metadata[m.group(1)]), pattern or "")
    if not topic or "+" in topic or "#" in topic:
        raise IntegrationError(f"Downlink topic '{topic}' (from '{pattern}') is not a topic one can publish to",
                               permanent=True)
    return topic
