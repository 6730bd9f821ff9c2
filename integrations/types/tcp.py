"""TCP integration: a TCP server that frames each connection's byte stream into uplinks.

Configuration keys are ThingsBoard's (``clientConfiguration`` with ``port``, socket options,
``cacheSize``, ``timeToLiveInMinutes`` and ``handlerConfiguration``), so exported integrations
import unchanged. ``customSeparator`` (the string of CUSTOM_SEPARATOR) and ``bindAddress`` (the
interface to listen on, default all) are this project's; ``cacheSize`` is accepted and unused (a
connection is remembered while it is open). The server itself is integrations/listeners/tcp.py,
run by runintegrations; framing is integrations/listeners/framing.py.
"""

import codecs
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from integrations.types.base import SocketServerIntegration, TypeConfig

__all__ = ["TcpConfig", "TcpIntegration", "TcpHandlerConfiguration", "check_charset"]


def check_charset(value: str) -> str:
    try:
        codecs.lookup(value)
    except LookupError:
        raise ValueError(f"unknown charset '{value}'") from None
    return value


class TcpHandlerConfiguration(BaseModel):
    model_config = ConfigDict(extra="allow")
    handlerType: Literal["TEXT", "BINARY", "JSON"] = "TEXT"
    maxFrameLength: int = Field(128, ge=1)
    # TEXT
    stripDelimiter: bool = True
    messageSeparator: Literal["SYSTEM_LINE_SEPARATOR", "NUL_DELIMITER", "CUSTOM_SEPARATOR"] = "SYSTEM_LINE_SEPARATOR"
    customSeparator: str = ""
    charsetName: str = "UTF-8"
    # BINARY (Netty LengthFieldBasedFrameDecoder)
    byteOrder: Literal["LITTLE_ENDIAN", "BIG_ENDIAN"] = "BIG_ENDIAN"
    lengthFieldOffset: int = Field(0, ge=0)
    lengthFieldLength: Literal[1, 2, 3, 4, 8] = 2
    lengthAdjustment: int = 0
    initialBytesToStrip: int = Field(0, ge=0)
    failFast: bool = True

    @field_validator("charsetName")
    @classmethod
    def _charset(cls, value: str) -> str:
        return check_charset(value)

    @model_validator(mode="after")
    def _consistent(self):
        if self.handlerType == "TEXT" and self.messageSeparator == "CUSTOM_SEPARATOR" and not self.customSeparator:
            raise ValueError("customSeparator is required when messageSeparator is CUSTOM_SEPARATOR")
        if self.handlerType == "BINARY" and self.lengthFieldOffset > self.maxFrameLength - self.lengthFieldLength:
            raise ValueError(f"lengthFieldOffset ({self.lengthFieldOffset}) must be at most maxFrameLength - "
                             f"lengthFieldLength ({self.maxFrameLength - self.lengthFieldLength})")
        return self


class TcpClientConfiguration(BaseModel):
    model_config = ConfigDict(extra="allow")
    port: int = Field(10560, ge=1, le=65535)
    bindAddress: str = "0.0.0.0"
    soBacklogOption: int = Field(128, ge=1)
    soRcvBuf: int = Field(64, ge=1, le=65536)  # KB
    soSndBuf: int = Field(64, ge=1, le=65536)  # KB
    soKeepaliveOption: bool = False
    tcpNoDelay: bool = True
    cacheSize: int = Field(1000, ge=1)
    timeToLiveInMinutes: float = Field(1440, gt=0)
    handlerConfiguration: TcpHandlerConfiguration = TcpHandlerConfiguration()


class TcpConfig(TypeConfig):
    clientConfiguration: TcpClientConfiguration


class TcpIntegration(SocketServerIntegration):
    """Frames each connection's stream into uplinks; a downlink is written on the device's open
    connection (TEXT mode appends "\\n" as ThingsBoard does)."""

    kind, label = "TCP", "TCP"
    config_model = TcpConfig
    transport, server = "tcp", "integrations.listeners.tcp.TcpListener"
