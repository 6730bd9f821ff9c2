"""What the HTTP-family types share: the header filter, calls to a cloud's REST API, LoRaWAN downlink fields.

    status, body = call("POST", url, headers={...}, body=b"...")   # IntegrationError on failure
    eui, port = lorawan_target(downlink)                            # DevEUI and FPort of a downlink

A cloud's answer maps onto IntegrationError so that the downlink worker knows whether a retry
can help: no answer, a timeout, 408, 429 and 5xx are transient; other 4xx (refused credentials,
unknown device, rejected payload) are permanent, with the cloud's own message.
"""

import json
import re
import urllib.error
import urllib.request
from collections.abc import Mapping

from integrations.messages import Downlink
from integrations.types.base import IntegrationError, PushIntegration, TypeConfig

__all__ = ["HttpFamilyConfig", "HttpFamilyIntegration", "call", "lorawan_target", "TIMEOUT_SECONDS",
           "HEADER_FILTER_SECRETS"]

TIMEOUT_SECONDS = 10.0
TRANSIENT = frozenset({408, 425, 429})
_HEX16 = re.compile(r"^[0-9A-Fa-f]{16}$")
#: the header filter's values are the shared secret a sender presents: each one is a secret
#: (the header names are not). A type that declares secrets of its own adds these to them.
HEADER_FILTER_SECRETS = ("headersFilter.*",)


class HttpFamilyConfig(TypeConfig):
    """The keys every HTTP-family form has (reference 1.2)."""

    baseUrl: str = ""
    httpEndpoint: str = ""
    replaceNoContentToOk: bool = False
    enableSecurity: bool = False
    #: header name -> required value; every pair must match when enableSecurity is on
    headersFilter: dict[str, str] = {}


class HttpFamilyIntegration(PushIntegration):
    """A push type with the HTTP integration's header filter."""

    config_model = HttpFamilyConfig
    secret_fields = HEADER_FILTER_SECRETS

    def headers_match(self, headers: Mapping[str, str]) -> bool:
        config = self.config
        if not getattr(config, "enableSecurity", False):
            return True
        return all(headers.get(name.lower()) == value for name, value in (config.headersFilter or {}).items())


def call(method: str, url: str, *, headers: dict[str, str] | None = None, body: bytes | None = None,
         timeout: float = TIMEOUT_SECONDS, what: str = "the cloud") -> tuple[int, bytes]:
    """One HTTP request; (status, body) of a 2xx answer, IntegrationError otherwise."""
    if not url.startswith(("http://", "https://")):
        raise IntegrationError(f"{what}: '{url[:200]}' is not an http(s) URL", permanent=True)
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        detail = _detail(e.read()[:2000])
        permanent = 400 <= e.code < 500 and e.code not in TRANSIENT
        raise IntegrationError(f"{what} answered {e.code} {e.reason}{': ' + detail if detail else ''}",
                               permanent=permanent) from None
    except (urllib.error.URLError, TimeoutError, OSError) as e:
        reason = getattr(e, "reason", e)
        raise IntegrationError(f"{what} cannot be reached at {url[:200]}: {reason}") from None


def _detail(raw: bytes) -> str:
    text = raw.decode("utf-8", "replace").strip()
    try:
        data = json.loads(text)
    except ValueError:
        return text[:300]
    if isinstance(data, dict):
        for key in ("message", "error", "error_description", "detail"):
            if isinstance(data.get(key), str):
                return data[key][:300]
    return text[:300]


def _meta(metadata: dict, *names: str):
    lowered = {str(k).lower(): v for k, v in metadata.items()}
    for name in names:
        if lowered.get(name.lower()) not in (None, ""):
            return lowered[name.lower()]
    return None


def lorawan_target(downlink: Downlink, default_port: int = 1) -> tuple[str, int]:
    """(DevEUI, FPort) of a downlink: from the encoder's metadata (``DevEUI``/``devEui``/``eui``,
    ``fPort``/``port``), else the device name when it is an EUI; IntegrationError (permanent) if none."""
    metadata = downlink.metadata or {}
    eui = _meta(metadata, "DevEUI", "devEui", "eui", "deviceEui") or downlink.route.get("eui") or downlink.device_name
    eui = str(eui or "").replace("-", "").replace(":", "")
    if not _HEX16.match(eui):
        raise IntegrationError("The downlink names no DevEUI: set metadata.DevEUI in the downlink converter "
                               f"(device '{downlink.device_name}')", permanent=True)
    port = _meta(metadata, "fPort", "FPort", "port")
    try:
        port = int(port) if port is not None else default_port
    except (TypeError, ValueError):
        raise IntegrationError(f"The downlink's fPort '{str(port)[:20]}' is not a number", permanent=True) from None
    if not 1 <= port <= 223:
        raise IntegrationError(f"The downlink's fPort {port} is outside 1..223", permanent=True)
    return eui.upper(), port


def confirmed(downlink: Downlink) -> bool:
    return str(_meta(downlink.metadata or {}, "confirmed") or "").lower() in ("true", "1", "yes")
