"""``/healthz`` (liveness), ``/readyz`` (readiness) and ``/metrics`` (Prometheus), answered by a
small ASGI app that sits after the uplink ingress and before Django: an uplink never passes
through it, and a probe never through Django's middleware.

    application = with_ingress(with_ops(django_asgi))

The same answers are Django views too (tbproject/urls.py) for the test client and WSGI.

- ``/healthz``: 200 while the process serves; touches nothing else (a restart cures nothing more).
- ``/readyz``: 200, or 503 with the parts that are down named (tbproject/ops/checks.py).
- ``/metrics``: needs ``Authorization: Bearer <METRICS_TOKEN>`` (401 without or with a wrong
  one; 403 while METRICS_TOKEN is unset: off); 503 when Redis is configured but unreachable, or
  the database (series of deleted integrations are dropped at each scrape).
"""

import asyncio
import hmac
import json
import logging
from typing import NamedTuple

from django.conf import settings
from django.db import connection
from django.http import HttpResponse

from tbproject.ops import checks, exposition

__all__ = ["Answer", "healthz", "readyz", "metrics", "OpsApp", "with_ops", "PATHS",
           "healthz_view", "readyz_view", "metrics_view"]

log = logging.getLogger(__name__)

JSON = "application/json"


class Answer(NamedTuple):
    status: int
    content_type: str
    body: bytes
    headers: tuple = ()


def _json(status: int, data: dict, headers: tuple = ()) -> Answer:
    return Answer(status, JSON, json.dumps(data).encode(), headers)


def healthz(authorization: str = "") -> Answer:
    return _json(200, {"status": "ok"})


def readyz(authorization: str = "") -> Answer:
    ready, parts = checks.readiness()
    down = [name for name, part in parts.items() if not part["ok"]]
    return _json(200 if ready else 503, {"status": "ok" if ready else "unavailable", "down": down, "checks": parts})


def metrics(authorization: str = "") -> Answer:
    token = settings.METRICS_TOKEN
    if not token:
        return _json(403, {"status": 403, "message": "Metrics are off: set METRICS_TOKEN"})
    scheme, _, given = authorization.partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
        return _json(401, {"status": 401, "message": "Metrics need Authorization: Bearer <METRICS_TOKEN>"},
                     ((b"www-authenticate", b'Bearer realm="metrics"'),))
    try:
        body = exposition.render()
    except Exception as exc:  # Redis (the totals, the queue) or the database unreachable
        log.warning("metrics unavailable: %s", exc)
        return _json(503, {"status": 503, "message": f"Metrics unavailable: {type(exc).__name__}: {exc}"[:300]})
    finally:
        if not connection.in_atomic_block:
            connection.close()  # answered from a thread pool: keep no connection in it
    return Answer(200, exposition.CONTENT_TYPE_LATEST, body)


PATHS = {"/healthz": healthz, "/readyz": readyz, "/metrics": metrics}


class OpsApp:
    """Answers PATHS; hands every other request (websockets and lifespan too) to ``fallback``."""

    def __init__(self, fallback):
        self.fallback = fallback

    async def __call__(self, scope, receive, send):
        handler = PATHS.get(scope.get("path", "")) if scope["type"] == "http" else None
        if handler is None:
            return await self.fallback(scope, receive, send)
        method = scope["method"].upper()
        if method not in ("GET", "HEAD"):
            answer = _json(405, {"status": 405, "message": f"Method {method} not allowed"}, ((b"allow", b"GET, HEAD"),))
        else:
            authorization = next((v.decode("latin-1") for k, v in scope.get("headers", ())
                                  if k == b"authorization"), "")
            # readiness and metrics block (database, Redis): off the event loop
            answer = handler(authorization) if handler is healthz else await asyncio.to_thread(handler, authorization)
        headers = [(b"content-type", answer.content_type.encode()), (b"content-length", str(len(answer.body)).encode()),
                   (b"cache-control", b"no-store"), *answer.headers]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else answer.body})


def with_ops(fallback) -> OpsApp:
    return OpsApp(fallback)


def _view(handler):
    def view(request):
        answer = handler(request.headers.get("Authorization", ""))
        response = HttpResponse(answer.body, status=answer.status, content_type=answer.content_type)
        for name, value in answer.headers:
            response[name.decode()] = value.decode()
        response["Cache-Control"] = "no-store"
        return response

    view.__name__ = f"{handler.__name__}_view"
    return view


healthz_view, readyz_view, metrics_view = _view(healthz), _view(readyz), _view(metrics)
