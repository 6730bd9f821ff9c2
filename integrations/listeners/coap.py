"""The CoAP server behind the CoAP integration (aiocoap, plain UDP).

The CoAP integrations of one process that listen on the same address and port share one aiocoap
server; each adds its paths (types/coap.py) to that server's site and removes them on stop; the
last one to stop closes the server. A request is answered only once its uplink is durably queued
(confirmable requests are acknowledged by aiocoap at once and answered separately when that takes
long): 2.04 Changed, with the device's pending downlink as the payload when one waits
(``respond``), as the HTTP integration does. ``GET`` on the same path is a
health check (2.05 Content, empty).
"""

import asyncio
import logging
import socket

import aiocoap
from aiocoap import resource

from integrations.listeners import sockets
from integrations.listeners.batching import NotAcknowledged, UplinkBatcher
from integrations.messages import RawUplink
from integrations.types.base import IntegrationError
from tbproject.clock import now_ms

__all__ = ["CoapListener", "probe", "respond", "MAX_PAYLOAD"]

log = logging.getLogger(__name__)

STOP_TIMEOUT = 5.0
#: Largest (block-wise assembled) request body accepted; larger ones answer 4.13.
MAX_PAYLOAD = 1024 * 1024
CONTENT_TYPES = {0: "TEXT", 50: "JSON", 42: "BINARY"}

_servers: dict[tuple, "_Server"] = {}  # (loop, bind address, port) -> a running shared server


async def respond(listener: "CoapListener", uplink: RawUplink) -> aiocoap.Message:
    """Hand ``uplink`` on and answer its request once it is queued: 2.04 Changed, empty, or
    2.04 with the device's pending downlink as the payload, as the HTTP integration answers
    (integrations/ingress/downlinks.py: the devices are learnt by decoding only while one waits,
    and the downlink is taken only after the uplink was queued). On a remote runner the sink
    offers the same calls (remote/replies.py): the server pushed the downlinks there."""
    downlinks = getattr(listener.sink, "replies", None)
    if downlinks is None:
        from integrations.ingress import downlinks

    waiting = await downlinks.devices_of(uplink)
    await listener.batcher.add(uplink)
    if waiting:
        try:
            found = await downlinks.take(uplink, waiting)
        except Exception:  # queued already: answer as usual, the downlink waits for the next uplink
            log.exception("could not take the downlink of integration %s", uplink.integration_id)
            found = None
        if found is not None:
            content_type, body = found
            return aiocoap.Message(code=aiocoap.CHANGED, payload=body,
                                   content_format=_CONTENT_FORMATS.get(content_type.split(b";")[0], 42))
    return aiocoap.Message(code=aiocoap.CHANGED)


#: CoAP Content-Format numbers (RFC 7252 section 12.3) of the downlink's MIME type
_CONTENT_FORMATS = {b"text/plain": 0, b"application/json": 50, b"application/octet-stream": 42}


def _content_type(payload: bytes, content_format) -> str:
    if content_format is not None and int(content_format) in CONTENT_TYPES:
        return CONTENT_TYPES[int(content_format)]
    if payload[:1] in (b"{", b"["):
        return "JSON"
    try:
        payload.decode("utf-8")
    except UnicodeDecodeError:
        return "BINARY"
    return "TEXT"


class _Server:
    def __init__(self, bind: str, port: int):
        self.bind, self.port = bind, port
        self.site = resource.Site()
        self.context: aiocoap.Context | None = None
        self.users = 0
        self.opening: asyncio.Task | None = None

    async def open(self) -> None:
        # aiocoap binds with SO_REUSEPORT, so a port held by another process would be shared
        # silently: bind once without it first to find out.
        _bind_once(self.bind, self.port)
        self.context = await aiocoap.Context.create_server_context(self.site, bind=(self.bind, self.port),
                                                                   transports=["udp6"])


def _bind_once(bind: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in bind else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((bind, port))
        except OSError as exc:
            raise IntegrationError(sockets.describe_bind_error("udp", bind, port, exc)) from None


def probe(config, integration) -> None:
    loop_servers = [key for key in list(_servers) if key[1:] == (config.bindAddress, config.listen_port)]
    if not loop_servers:
        _bind_once(config.bindAddress, config.listen_port)


class _Endpoint(resource.Resource):
    def __init__(self, listener: "CoapListener"):
        super().__init__()
        self.listener = listener

    async def render_post(self, request):
        return await self.listener.handle(request)

    async def render_put(self, request):
        return await self.listener.handle(request)

    async def render_get(self, request):
        return aiocoap.Message(code=aiocoap.CONTENT)


class CoapListener:
    """One integration's paths on a shared server. ``config``: CoapClientConfiguration."""

    def __init__(self, config, sink, *, integration, metadata: dict[str, str]):
        self.config, self.sink, self.integration = config, sink, integration
        self.integration_id, self.metadata = str(integration.pk), dict(metadata)
        self.paths = config.paths(integration.routing_key)
        self.batcher = UplinkBatcher(sink, on_error=lambda error: sink.report(error=error, method="queue"))
        self._server: _Server | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        key = (loop, self.config.bindAddress, self.config.listen_port)
        server = _servers.get(key)
        if server is None:
            server = _servers[key] = _Server(self.config.bindAddress, self.config.listen_port)
            server.opening = loop.create_task(server.open())
        try:
            await asyncio.shield(server.opening)
        except BaseException:
            if _servers.get(key) is server:
                del _servers[key]
            raise
        server.users += 1
        self._server = server
        endpoint = _Endpoint(self)
        for path in self.paths:
            server.site.add_resource(path, endpoint)
        self.batcher.start()
        self.sink.report(connected=True, error="")

    async def stop(self) -> None:
        """Unregister the paths, hand on what was received; the last user closes the server."""
        server, self._server = self._server, None
        if server is None:
            return
        for path in self.paths:
            try:
                server.site.remove_resource(path)
            except KeyError:
                pass
        await self.batcher.close(STOP_TIMEOUT)
        server.users -= 1
        if not server.users:
            key = (asyncio.get_running_loop(), server.bind, server.port)
            if _servers.get(key) is server:
                del _servers[key]
            await server.context.shutdown()

    async def handle(self, request) -> aiocoap.Message:
        sockaddr = getattr(request.remote, "sockaddr", None)
        metadata = {**self.metadata, **(sockets.remote_metadata(sockaddr) if sockaddr else {})}
        payload = request.payload
        if len(payload) > MAX_PAYLOAD:
            self.sink.dropped(metadata, payload[:1024], f"Request body of {len(payload)} bytes is larger than "
                                                        f"{MAX_PAYLOAD}")
            return aiocoap.Message(code=aiocoap.REQUEST_ENTITY_TOO_LARGE)
        uplink = RawUplink(self.integration_id, payload, metadata, now_ms(),
                           _content_type(payload, request.opt.content_format))
        try:
            return await respond(self, uplink)
        except NotAcknowledged:  # stopping
            return aiocoap.Message(code=aiocoap.SERVICE_UNAVAILABLE)
