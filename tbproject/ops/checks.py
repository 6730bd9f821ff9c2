"""Readiness: can this process serve? The database, Redis, a live Celery worker and, where one is
expected (EXPECT_BEAT), a live Celery beat.

:func:`readiness` returns ``(ready, checks)``; ``checks`` names each part with ``ok`` and, when
it is down, ``error``. Embedded mode (no REDIS_URL, tasks eager) needs neither Redis nor a worker,
and says so instead of failing.
"""

from django.conf import settings
from django.db import connection

from tbproject.ops import heartbeat

__all__ = ["readiness", "redis_client"]

_clients: dict = {}


def redis_client():
    """A client of REDIS_URL with short timeouts (a probe must answer quickly), or None."""
    url = settings.REDIS_URL
    if not url:
        return None
    client = _clients.get(url)
    if client is None:
        import redis

        client = _clients[url] = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    return client


def _database() -> dict:
    try:
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
            cur.fetchone()
        return {"ok": True, "vendor": connection.vendor}
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}".strip()[:300]}
    finally:
        if not connection.in_atomic_block:
            connection.close()  # probes come from a thread pool: keep no connection in it


def _redis(client) -> dict:
    if client is None:
        return {"ok": True, "mode": "embedded (REDIS_URL is not set)"}
    try:
        client.ping()
        return {"ok": True}
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}


def _worker(client, redis_ok: bool) -> dict:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"ok": True, "mode": "embedded (tasks run in the process that queues them)"}
    if client is None or not redis_ok:
        return {"ok": False, "error": "unknown: Redis is unreachable"}
    within = settings.WORKER_HEARTBEAT_TIMEOUT_SECONDS
    try:
        workers = heartbeat.alive(client, within)
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    if not workers:
        return {"ok": False, "error": f"no worker heartbeat within {within} s"}
    return {"ok": True, "workers": workers}


def _beat(client, redis_ok: bool) -> dict:
    if not settings.EXPECT_BEAT:
        return {"ok": True, "mode": "not expected (EXPECT_BEAT is off)"}
    if client is None:
        return {"ok": True, "mode": "embedded (periodic jobs run in the web process)"}
    if not redis_ok:
        return {"ok": False, "error": "unknown: Redis is unreachable"}
    within = settings.WORKER_HEARTBEAT_TIMEOUT_SECONDS
    try:
        beats = heartbeat.alive(client, within, heartbeat.BEAT_KEY)
    except Exception as exc:
        return {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:300]}
    if not beats:
        return {"ok": False, "error": f"no beat heartbeat within {within} s"}
    return {"ok": True, "beats": beats}


def readiness() -> tuple[bool, dict]:
    client = redis_client()
    checks = {"database": _database(), "redis": _redis(client)}
    checks["worker"] = _worker(client, checks["redis"]["ok"])
    checks["beat"] = _beat(client, checks["redis"]["ok"])
    return all(c["ok"] for c in checks.values()), checks
