"""Tuya: device messages from Tuya's message service (Pulsar, AES-encrypted payloads), commands
to devices through Tuya's OpenAPI.

Configuration keys are ThingsBoard's (``configuration.clientConfiguration``): ``region`` (CN, US,
EU or IN: which Tuya data center), ``accessId`` and ``accessKey`` (the cloud project's Access ID
and Access Secret; the secret is write-only), ``env`` (PROD, or TEST for virtual devices: the
message topic ``{accessId}/out/event`` or ``.../event-test``). ``openApiUrl`` and
``messageServiceUrl`` (this project's additions) replace the region's endpoints (a proxy, a
private cloud).

Uplinks: each message is decrypted with the access secret (AES-128 with characters 8-24 of it,
ECB or, where the message property ``em`` says ``aes_gcm``, GCM) and its decrypted JSON (``devId``,
``productKey``, ``status`` ...) is the payload; metadata ``protocol``, ``pv``, ``t`` and the
message's ``devId``, ``productKey``, ``bizCode`` where present. A message that cannot be decrypted
is recorded as a failed debug event and acknowledged (it could never be read). A message is
acknowledged only once durably queued. Downlinks: the encoder's JSON ``{"code", "value"}`` (or a
list of them, or ``{"commands": [...]}``) is sent as ``POST /v1.0/iot-03/devices/{deviceId}/commands``
with the encoder's ``metadata.deviceId`` (else the device name), signed HMAC-SHA256 as Tuya's
OpenAPI requires. The connection lives in integrations/listeners/tuya.py.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from integrations.types.base import ClientListenerIntegration, TypeConfig

__all__ = ["TuyaConfig", "TuyaIntegration", "REGIONS"]

#: region -> (OpenAPI base URL, message service URL)
REGIONS = {
    "CN": ("https://openapi.tuyacn.com", "pulsar+ssl://mqe.tuyacn.com:7285/"),
    "US": ("https://openapi.tuyaus.com", "pulsar+ssl://mqe.tuyaus.com:7285/"),
    "EU": ("https://openapi.tuyaeu.com", "pulsar+ssl://mqe.tuyaeu.com:7285/"),
    "IN": ("https://openapi.tuyain.com", "pulsar+ssl://mqe.tuyain.com:7285/"),
}


class ClientConfiguration(BaseModel):
    model_config = ConfigDict(extra="allow")
    region: Literal["CN", "US", "EU", "IN"] = "EU"
    accessId: str = Field(min_length=1, description="the cloud project's Access ID")
    accessKey: str = Field(min_length=16, description="the cloud project's Access Secret")
    env: Literal["PROD", "TEST"] = "PROD"
    openApiUrl: str = Field("", description="replaces the region's OpenAPI endpoint")
    messageServiceUrl: str = Field("", description="replaces the region's message service (Pulsar) URL")

    @property
    def api_url(self) -> str:
        return (self.openApiUrl or REGIONS[self.region][0]).rstrip("/")

    @property
    def service_url(self) -> str:
        return self.messageServiceUrl or REGIONS[self.region][1]

    @property
    def topic(self) -> str:
        return f"{self.accessId}/out/{'event' if self.env == 'PROD' else 'event-test'}"


class TuyaConfig(TypeConfig):
    clientConfiguration: ClientConfiguration


class TuyaIntegration(ClientListenerIntegration):
    kind, label = "TUYA", "Tuya"
    config_model = TuyaConfig
    secret_fields = ("clientConfiguration.accessKey",)

    listener_class = "integrations.listeners.tuya.TuyaListener"
    probe_function = "integrations.listeners.tuya.probe"
