"""OPC-UA integration: a client of an outside OPC-UA server that subscribes to device nodes.

Configuration keys are ThingsBoard's (reference section 1.2), so exported integrations import
unchanged. Device nodes are found by browsing the server's Objects tree and matching
``deviceNodePattern`` against each object's fully qualified name (``Objects.Plant.Pump_1``,
mappingType FQN) or its NodeId string (``ns=2;s=Pump_1``, mappingType ID); the pattern is a
regular expression searched in that text, so anchor it with ``^``/``$`` where needed. Each
``subscriptionTags`` path is relative to the device node (browse names joined by dots). On a data
change the uplink payload is ``{key: "value"}`` (values as text, like ThingsBoard) with metadata
``opcUaNode_name``, ``opcUaNode_namespaceIndex``, ``opcUaNode_identifier``, ``opcUaNode_fqn`` and
``integrationName``. Downlinks are the encoder's ``{"writeValues": [{nodeId, value}],
"callMethods": [{objectId, methodId, args}]}``. The connection (asyncua) lives in
integrations/listeners/opcua.py, run by runintegrations.
"""

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from integrations.messages import Downlink
from integrations.types.base import ClientListenerIntegration, TypeConfig

__all__ = ["OpcUaConfig", "OpcUaIntegration"]


class Identity(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["anonymous", "username"] = "anonymous"
    username: str = ""
    password: str = ""


class SubscriptionTag(BaseModel):
    model_config = ConfigDict(extra="allow")
    key: str = Field(min_length=1)
    path: str = Field(min_length=1)
    required: bool = False


class Mapping(BaseModel):
    model_config = ConfigDict(extra="allow")
    deviceNodePattern: str = Field(min_length=1)
    mappingType: Literal["ID", "FQN"] = "FQN"
    subscriptionTags: list[SubscriptionTag] = []
    #: only nodes of this namespace index match (ThingsBoard's optional "namespace")
    namespace: int | None = None

    @field_validator("deviceNodePattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from None
        return value

    @field_validator("namespace", mode="before")
    @classmethod
    def _blank_namespace(cls, value):
        return None if value in ("", None) else value


class Keystore(BaseModel):
    model_config = ConfigDict(extra="allow")
    location: str = ""
    type: Literal["PKCS12", "JKS"] = "PKCS12"
    #: the keystore file, base64 (what ThingsBoard's UI uploads)
    fileContent: str = ""
    password: str = ""
    alias: str = ""
    keyPassword: str = ""


class ClientConfiguration(BaseModel):
    model_config = ConfigDict(extra="allow")
    applicationName: str = ""
    applicationUri: str = ""
    host: str = Field(min_length=1)
    port: int = Field(49320, ge=1, le=65535)
    scanPeriodInSeconds: int = Field(10, ge=1, le=86400)
    timeoutInMillis: int = Field(5000, ge=100, le=600_000)
    security: Literal["None", "Basic128Rsa15", "Basic256", "Basic256Sha256"] = "None"
    identity: Identity = Identity()
    mapping: list[Mapping] = Field(min_length=1)
    keystore: Keystore | None = None


class OpcUaConfig(TypeConfig):
    clientConfiguration: ClientConfiguration


class OpcUaIntegration(ClientListenerIntegration):
    kind, label = "OPC_UA", "OPC-UA"
    config_model = OpcUaConfig
    secret_fields = (
        "clientConfiguration.identity.password",
        "clientConfiguration.keystore.password",
        "clientConfiguration.keystore.keyPassword",
        "clientConfiguration.keystore.fileContent",
    )

    listener_class = "integrations.listeners.opcua.OpcUaListener"
    probe_function = "integrations.listeners.opcua.probe"

    async def downlink(self, downlink: Downlink) -> None:
        """Node writes and method calls from the encoder's JSON; IntegrationError names each failure."""
        await self.running().downlink(downlink.payload)
