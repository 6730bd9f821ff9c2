"""The remote runner's HTTP listener: a push-type integration (HTTP, SigFox, ChirpStack, ...) served
on a port of the remote machine, as ThingsBoard's remote HTTP integration serves it (port 8082).

Devices POST/PUT to ``/api/v1/integrations/{endpoint}/{routingKey}`` on the remote as they would on
the server, and get the same answers for the checks that need no database: 404 for another
path or key, 405, 403 (header filter, the type's own signature check), 413 (``max_body``), 400 (a
body its content type cannot carry), then 204 (200 with ``replaceNoContentToOk``) once the uplink
is in the outbox; ``GET`` is a health check. Served by uvicorn in the runner's loop (no signal
handlers of its own: the runner owns SIGTERM).

A device's pending downlink is the answer to its next request (200, the downlink's content type),
as on the server: the server offers them and the request's devices are found here
(remote/replies.py); the uplink is in the outbox before the downlink is taken. Types that send
downlinks to their cloud's API (``api_downlink``: ChirpStack, ThingPark, ...) have them sent by
the server's workers.
"""

import asyncio
import contextlib
import json
import logging
import socket

import uvicorn

from integrations.ingress.requests import (
    ClientGone,
    body_problem,
    content_kind,
    declared_length,
    headers_of,
    read_body,
    split_path,
)
from integrations.listeners.batching import NotAcknowledged, UplinkBatcher
from integrations.listeners.sockets import describe_bind_error
from integrations.messages import RawUplink
from integrations.types.base import IntegrationError
from tbproject.clock import now_ms
from tbproject.conf import setting

__all__ = ["HttpListener"]

log = logging.getLogger(__name__)

GENERAL, PERMISSION_DENIED, BAD_REQUEST, NOT_FOUND = 2, 20, 31, 32  # ThingsBoard's error codes


class _Server(uvicorn.Server):
    def capture_signals(self):
        return contextlib.nullcontext()


def _reply(status: int, message: str = "", code: int = BAD_REQUEST) -> tuple[int, bytes]:
    if not message:
        return status, b""
    return status, json.dumps({"status": status, "message": message, "errorCode": code, "timestamp": now_ms()}).encode()


class HttpListener:
    """Serves one push-type integration ``instance`` (a PushIntegration) on ``host``:``port``."""

    def __init__(self, instance, sink, *, routing_key: str, host: str, port: int, max_body: int = 1024 * 1024):
        self.instance, self.sink, self.routing_key = instance, sink, routing_key
        self.host, self.port, self.max_body = host, port, max_body
        integration = instance.integration
        self.metadata = {"integrationName": integration.name, **instance.config.metadata}
        self.integration_id = str(integration.pk)
        self.replace_no_content = bool(getattr(instance.config, "replaceNoContentToOk", False))
        # a request waits for its batch: the HTTP ingress's linger, not the listeners' longer one
        self.batcher = UplinkBatcher(sink, on_error=lambda error: sink.report(error=error, method="queue"),
                                     linger=setting("UPLINK_BATCH_MS", 5) / 1000)
        self.server: _Server | None = None
        self._task = None

    async def start(self) -> None:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
        except OSError as exc:
            sock.close()
            raise IntegrationError(describe_bind_error("http", self.host, self.port, exc)) from None
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(self.app, interface="asgi3", lifespan="off", log_level="warning", access_log=False,
                                ws="none")
        self.server = _Server(config)
        self.batcher.start()
        self._task = asyncio.get_running_loop().create_task(self.server.serve(sockets=[sock]))
        while not self.server.started and not self._task.done():
            await asyncio.sleep(0.02)
        if self._task.done():
            self._task.result()
        log.info("HTTP integration %s listens on %s:%s", self.metadata["integrationName"], self.host, self.port)
        self.sink.report(connected=True, error="")

    async def stop(self) -> None:
        if self.server is None:
            return
        self.server.should_exit = True
        with contextlib.suppress(Exception):
            await self._task
        self.server = None
        await self.batcher.close()

    async def downlink(self, downlink) -> None:
        raise IntegrationError("HTTP-family integrations answer a device's next request with its downlink "
                               "(remote/replies.py); none is sent on its own", permanent=True)

    async def app(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        method = scope["method"].upper()
        try:
            status, body, *content_type = await self._answer(method, scope, receive)
        except ClientGone:
            return
        headers = [(b"content-length", str(len(body)).encode())]
        if body:
            headers.append((b"content-type", content_type[0] if content_type else b"application/json"))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})

    async def _answer(self, method: str, scope, receive) -> tuple:
        """(status, body) or, with the device's downlink, (200, body, its Content-Type)."""
        target = split_path(scope.get("path", ""))
        if target != (self.instance.endpoint, self.routing_key):
            return _reply(404, "Integration with such routing key wasn't found!", NOT_FOUND)
        if method in ("GET", "HEAD"):
            return 200, b""
        if method not in ("POST", "PUT"):
            return _reply(405, f"Request method '{method[:16]}' is not supported")
        headers = headers_of(scope)
        if not self.instance.headers_match(headers):
            return _reply(403, "Request headers do not match the integration's header filter", PERMISSION_DENIED)
        declared = declared_length(headers)
        body = await read_body(receive, self.max_body) if declared is None or declared <= self.max_body else None
        if body is None:
            return _reply(413, f"Request body is larger than {self.max_body} bytes")
        query = scope.get("query_string", b"").decode("latin-1")
        refused = self.instance.refuse(headers, body, query)
        if refused:
            return _reply(403, refused, PERMISSION_DENIED)
        kind, charset = content_kind(headers.get("content-type", ""))
        problem = body_problem(kind, charset, body)
        if problem:
            return _reply(400, problem)
        extra = self.instance.uplink_metadata(query)
        if extra is not None:
            metadata = {**self.metadata, **extra, **{f"Header:{name}": value for name, value in headers.items()}}
            uplink = RawUplink(self.integration_id, body, metadata, now_ms(), kind)
            replies = None if self.instance.api_downlink else self.sink.replies
            waiting = await replies.devices_of(uplink) if replies is not None else []
            try:
                await self.batcher.add(uplink)
            except NotAcknowledged:
                return _reply(503, "The remote integration is stopping; try again", GENERAL)
            found = await replies.take_row(uplink, waiting) if waiting else None
            if found is not None:  # stored first: a 503 never consumes the downlink
                content_type, reply = self.instance.downlink_reply(*found, uplink)
                return 200, reply, content_type
        return 200 if self.replace_no_content else 204, b""
