"""The base of the MQTT-family types (TTN/TTI, AWS IoT, Azure IoT Hub): the MQTT integration's
listener, probe and downlink publish, run with a connection configuration each type derives
from its own ThingsBoard keys (fixed port and TLS, usernames and passwords built from an
application id, an API key, a SAS key ...).

A subclass implements ``connection_config()`` (an MqttConfig for integrations/listeners/mqtt.py)
and, when its downlink is more than "publish the encoder's bytes to a topic",
``downlink_message()``.
"""

from integrations.messages import Downlink
from integrations.types.base import IntegrationError, UplinkSink, run_sync
from integrations.types.mqtt import MqttConfig, MqttIntegration, downlink_topic

__all__ = ["MqttFamilyIntegration"]


class MqttFamilyIntegration(MqttIntegration):
    """An MQTT integration whose connection is derived from the type's own configuration."""

    #: the cloud's name in messages ("The Things Stack", "AWS IoT" ...)
    cloud: str = "MQTT broker"
    #: what to check when the cloud refuses the credentials
    auth_hint: str = ""
    #: check() connects under the integration's own client id (else a random one)
    check_with_client_id: bool = False

    def connection_config(self) -> MqttConfig:
        """The MqttConfig the listener connects with (host, port, TLS, credentials, filters)."""
        raise NotImplementedError

    def downlink_message(self, downlink: Downlink) -> tuple[str, bytes]:
        """The topic and body of one downlink: by default the encoder's bytes, published to
        ``downlinkTopicPattern`` with ``${key}`` from the encoder's metadata."""
        return downlink_topic(self.downlink_pattern(), downlink.metadata), downlink.payload

    def downlink_pattern(self) -> str:
        return self.config.downlinkTopicPattern

    async def start(self, emit: UplinkSink) -> None:
        from integrations.listeners.mqtt import MqttListener

        self._connection = MqttListener(self.connection_config(), emit, client_id=self.client_id,
                                        metadata=self.metadata, integration_id=str(self.integration.pk))
        await self._connection.start()

    async def downlink(self, downlink: Downlink) -> None:
        if self._connection is None:
            raise IntegrationError(f"Integration '{self.integration.name}' is not running")
        topic, body = self.downlink_message(downlink)
        await self._connection.publish(topic, body)

    def check(self) -> None:
        """Connect once with the derived configuration; IntegrationError naming the cloud's
        host and the broker's reason when that fails.

        Clouds that admit a connection only under its own client id (the device id on Azure,
        the thing name under a usual AWS IoT policy) are probed with it: the cloud then drops
        a running connection of the same id, which reconnects."""
        config = self.connection_config()

        async def attempt():
            try:
                await _probe(config, self.client_id if self.check_with_client_id else None)
            except IntegrationError as exc:
                message = exc.message.replace("MQTT broker", self.cloud, 1)
                if self.auth_hint and ("authori" in message.lower() or "user name" in message.lower()):
                    message = f"{message.rstrip('.')}: {self.auth_hint}"
                raise IntegrationError(message, permanent=exc.permanent) from None

        run_sync(attempt)


async def _probe(config: MqttConfig, client_id: str | None) -> None:
    from integrations.listeners import mqtt

    if client_id is None:
        return await mqtt.probe(config)
    cc = config.clientConfiguration
    client = mqtt._new_client(config.model_copy(update={"clientConfiguration": cc.model_copy(
        update={"cleanSession": True})}), client_id)
    try:
        await mqtt._connect(client, config)
    except Exception as exc:
        message, permanent = mqtt._describe(f"{cc.host}:{cc.port}", exc)
        raise IntegrationError(message, permanent=permanent) from None
    finally:
        await mqtt._close(client)
