"""The UDP server behind the UDP integration: each datagram is one uplink.

The handler type says what the converter gets, as ThingsBoard does:

- BINARY and JSON: the datagram's bytes as they are (JSON is not parsed here);
- TEXT: the datagram decoded with ``charsetName``, handed on as UTF-8;
- HEX: the JSON ``{"reports": [{"value": "<hex of the datagram>"}]}`` - ThingsBoard's documented
  HEX decoder reads ``decodeToJson(payload).reports[0].value``; datagrams longer than
  ``maxFrameLength`` are dropped with a failure debug event.

Every sender address is remembered (``cacheSize`` most recent, for ``timeToLiveInMinutes``): a
downlink goes to the address its route names only while that address is remembered.
"""

import asyncio
import json
import logging
import socket
import time
from collections import OrderedDict

from integrations.listeners import sockets
from integrations.listeners.batching import UplinkBatcher
from integrations.messages import Downlink, RawUplink
from integrations.types.base import IntegrationError
from tbproject.clock import now_ms

__all__ = ["UdpListener", "hex_payload"]

log = logging.getLogger(__name__)

STOP_TIMEOUT = 5.0
CONTENT_TYPES = {"HEX": "JSON", "TEXT": "TEXT", "BINARY": "BINARY", "JSON": "JSON"}


def hex_payload(datagram: bytes) -> bytes:
    return json.dumps({"reports": [{"value": datagram.hex()}]}, separators=(",", ":")).encode()


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, listener: "UdpListener"):
        self.listener = listener

    def datagram_received(self, data: bytes, addr) -> None:
        self.listener.received(data, addr)

    def error_received(self, exc) -> None:  # ICMP errors of earlier sends: nothing to do
        log.debug("UDP integration %s: %s", self.listener.integration_id, exc)


class UdpListener:
    """One integration's server. ``config`` is its UdpClientConfiguration (types/udp.py)."""

    def __init__(self, config, sink, *, integration, metadata: dict[str, str]):
        self.config, self.sink, self.integration = config, sink, integration
        self.integration_id, self.metadata = str(integration.pk), dict(metadata)
        self.handler = config.handlerConfiguration
        self.content_type = CONTENT_TYPES[self.handler.type]
        self.batcher = UplinkBatcher(sink, on_error=lambda error: sink.report(error=error, method="queue"))
        self.ttl = config.timeToLiveInMinutes * 60
        self.seen: OrderedDict[tuple[str, int], tuple[float, object]] = OrderedDict()  # -> (when, socket address)
        self.transport: asyncio.DatagramTransport | None = None
        self.port: int | None = None

    async def start(self) -> None:
        cc = self.config
        sockets.claim("udp", cc.port, self.integration)
        try:
            self.transport, _ = await asyncio.get_running_loop().create_datagram_endpoint(
                lambda: _Protocol(self), sock=self._socket())
        except BaseException:
            sockets.release("udp", cc.port, self.integration)
            raise
        self.port = self.transport.get_extra_info("sockname")[1]
        self.batcher.start()
        self.sink.report(connected=True, error="")

    def _socket(self) -> socket.socket:
        cc = self.config
        family = socket.AF_INET6 if ":" in cc.bindAddress else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, int(cc.soBroadcast))
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, cc.soRcvBuf * 1024)
            sock.bind((cc.bindAddress, cc.port))
        except OSError as exc:
            sock.close()
            raise IntegrationError(sockets.describe_bind_error("udp", cc.bindAddress, cc.port, exc)) from None
        sock.setblocking(False)
        return sock

    async def stop(self) -> None:
        """Hand on what was received, then close the socket. Idempotent."""
        if self.transport is None:
            return
        transport, self.transport = self.transport, None
        await self.batcher.close(STOP_TIMEOUT)
        transport.close()
        sockets.release("udp", self.config.port, self.integration)

    def received(self, data: bytes, addr) -> None:
        metadata = {**self.metadata, **sockets.remote_metadata(addr)}
        key = (metadata["remoteAddress"], int(metadata["remotePort"]))
        self.seen[key] = (time.monotonic(), addr)
        self.seen.move_to_end(key)
        while len(self.seen) > self.config.cacheSize:
            self.seen.popitem(last=False)
        payload = self._payload(data, metadata)
        if payload is None:
            return
        if not self.batcher.offer(RawUplink(self.integration_id, payload, metadata, now_ms(), self.content_type)):
            if self.batcher.dropped % 1000 == 1:
                log.warning("UDP integration %s: queue unavailable, %d datagrams dropped so far",
                            self.integration_id, self.batcher.dropped)

    def _payload(self, data: bytes, metadata: dict[str, str]) -> bytes | None:
        kind = self.handler.type
        if kind == "HEX":
            if len(data) > self.handler.maxFrameLength:
                self.sink.dropped(metadata, data[:1024], f"Datagram of {len(data)} bytes is longer than "
                                                         f"maxFrameLength ({self.handler.maxFrameLength})")
                return None
            return hex_payload(data)
        if kind == "TEXT" and self.handler.charsetName.lower().replace("-", "") != "utf8":
            return data.decode(self.handler.charsetName, errors="replace").encode("utf-8")
        return data

    async def send(self, downlink: Downlink) -> None:
        address, port = downlink.route.get("remoteAddress"), str(downlink.route.get("remotePort") or "")
        entry = self.seen.get((address, int(port))) if address and port.isdigit() else None
        if entry is None or entry[0] < time.monotonic() - self.ttl:
            where = f"{address}:{port}" if address else "the device"
            raise IntegrationError(f"No datagram from {where} (device '{downlink.device_name}') within the last "
                                   f"{self.config.timeToLiveInMinutes:g} minutes: its address is not known")
        if self.transport is None:
            raise IntegrationError(f"UDP integration {self.integration_id} is not running")
        self.transport.sendto(downlink.payload, entry[1])
