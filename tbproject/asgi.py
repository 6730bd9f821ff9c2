"""ASGI entry point: HTTP goes to Django, websockets to Channels consumers.

Uplinks of push integrations (/api/v1/integrations/...) are answered by a lean ASGI app before
Django is reached (DESIGN.md section 3), and so are JWT attribute saves of the telemetry plugin
(devices/api/lean_app.py: a shared-attribute save is how a downlink starts); /healthz, /readyz
and /metrics by the ops app after it (tbproject/ops/endpoints.py); every other HTTP request goes
on to Django, whose long waits (RPC and attribute long polls, rule-engine REST calls) are answered
after Django is done with the request, without a thread (tbproject/deferred.py).
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tbproject.settings")
# Django serves each request's synchronous part in a thread of that request: a connection kept
# for reuse there outlives its thread, and a busy web process ran PostgreSQL out of connections.
# So the web process closes them after each request unless told otherwise (or uses DB_POOL_SIZE).
os.environ.setdefault("DB_CONN_MAX_AGE", "0")
django_asgi = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402  (needs Django set up first)
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from devices.api.lean_app import with_attribute_saves  # noqa: E402
from integrations.ingress.asgi import with_ingress  # noqa: E402
from tbproject.deferred import with_waits  # noqa: E402  (long waits answered without a thread)
from tbproject.gc_tuning import tune  # noqa: E402
from tbproject.ops.endpoints import with_ops  # noqa: E402
from tbproject.routing import websocket_urlpatterns  # noqa: E402


class ServerStartup:
    """Runs what the web process does once when its server starts, not when this module is
    imported (tests and tools import it too): the garbage-collector tuning (fewer collections per
    request, tbproject/gc_tuning.py). It runs on ASGI lifespan startup (uvicorn), or before the
    first connection under a server without lifespan events (daphne)."""

    def __init__(self, app):
        self.app, self.started = app, False

    async def __call__(self, scope, receive, send):
        if not self.started:
            self.started = True
            tune()
        if scope["type"] != "lifespan":
            return await self.app(scope, receive, send)
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return


application = ServerStartup(ProtocolTypeRouter(
    {
        "http": with_ingress(with_attribute_saves(with_ops(with_waits(django_asgi)))),
        "websocket": AuthMiddlewareStack(URLRouter(websocket_urlpatterns)),
    }
))
