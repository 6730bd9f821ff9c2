"""Azure IoT Hub: ThingsBoard connects to the hub as one of its registered devices (MQTT 3.1.1
over TLS, port 8883), as ThingsBoard's AZURE_IOT_HUB integration does.

- ``clientId`` is the device id; the username is ``{host}/{deviceId}/?api-version=2021-04-12``.
- ``sas`` credentials: the password is a SAS token signed with the device's ``sasKey``
  (``SharedAccessSignature sr={host}/devices/{deviceId}&sig=...&se=...``), made afresh for each
  connection attempt, valid SAS_TTL_SECONDS (aligned to the hour, so a reconnect inside the same
  hour presents the same token).
- ``cert.PEM`` credentials (X.509) are accepted in the configuration but refused at start: the
  MQTT listener sends no username together with a client certificate, which IoT Hub requires.
- Uplinks are the cloud-to-device messages sent to that device: ``topicFilters`` default to
  ``devices/{deviceId}/messages/devicebound/#``; metadata ``topic`` (with the property bag).
- Downlinks (this project's addition; ThingsBoard's form has no downlink topic for this type)
  are device-to-cloud messages, published to ``downlinkTopicPattern`` (default
  ``devices/{deviceId}/messages/events/``).
"""

import base64
import hashlib
import hmac
import time
import urllib.parse
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from integrations.types.base import IntegrationError
from integrations.types.mqtt import ClientConfiguration, Credentials, MqttConfig, TopicFilter
from integrations.types.mqtt_family import MqttFamilyIntegration

__all__ = ["AzureIotHubConfig", "AzureIotHubIntegration", "sas_token", "API_VERSION"]

API_VERSION = "2021-04-12"
SAS_TTL_SECONDS = 24 * 3600


class AzureCredentials(Credentials):
    type: Literal["sas", "cert.PEM"] = "sas"
    sasKey: str = ""

    @field_validator("sasKey")
    @classmethod
    def _base64(cls, value: str) -> str:
        if value:
            try:
                base64.b64decode(value, validate=True)
            except ValueError:
                raise ValueError("must be the device's shared access key (base64)") from None
        return value

    @model_validator(mode="after")
    def _key_for_sas(self):
        if self.type == "sas" and not self.sasKey:
            raise ValueError("sasKey is required with sas credentials")
        return self


class AzureClientConfiguration(ClientConfiguration):
    port: int = Field(8883, ge=1, le=65535)
    clientId: str = Field(min_length=1, description="the device id registered in the hub")
    credentials: AzureCredentials


class AzureIotHubConfig(MqttConfig):
    clientConfiguration: AzureClientConfiguration
    topicFilters: list[TopicFilter] = []
    downlinkTopicPattern: str = ""


class SasCredentials(BaseModel):
    """The credentials the listener connects with: ``password`` is a fresh SAS token at each read."""

    model_config = ConfigDict(frozen=True)
    type: str = "basic"
    username: str
    caCert: str = ""
    host: str
    device_id: str
    sas_key: str

    @property
    def password(self) -> str:
        expiry = (int(time.time()) // 3600 + 1) * 3600 + SAS_TTL_SECONDS
        return sas_token(f"{self.host}/devices/{self.device_id}", self.sas_key, expiry)


def sas_token(resource: str, key: str, expiry: int) -> str:
    """An IoT Hub SAS token: HMAC-SHA256 of ``"{url-encoded resource}\\n{expiry}"`` with the
    base64-decoded key, base64 and URL-encoded."""
    sr = urllib.parse.quote(resource, safe="")
    digest = hmac.new(base64.b64decode(key), f"{sr}\n{expiry}".encode(), hashlib.sha256).digest()
    sig = urllib.parse.quote(base64.b64encode(digest).decode(), safe="")
    return f"SharedAccessSignature sr={sr}&sig={sig}&se={expiry}"


class AzureIotHubIntegration(MqttFamilyIntegration):
    kind, label = "AZURE_IOT_HUB", "Azure IoT Hub"
    cloud = "Azure IoT Hub"
    auth_hint = "check the hub host name, the device id (clientId) and the device's SAS key"
    check_with_client_id = True
    config_model = AzureIotHubConfig
    secret_fields = ("clientConfiguration.credentials.sasKey", "clientConfiguration.credentials.privateKey",
                     "clientConfiguration.credentials.privateKeyPassword")

    @property
    def device_id(self) -> str:
        return self.config.clientConfiguration.clientId

    @property
    def username(self) -> str:
        return f"{self.config.clientConfiguration.host}/{self.device_id}/?api-version={API_VERSION}"

    def connection_config(self) -> MqttConfig:
        cc = self.config.clientConfiguration
        if cc.credentials.type != "sas":
            raise IntegrationError("Azure IoT Hub with X.509 (cert.PEM) credentials is not supported yet: use sas "
                                   "credentials", permanent=True)
        filters = self.config.topicFilters or [
            TopicFilter(filter=f"devices/{self.device_id}/messages/devicebound/#", qos=1)]
        client = ClientConfiguration(**{**cc.model_dump(include=set(ClientConfiguration.model_fields)),
                                        "ssl": True, "protocolVersion": "MQTT_3_1_1", "cleanSession": cc.cleanSession,
                                        "credentials": Credentials()})
        credentials = SasCredentials(username=self.username, caCert=cc.credentials.caCert, host=cc.host,
                                     device_id=self.device_id, sas_key=cc.credentials.sasKey)
        client = client.model_copy(update={"credentials": credentials})
        return MqttConfig.model_construct(clientConfiguration=client, topicFilters=filters,
                                          metadata=self.config.metadata, downlinkTopicPattern=self.downlink_pattern())

    def downlink_pattern(self) -> str:
        return self.config.downlinkTopicPattern or f"devices/{self.device_id}/messages/events/"
