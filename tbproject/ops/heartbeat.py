"""The Celery worker's heartbeat, which ``/readyz`` reads.

The worker's main process writes ``ZADD tb:workers <Redis time> <hostname>`` every
``INTERVAL_SECONDS`` from a daemon thread (started on Celery's ``worker_ready``, removed on
``worker_shutdown``), so a clean stop is seen at once and a killed worker after
WORKER_HEARTBEAT_TIMEOUT_SECONDS. Times are Redis's own (``TIME``): hosts' clocks may differ.
"""

import logging
import threading

from django.conf import settings

__all__ = ["KEY", "INTERVAL_SECONDS", "beat", "remove", "alive", "Heartbeat"]

log = logging.getLogger(__name__)

KEY = "tb:workers"
INTERVAL_SECONDS = 5.0
_FORGET_SECONDS = 86_400  # members older than this are dropped (hosts that never came back)


def _now(client) -> float:
    seconds, micros = client.time()
    return seconds + micros / 1e6


def beat(client, name: str) -> None:
    now = _now(client)
    pipe = client.pipeline(transaction=False)
    pipe.zadd(KEY, {name: now})
    pipe.zremrangebyscore(KEY, "-inf", now - _FORGET_SECONDS)
    pipe.execute()


def remove(client, name: str) -> None:
    client.zrem(KEY, name)


def alive(client, within: float) -> list[str]:
    """Names of the workers that wrote a heartbeat in the last ``within`` seconds."""
    now = _now(client)
    return sorted(m.decode() for m in client.zrangebyscore(KEY, now - within, "+inf"))


class Heartbeat:
    """The thread of one worker process."""

    def __init__(self, name: str, url: str | None = None, interval: float = INTERVAL_SECONDS):
        import redis

        self.name, self.interval = name, interval
        self.client = redis.Redis.from_url(url or settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="worker-heartbeat", daemon=True)

    def start(self) -> "Heartbeat":
        self._beat()  # the first one before start() returns: ready means visible
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        try:
            remove(self.client, self.name)
        except Exception as exc:
            log.warning("worker heartbeat not removed: %s", exc)

    def _beat(self) -> None:
        try:
            beat(self.client, self.name)
        except Exception as exc:  # Redis away: readyz says so; keep trying
            log.warning("worker heartbeat not written: %s", exc)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._beat()
