"""Connectivity and cloud platforms that post uplinks over HTTP (reference 1.2, HTTP-family forms).

    SIGFOX            POST /api/v1/integrations/sigfox/{key}            Sigfox custom callback (DATA/BIDIR)
    OCEANCONNECT      POST /api/v1/integrations/oceanconnect/{key}      Huawei OceanConnect push
    PARTICLE          POST /api/v1/integrations/particle/{key}          Particle webhook
    TMOBILE_IOT_CDP   POST /api/v1/integrations/tmobile_iot_cdp/{key}   T-Mobile IoT CDP (iotcreators) callback
    KPN               POST /api/v1/integrations/kpn/{key}               KPN Things HTTPS destination (SenML)

All keep the HTTP integration's header filter. Downlinks:

- SigFox answers a BIDIR callback synchronously: the device's pending downlink is the reply,
  ``{"<device id>": {"downlinkData": "<8 bytes as 16 hex digits>"}}`` (Sigfox's documented
  shape), the device id from the encoder's ``metadata.device`` or else the callback's ``device``.
- OceanConnect, Particle and T-Mobile IoT CDP answer the next uplink with the downlink, as HTTP.
- KPN Things checks ``Things-Message-Token`` = hex SHA-256 of the body followed by
  ``destinationSharedSecret`` (403 otherwise); its downlinks (Grip API) are not implemented and
  fail with a message saying so.
"""

import hashlib
import hmac
import json
import logging
import re

from pydantic import BaseModel, ConfigDict

from integrations.messages import Downlink, RawUplink
from integrations.types.base import IntegrationError
from integrations.types.cloud import HEADER_FILTER_SECRETS, HttpFamilyConfig, HttpFamilyIntegration

__all__ = ["SigfoxIntegration", "OceanConnectIntegration", "ParticleConfig", "ParticleIntegration",
           "TMobileIotCdpIntegration", "KpnConfig", "KpnIntegration", "sigfox_reply"]

log = logging.getLogger(__name__)

_HEX16 = re.compile(r"^[0-9A-Fa-f]{16}$")
JSON_MIME = b"application/json"


def sigfox_reply(device: str, payload: bytes, kind: str) -> bytes:
    """Sigfox's BIDIR response body for one device; ``payload`` as 8 bytes of hex."""
    text = payload.decode("utf-8", "replace").strip().strip('"') if kind != "BINARY" else ""
    data = text if _HEX16.match(text) else payload.hex()
    if not _HEX16.match(data):
        log.warning("Sigfox downlink data for device %s is not 8 bytes: %s", device, data[:64])
    return json.dumps({device: {"downlinkData": data.lower()}}, separators=(",", ":")).encode()


class SigfoxIntegration(HttpFamilyIntegration):
    kind, label = "SIGFOX", "SigFox"
    endpoint = "sigfox"

    def downlink_reply(self, kind: str, payload: bytes, metadata: dict, uplink: RawUplink) -> tuple[bytes, bytes]:
        device = str(metadata.get("device") or "")
        if not device:
            try:
                callback = json.loads(uplink.payload)
                device = str(callback.get("device") or "") if isinstance(callback, dict) else ""
            except ValueError:
                device = ""
        if not device:
            raise IntegrationError("the Sigfox downlink names no device (metadata.device)", permanent=True)
        return JSON_MIME, sigfox_reply(device, payload, kind)


class OceanConnectIntegration(HttpFamilyIntegration):
    kind, label = "OCEANCONNECT", "OceanConnect"
    endpoint = "oceanconnect"


class ParticleClient(BaseModel):
    model_config = ConfigDict(extra="allow")
    baseUrl: str = ""
    httpEndpoint: str = ""
    enableSecurity: bool = False
    headersFilter: dict[str, str] = {}


class ParticleConfig(HttpFamilyConfig):
    clientConfiguration: ParticleClient = ParticleClient()


class ParticleIntegration(HttpFamilyIntegration):
    """Particle's form nests the HTTP keys in ``clientConfiguration`` (reference 1.2)."""

    kind, label = "PARTICLE", "Particle"
    endpoint = "particle"
    config_model = ParticleConfig
    secret_fields = (*HEADER_FILTER_SECRETS, "clientConfiguration.headersFilter.*")

    def headers_match(self, headers) -> bool:
        client = self.config.clientConfiguration
        if not (client.enableSecurity or self.config.enableSecurity):
            return True
        wanted = {**self.config.headersFilter, **client.headersFilter}
        return all(headers.get(name.lower()) == value for name, value in wanted.items())


class TMobileIotCdpIntegration(HttpFamilyIntegration):
    kind, label = "TMOBILE_IOT_CDP", "T-Mobile IoT CDP"
    endpoint = "tmobile_iot_cdp"


class KpnConfig(HttpFamilyConfig):
    destinationSharedSecret: str = ""
    gripTenantId: str = ""
    apiId: str = ""
    apiKey: str = ""


def kpn_token(body: bytes, secret: str) -> str:
    """KPN Things' Things-Message-Token: hex SHA-256 of the body followed by the shared secret."""
    return hashlib.sha256(body + secret.encode()).hexdigest()


class KpnIntegration(HttpFamilyIntegration):
    kind, label = "KPN", "KPN Things"
    endpoint = "kpn"
    config_model = KpnConfig
    secret_fields = ("destinationSharedSecret", "apiKey", *HEADER_FILTER_SECRETS)
    api_downlink = True

    def refuse(self, headers, body: bytes, query: str) -> str | None:
        secret = self.config.destinationSharedSecret
        if not secret:
            return None
        given = headers.get("things-message-token", "").strip().lower()
        if not given:
            return "The Things-Message-Token header is missing"
        if not hmac.compare_digest(given, kpn_token(body, secret)):
            return "The Things-Message-Token does not match the body and the destination's shared secret"
        return None

    def deliver(self, downlink: Downlink) -> None:
        raise IntegrationError("KPN Things downlinks (Grip API) are not supported yet", permanent=True)
