"""UDP integration: a UDP server; each datagram is one uplink.

Configuration keys are ThingsBoard's (``clientConfiguration`` with ``port``, ``soBroadcast``,
``soRcvBuf``, ``cacheSize``, ``timeToLiveInMinutes`` and ``handlerConfiguration.type`` HEX /
TEXT / BINARY / JSON); ``bindAddress`` (the interface to listen on, default all) is this
project's. The server is integrations/listeners/udp.py, run by runintegrations.
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from integrations.types.base import SocketServerIntegration, TypeConfig
from integrations.types.tcp import check_charset

__all__ = ["UdpConfig", "UdpIntegration"]

MAX_DATAGRAM = 65535


class UdpHandlerConfiguration(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["HEX", "TEXT", "BINARY", "JSON"] = "BINARY"
    charsetName: str = "UTF-8"
    maxFrameLength: int = Field(MAX_DATAGRAM, ge=1)

    @field_validator("charsetName")
    @classmethod
    def _charset(cls, value: str) -> str:
        return check_charset(value)


class UdpClientConfiguration(BaseModel):
    model_config = ConfigDict(extra="allow")
    port: int = Field(11560, ge=1, le=65535)
    bindAddress: str = "0.0.0.0"
    soBroadcast: bool = True
    soRcvBuf: int = Field(64, ge=1, le=65536)  # KB
    cacheSize: int = Field(1000, ge=1)
    timeToLiveInMinutes: float = Field(1440, gt=0)
    handlerConfiguration: UdpHandlerConfiguration = UdpHandlerConfiguration()


class UdpConfig(TypeConfig):
    clientConfiguration: UdpClientConfiguration


class UdpIntegration(SocketServerIntegration):
    """Each datagram is an uplink; a downlink is one datagram to the address the device last sent
    from, if within timeToLiveInMinutes."""

    kind, label = "UDP", "UDP"
    config_model = UdpConfig
    transport, server = "udp", "integrations.listeners.udp.UdpListener"
