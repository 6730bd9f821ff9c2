"""CoAP integration: devices POST (or PUT) to ``coap://host:port/i/{routingKey}``, as in ThingsBoard.

ThingsBoard serves every CoAP integration from one CoAP server of its core; here the listener host
(runintegrations) runs the server: the port is the one of ``clientConfiguration.baseUrl``
(default 5683) unless ``port`` is given, and the CoAP integrations of one host that use the same
port share one server, each at its own ``/i/{routingKey}`` path (and at the path of
``coapEndpoint``, when that is set). Configuration keys are ThingsBoard's (``baseUrl``,
``dtlsBaseUrl``, ``securityMode``, ``coapEndpoint``, ``dtlsCoapEndpoint``); ``port`` and
``bindAddress`` (the interface to listen on, default all) are this project's. Only
``securityMode: NO_SECURE`` is supported: aiocoap has no DTLS server with certificates.
"""

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator

from integrations.types.base import ListenerIntegration, TypeConfig, UplinkSink

__all__ = ["CoapConfig", "CoapIntegration", "DEFAULT_PORT"]

DEFAULT_PORT = 5683


class CoapClientConfiguration(BaseModel):
    model_config = ConfigDict(extra="allow")
    baseUrl: str = "coap://localhost"
    dtlsBaseUrl: str = ""
    securityMode: Literal["NO_SECURE", "DTLS", "MIXED"] = "NO_SECURE"
    coapEndpoint: str = ""
    dtlsCoapEndpoint: str = ""
    port: int | None = Field(None, ge=1, le=65535)
    bindAddress: str = "0.0.0.0"

    @field_validator("baseUrl")
    @classmethod
    def _coap_url(cls, value: str) -> str:
        try:
            parts = urlsplit(value)
            parts.port  # noqa: B018 - raises on a bad port
        except ValueError as exc:
            raise ValueError(f"not a valid URL: {exc}") from None
        if parts.scheme != "coap" or not parts.hostname:
            raise ValueError("must be a coap:// URL with a host, e.g. coap://iot.example.com:5683")
        return value

    @field_validator("securityMode")
    @classmethod
    def _plain_only(cls, value: str) -> str:
        if value != "NO_SECURE":
            raise ValueError(f"{value} is not supported: only NO_SECURE (plain CoAP over UDP)")
        return value

    @property
    def listen_port(self) -> int:
        return self.port or urlsplit(self.baseUrl).port or DEFAULT_PORT

    def paths(self, routing_key: str) -> list[tuple[str, ...]]:
        """The request paths this integration answers: /i/{routingKey} and coapEndpoint's path."""
        paths = [("i", routing_key)]
        endpoint = tuple(p for p in urlsplit(self.coapEndpoint).path.split("/") if p) if self.coapEndpoint else ()
        if endpoint and endpoint not in paths:
            paths.append(endpoint)
        return paths


class CoapConfig(TypeConfig):
    clientConfiguration: CoapClientConfiguration


class CoapIntegration(ListenerIntegration):
    kind, label = "COAP", "CoAP"
    config_model = CoapConfig

    _endpoint = None

    async def start(self, emit: UplinkSink) -> None:
        from integrations.listeners.coap import CoapListener

        self._endpoint = CoapListener(self.config.clientConfiguration, emit, integration=self.integration,
                                      metadata=self.metadata)
        await self._endpoint.start()

    async def stop(self) -> None:
        if self._endpoint is not None:
            await self._endpoint.stop()

    @classmethod
    def answers_next_uplink(cls) -> bool:
        return True  # 2.04 Changed carries the device's pending downlink (integrations/listeners/coap.py)

    @classmethod
    def listen_ports(cls, config) -> set[tuple[str, int, str]]:
        return {("udp", config.clientConfiguration.listen_port, "coap")}

    def check(self) -> None:
        """The UDP port can be bound here, or a CoAP server of this process already listens on it."""
        from integrations.listeners.coap import probe

        probe(self.config.clientConfiguration, self.integration)
