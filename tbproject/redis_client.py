"""This process's Redis client of the REDIS_URL setting, one per socket timeout.

    client = redis_client.shared(socket_timeout=2)   # None in embedded mode (no REDIS_URL)

Made on first use, made again after a fork (a client's connections must not cross processes) or
when the setting changes (tests switch it). Shared by the modules that talk to Redis outside
Celery and the channel layer: metrics, upload dedup, downlink announcements, rule-engine replies.
Reads the setting through tbproject.conf, so the remote runner (no Django) can use it too.
"""

import os
import threading

from tbproject.conf import setting

__all__ = ["shared"]

_clients: dict = {}  # (pid, url, socket timeout, connect timeout) -> client
_lock = threading.Lock()


def shared(socket_timeout: float, connect_timeout: float | None = None):
    """The client for REDIS_URL with these timeouts (seconds), or None when REDIS_URL is empty."""
    url = setting("REDIS_URL", "")
    if not url:
        return None
    key = (os.getpid(), url, socket_timeout, connect_timeout)
    found = _clients.get(key)
    if found is None:
        import redis

        with _lock:
            found = _clients.get(key)
            if found is None:
                for stale in [k for k in _clients if k[0] != key[0]]:  # a parent's, after a fork
                    del _clients[stale]
                found = _clients[key] = redis.Redis.from_url(
                    url, socket_timeout=socket_timeout,
                    socket_connect_timeout=socket_timeout if connect_timeout is None else connect_timeout)
    return found
