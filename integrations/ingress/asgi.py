"""The lean ASGI app for push-integration uplinks, routed ahead of Django (DESIGN.md section 3).

A full Django request cycle (middleware, URL resolver, request object) costs several times more
than the work of accepting an uplink; this app parses the scope itself and hands the request to
:func:`integrations.ingress.handler.handle`, the same code the Django view runs.

    application = with_ingress(django_asgi_app)   # /api/v1/integrations/<endpoint>/<key> -> here
"""

import logging

from integrations.ingress.handler import Reply, handle
from integrations.ingress.requests import PREFIX, ClientGone, headers_of, read_body, split_path
from tbproject.api.exceptions import ErrorCode

__all__ = ["PREFIX", "IngressApp", "with_ingress", "split_path"]

log = logging.getLogger(__name__)


class IngressApp:
    """Serves ingress paths; hands every other request (and websockets, lifespan) to ``fallback``."""

    def __init__(self, fallback):
        self.fallback = fallback

    async def __call__(self, scope, receive, send):
        target = split_path(scope.get("path", "")) if scope["type"] == "http" else None
        if target is None:
            return await self.fallback(scope, receive, send)
        method = scope["method"].upper()
        try:
            query = scope.get("query_string", b"").decode("latin-1")
            reply = await handle(target[0], target[1], method, headers_of(scope),
                                 lambda limit: read_body(receive, limit), query)
        except ClientGone:
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
