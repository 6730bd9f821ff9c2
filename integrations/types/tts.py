"""The Things Stack Community (TTN) and Industries (TTI): an MQTT client of the application's
MQTT server, as ThingsBoard's TTN/TTI integrations are.

- Credentials are ``basic``: username ``{application id}@{tenant id}`` (``my-app@ttn`` on The
  Things Network), password an API key of the application.
- ``host`` is the cluster: a bare region (``eu1``) becomes ``eu1.cloud.thethings.network`` (TTN)
  or ``{tenant}.eu1.cloud.thethings.industries`` (TTI, tenant from the username) unless
  ``customHost`` is set, when it (or a non-empty ``hostEdit``) is used as given (inferred from
  the form's keys).
  Port 8883 with TLS by default; MQTT 3.1.1 always (the only version The Things Stack speaks).
- Uplinks: ``topicFilters`` default to ``v3/{username}/devices/+/up`` (QoS 0, the only one it
  grants); the raw ``ApplicationUp`` JSON is handed on with metadata ``topic``, and typed (v2)
  converters get it unwrapped by converters/unwrap/tts.py.
- Downlinks go to ``downlinkTopicPattern`` (default ``v3/{username}/devices/${devId}/down/push``);
  ``devId`` comes from the encoder's metadata, else from the topic of the device's last uplink.
  An encoder that returns The Things Stack's own ``{"downlinks": [...]}`` JSON (ThingsBoard's
  documented example) is published as it is; any other output becomes the device's bytes:
  ``{"downlinks": [{"frm_payload": base64, "f_port": fPort, "priority": priority}]}`` with
  ``fPort`` (default 1), ``priority`` (default NORMAL) and ``confirmed`` from the metadata.
"""

import base64
import json
import re
from typing import Literal

from pydantic import Field, field_validator

from integrations.messages import Downlink
from integrations.types.base import IntegrationError
from integrations.types.mqtt import ClientConfiguration, Credentials, MqttConfig, TopicFilter, downlink_topic
from integrations.types.mqtt_family import MqttFamilyIntegration

__all__ = ["TtsConfig", "TtnIntegration", "TtiIntegration"]

_UP_TOPIC = re.compile(r"^v3/[^/]+/devices/([^/]+)/")
PRIORITIES = ("LOWEST", "LOW", "BELOW_NORMAL", "NORMAL", "ABOVE_NORMAL", "HIGH", "HIGHEST")


class TtsCredentials(Credentials):
    type: Literal["basic"] = "basic"
    username: str = Field(min_length=1, description="{application id}@{tenant id}")
    password: str = Field(min_length=1, description="an API key of the application")

    @field_validator("username")
    @classmethod
    def _with_tenant(cls, value: str) -> str:
        app, _, tenant = value.partition("@")
        if not app or not tenant or "/" in value or "+" in value or "#" in value:
            raise ValueError("must be '{application id}@{tenant id}', e.g. 'my-app@ttn'")
        return value


class TtsClientConfiguration(ClientConfiguration):
    port: int = Field(8883, ge=1, le=65535)
    ssl: bool = True
    customHost: bool = False
    credentials: TtsCredentials


class TtsConfig(MqttConfig):
    clientConfiguration: TtsClientConfiguration
    topicFilters: list[TopicFilter] = []
    downlinkTopicPattern: str = ""


class TtnIntegration(MqttFamilyIntegration):
    kind, label = "TTN", "The Things Stack Community"
    cloud = "The Things Stack"
    auth_hint = ("check that the username is '{application id}@{tenant id}' and the password an API key of that "
                 "application")
    config_model = TtsConfig
    secret_fields = ("clientConfiguration.credentials.password",)
    route_keys = ("topic",)

    @property
    def username(self) -> str:
        return self.config.clientConfiguration.credentials.username

    def host(self) -> str:
        cc = self.config.clientConfiguration
        custom = getattr(cc, "hostEdit", None)
        if cc.customHost and isinstance(custom, str) and custom.strip():
            return custom.strip()
        if cc.customHost or "." in cc.host or ":" in cc.host:
            return cc.host
        return f"{cc.host}.cloud.thethings.network"

    def connection_config(self) -> MqttConfig:
        cc = self.config.clientConfiguration
        filters = self.config.topicFilters or [TopicFilter(filter=f"v3/{self.username}/devices/+/up", qos=0)]
        client = ClientConfiguration(**{**cc.model_dump(include=set(ClientConfiguration.model_fields)),
                                        "host": self.host(), "protocolVersion": "MQTT_3_1_1",
                                        "credentials": Credentials(type="basic", username=cc.credentials.username,
                                                                   password=cc.credentials.password,
                                                                   caCert=cc.credentials.caCert)})
        return MqttConfig(clientConfiguration=client, topicFilters=filters, metadata=self.config.metadata)

    def downlink_pattern(self) -> str:
        return self.config.downlinkTopicPattern or f"v3/{self.username}/devices/${{devId}}/down/push"

    def downlink_message(self, downlink: Downlink) -> tuple[str, bytes]:
        metadata = dict(downlink.metadata)
        if not metadata.get("devId"):
            match = _UP_TOPIC.match(downlink.route.get("topic", ""))
            if match:
                metadata["devId"] = match.group(1)
        topic = downlink_topic(self.downlink_pattern(), metadata)
        return topic, tts_downlink(downlink.payload, metadata)


class TtiIntegration(TtnIntegration):
    kind, label = "TTI", "The Things Stack Industries"

    def host(self) -> str:
        cc = self.config.clientConfiguration
        if cc.customHost or "." in cc.host or ":" in cc.host:
            return super().host()
        tenant = self.username.partition("@")[2]
        return f"{tenant}.{cc.host}.cloud.thethings.industries"


def tts_downlink(payload: bytes, metadata: dict[str, str]) -> bytes:
    """The body of a ``.../down/push`` publish: the encoder's own ``{"downlinks": [...]}`` JSON
    unchanged, else one downlink carrying ``payload`` as ``frm_payload``."""
    try:
        given = json.loads(payload)
    except ValueError:
        given = None
    if isinstance(given, dict) and isinstance(given.get("downlinks"), list):
        return payload
    try:
        port = int(metadata.get("fPort") or metadata.get("f_port") or 1)
    except ValueError:
        port = 0
    if not 1 <= port <= 223:
        raise IntegrationError(f"fPort '{metadata.get('fPort') or metadata.get('f_port')}' in the encoder's metadata "
                               "is not a LoRaWAN application port (1-223)", permanent=True)
    priority = str(metadata.get("priority") or "NORMAL").upper()
    if priority not in PRIORITIES:
        raise IntegrationError(f"priority '{priority}' in the encoder's metadata is not one of {', '.join(PRIORITIES)}",
                               permanent=True)
    item = {"frm_payload": base64.b64encode(payload).decode("ascii"), "f_port": port, "priority": priority}
    if str(metadata.get("confirmed", "")).lower() == "true":
        item["confirmed"] = True
    return json.dumps({"downlinks": [item]}, separators=(",", ":")).encode()
