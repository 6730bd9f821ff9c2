"""The heartbeats of the Celery worker and of Celery beat, which ``/readyz`` reads.

The worker's main process writes ``ZADD tb:workers <Redis time> <hostname>`` every
``INTERVAL_SECONDS`` from a daemon thread (started on Celery's ``worker_ready``, removed on
``worker_shutdown``), so a clean stop is seen at once and a killed worker after
WORKER_HEARTBEAT_TIMEOUT_SECONDS. Beat does the same under ``tb:beats`` (started on
``beat_init``, removed at exit). Times are Redis's own (``TIME``): hosts' clocks may differ.
"""

import logging
import threading

from django.conf import settings

__all__ = ["KEY", "BEAT_KEY", "INTERVAL_SECONDS", "beat", "remove", "alive", "Heartbeat"]

log = logging.getLogger(__name__)

KEY = "tb:workers"
BEAT_KEY = "tb:beats"
INTERVAL_SECONDS = 5.0
_FORGET_SECONDS = 86_400  # members older than this are dropped (hosts that never came back)


def _now(client) -> float:
    seconds, micros = client.time()
    return seconds + micros / 1e6


def beat(client, name: str, key: str = KEY) -> None:
    now = _now(client)
    pipe = client.pipeline(transaction=False)
    pipe.zadd(key, {name: now})
    pipe.zremrangebyscore(key, "-inf", now - _FORGET_SECONDS)
    pipe.execute()


def remove(client, name: str, key: str = KEY) -> None:
    client.zrem(key, name)


def alive(client, within: float, key: str = KEY) -> list[str]:
    """Names of the processes (workers, or beats with ``BEAT_KEY``) that wrote a heartbeat in the
    last ``within`` seconds."""
    now = _now(client)
    return sorted(m.decode() for m in client.zrangebyscore(key, now - within, "+inf"))


class Heartbeat:
    """The thread of one worker process (or, with ``key=BEAT_KEY``, of the beat process)."""

    def __init__(self, name: str, url: str | None = None, interval: float = INTERVAL_SECONDS, *, key: str = KEY):
        import redis

        self.name, self.interval, self.key = name, interval, key
        self.client = redis.Redis.from_url(url or settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"{key}-heartbeat", daemon=True)

    def start(self) -> "Heartbeat":
        self._beat()  # the first one before start() returns: ready means visible
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        try:
            remove(self.client, self.name, self.key)
        except Exception as exc:
            log.warning("%s heartbeat not removed: %s", self.key, exc)

    def _beat(self) -> None:
        try:
            beat(self.client, self.name, self.key)
        except Exception as exc:  # Redis away: readyz says so; keep trying
            log.warning("%s heartbeat not written: %s", self.key, exc)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self._beat()
