"""The lean ASGI app for push-integration uplinks, routed ahead of Django (DESIGN.md section 3).

A full Django request cycle (middleware, URL resolver, request object) costs several times more
than the work of accepting an uplink; this app parses the scope itself and hands the request to
:func:`integrations.ingress.handler.handle`, the same code the Django view runs.

    application = with_ingress(django_asgi_app)   # /api/v1/integrations/<endpoint>/<key> -> here
"""

import logging

from integrations.ingress.handler import Reply, handle
from tbproject.api.exceptions import ErrorCode

__all__ = ["PREFIX", "IngressApp", "with_ingress", "split_path"]

log = logging.getLogger(__name__)

PREFIX = "/api/v1/integrations/"


def split_path(path: str) -> tuple[str, str] | None:
    """(endpoint, routing key) of an ingress path, or None when it is not one."""
    if not path.startswith(PREFIX):
        return None
    endpoint, _, key = path[len(PREFIX):].partition("/")
    key = key[:-1] if key.endswith("/") else key
    if not endpoint or not key or "/" in key:
        return None
    return endpoint, key


class _ClientGone(Exception):
    pass


def _headers(scope) -> dict[str, str]:
    headers: dict[str, str] = {}
    for raw_name, raw_value in scope.get("headers", ()):
        name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
        headers[name] = f"{headers[name]}, {value}" if name in headers else value
    return headers


class IngressApp:
    """Serves ingress paths; hands every other request (and websockets, lifespan) to ``fallback``."""

    def __init__(self, fallback):
        self.fallback = fallback

    async def __call__(self, scope, receive, send):
        target = split_path(scope.get("path", "")) if scope["type"] == "http" else None
        if target is None:
            return await self.fallback(scope, receive, send)
        method = scope["method"].upper()

        async def read_body(limit: int) -> bytes | None:
            chunks, size = [], 0
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise _ClientGone
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    return None
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)

        try:
            reply = await handle(target[0], target[1], method, _headers(scope), read_body,
                                 scope.get("query_string", b"").decode("latin-1"))
        except _ClientGone:
            return
        except Exception:
            log.exception("ingress request failed: %s %s", method, scope.get("path"))
            reply = Reply(500, b'{"status":500,"message":"Internal server error","errorCode":%d,"timestamp":0}'
                          % ErrorCode.GENERAL, ((b"content-type", b"application/json"),))
        headers = [*reply.headers, (b"content-length", str(len(reply.body)).encode())]
        await send({"type": "http.response.start", "status": reply.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else reply.body})


def with_ingress(fallback) -> IngressApp:
    return IngressApp(fallback)
