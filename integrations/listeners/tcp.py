"""The TCP server behind the TCP integration: one asyncio server, a framer per connection.

- Every complete frame of a connection becomes one RawUplink with ``remoteAddress`` and
  ``remotePort`` in its metadata; uplinks go to the pipeline in batches (UplinkBatcher). When
  more than HIGH_WATER frames wait for the queue, the connections that send stop being read
  (TCP back-pressure) until everything is queued, so a slow queue slows the senders down
  instead of losing what they sent. Bytes a connection delivers while the listener is over the
  mark are held, unframed, until it resumes: a burst from many connections at once (each read
  already in flight) is bounded by one read per connection, not by the batcher's bound.
- A frame the framer refuses (too long, malformed) is dropped with a failure debug event
  (``sink.dropped``); the connection and the other clients carry on.
- Downlinks are written on the open connection their route names. A connection that neither
  sent nor received anything for ``timeToLiveInMinutes`` is closed.
"""

import asyncio
import logging
import socket
import time

from integrations.listeners import sockets
from integrations.listeners.batching import UplinkBatcher
from integrations.listeners.framing import FrameError, make_framer
from integrations.messages import Downlink, RawUplink
from integrations.types.base import IntegrationError
from tbproject.clock import now_ms

__all__ = ["TcpListener"]

log = logging.getLogger(__name__)

#: Frames received but not yet queued past which connections stop being read until all are queued.
HIGH_WATER = 2000
STOP_TIMEOUT = 5.0
CONTENT_TYPES = {"TEXT": "TEXT", "BINARY": "BINARY", "JSON": "JSON"}


class _Connection(asyncio.Protocol):
    def __init__(self, listener: "TcpListener"):
        self.listener = listener
        self.framer = make_framer(listener.config.handlerConfiguration)
        self.transport: asyncio.Transport | None = None
        self.key: tuple[str, int] | None = None
        self.metadata: dict[str, str] = {}
        self.last_active = time.monotonic()
        self.held: list[bytes] = []  # read while the listener was over HIGH_WATER

    def connection_made(self, transport) -> None:
        self.transport = transport
        cc = self.listener.config
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, int(cc.tcpNoDelay))  # asyncio sets it on
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, int(cc.soKeepaliveOption))
        self.metadata = {**self.listener.metadata, **sockets.remote_metadata(transport.get_extra_info("peername"))}
        self.key = (self.metadata["remoteAddress"], int(self.metadata["remotePort"]))
        self.listener.connections[self.key] = self

    def data_received(self, data: bytes) -> None:
        self.last_active = time.monotonic()
        listener = self.listener
        if listener.overloaded:
            self.held.append(data)
            listener.throttle(self)
            return
        self.feed(data)

    def feed(self, data: bytes) -> None:
        listener = self.listener
        received_ts = now_ms()
        for frame in self.framer.feed(data):
            if isinstance(frame, FrameError):
                listener.sink.dropped(self.metadata, frame.head, frame.reason)
            elif listener.batcher.offer(RawUplink(listener.integration_id, frame, self.metadata, received_ts,
                                                  listener.content_type)):
                listener.offered += 1
            elif listener.running:  # only past the batcher's bound: the queue is down for long
                listener.sink.dropped(self.metadata, frame[:1024], "The queue is unavailable: frame dropped")
        if listener.overloaded:
            listener.throttle(self)

    def resume(self) -> None:
        """Frame what was held, then read again, unless that put the listener over the mark."""
        listener = self.listener
        while self.held and not listener.overloaded:
            self.feed(self.held.pop(0))
        if self.held or listener.overloaded:
            listener.throttle(self)
        elif not self.transport.is_closing():
            self.transport.resume_reading()

    def connection_lost(self, exc) -> None:
        held, self.held = self.held, []
        for data in held:  # complete frames the client sent before it went: keep them
            self.feed(data)
        self.listener._paused.discard(self)
        if self.listener.connections.get(self.key) is self:
            del self.listener.connections[self.key]


class TcpListener:
    """One integration's server. ``config`` is its TcpClientConfiguration (types/tcp.py)."""

    def __init__(self, config, sink, *, integration, metadata: dict[str, str]):
        self.config, self.sink, self.integration = config, sink, integration
        self.integration_id, self.metadata = str(integration.pk), dict(metadata)
        self.content_type = CONTENT_TYPES[config.handlerConfiguration.handlerType]
        self.batcher = UplinkBatcher(sink, on_error=lambda error: sink.report(error=error, method="queue"))
        self.connections: dict[tuple[str, int], _Connection] = {}
        self.ttl = config.timeToLiveInMinutes * 60
        self.offered = 0
        self._paused: set[_Connection] = set()
        self._resuming: asyncio.Task | None = None
        self._server: asyncio.Server | None = None
        self._sweeper: asyncio.Task | None = None
        self.port: int | None = None

    @property
    def running(self) -> bool:
        return self._server is not None

    @property
    def overloaded(self) -> bool:
        return self.offered - self.batcher.queued > HIGH_WATER

    def throttle(self, connection: _Connection) -> None:
        """Stop reading ``connection`` until everything received so far is queued."""
        if connection in self._paused:
            return
        connection.transport.pause_reading()
        self._paused.add(connection)
        if self._resuming is None:
            self._resuming = asyncio.get_running_loop().create_task(self._resume_when_queued())

    async def _resume_when_queued(self) -> None:
        while not await self.batcher.drain(1.0):
            pass
        self._resuming = None
        paused, self._paused = self._paused, set()
        for connection in paused:
            connection.resume()  # its held bytes first: they may throttle the listener again

    async def start(self) -> None:
        cc = self.config
        sockets.claim("tcp", cc.port, self.integration)
        try:
            self._server = await asyncio.get_running_loop().create_server(
                lambda: _Connection(self), sock=self._listening_socket(), backlog=cc.soBacklogOption)
        except BaseException:
            sockets.release("tcp", cc.port, self.integration)
            raise
        self.port = self._server.sockets[0].getsockname()[1]
        self.batcher.start()
        self._sweeper = asyncio.get_running_loop().create_task(self._close_idle(),
                                                               name=f"tcp-ttl-{self.integration_id}")
        self.sink.report(connected=True, error="")

    def _listening_socket(self) -> socket.socket:
        cc = self.config
        family = socket.AF_INET6 if ":" in cc.bindAddress else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, cc.soRcvBuf * 1024)  # inherited by accepted sockets
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, cc.soSndBuf * 1024)
            sock.bind((cc.bindAddress, cc.port))
        except OSError as exc:
            sock.close()
            raise IntegrationError(sockets.describe_bind_error("tcp", cc.bindAddress, cc.port, exc)) from None
        sock.setblocking(False)
        return sock

    async def stop(self) -> None:
        """Stop accepting, hand on what was received, then close every connection. Idempotent."""
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close()
        for connection in list(self.connections.values()):
            connection.transport.pause_reading()
        await self.batcher.close(STOP_TIMEOUT)
        for task in (self._sweeper, self._resuming):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        for connection in list(self.connections.values()):
            connection.transport.close()
        self.connections.clear()
        await server.wait_closed()
        sockets.release("tcp", self.config.port, self.integration)

    async def send(self, downlink: Downlink) -> None:
        address, port = downlink.route.get("remoteAddress"), downlink.route.get("remotePort")
        connection = self.connections.get((address, int(port))) if address and str(port or "").isdigit() else None
        if connection is None or connection.transport.is_closing():
            where = f"{address}:{port}" if address else "the device (no uplink seen yet)"
            raise IntegrationError(f"No open TCP connection to {where} for device '{downlink.device_name}'")
        payload = downlink.payload
        if self.config.handlerConfiguration.handlerType == "TEXT":
            payload += b"\n"
        connection.transport.write(payload)
        connection.last_active = time.monotonic()

    async def _close_idle(self) -> None:
        interval = min(max(self.ttl / 4, 0.05), 30.0)
        while True:
            await asyncio.sleep(interval)
            limit = time.monotonic() - self.ttl
            for connection in list(self.connections.values()):
                if connection.last_active < limit:
                    log.info("TCP integration %s: closing %s:%s, idle for more than %s min", self.integration_id,
                             *connection.key, self.config.timeToLiveInMinutes)
                    connection.transport.close()
