"""Token buckets with a local reserve: what every rate limit of this product takes from.

    granted, wait_ms = LIMITER.take("uplinks:tenant:<id>", windows, 1)

A process takes tokens from the shared store (Redis when REDIS_URL is set, else this process's
own store) a chunk at a time, up to ``chunk_fraction`` of the smallest window's capacity, and
hands them out locally: a generous limit costs one Redis round trip per many messages, a tight
one is counted exactly. After a refusal the key is known to be empty until the wait has passed,
so a flood of refused requests costs no round trips either. Tokens a process reserved and did not
use are the only inaccuracy: at most one chunk per process and key.

If Redis cannot be reached the limits are counted in this process until it can (logged once a
minute): a Redis outage must not stop uplinks, nor lift the limits altogether.
"""

import logging
import os
import threading
import time

from django.core.signals import setting_changed

from tenants.limits.spec import Window
from tenants.limits.store import LocalStore

__all__ = ["Limiter", "get_limiter", "forget_limiter", "reset"]

log = logging.getLogger(__name__)

#: the share of the limit bounds a chunk; this only keeps one reservation from being absurd. A
#: round trip to Redis waits for the Redis process to be scheduled, which on a loaded machine takes
#: milliseconds: generous limits must cost few of them.
CHUNK_MAX = 100_000


class _Reserve:
    __slots__ = ("windows", "tokens", "blocked_until")

    def __init__(self, windows):
        self.windows, self.tokens, self.blocked_until = windows, 0, 0.0


class Limiter:
    def __init__(self, store, *, fallback=None, clock=time.monotonic):
        self.store, self.fallback, self.clock = store, fallback or LocalStore(), clock
        self._reserves: dict[str, _Reserve] = {}
        self._lock = threading.Lock()
        self._warned = 0.0

    def take(self, key: str, windows: tuple[Window, ...], n: int = 1, *, partial: bool = False) -> tuple[int, int]:
        """Take ``n`` tokens (``partial``: as many as there are, up to ``n``).

        Returns (granted, wait ms): granted is ``n`` (or, partial, 1..n) or 0; when 0, ``wait``
        says how long until a token is there."""
        if not windows or n <= 0:
            return n, 0
        with self._lock:
            reserve = self._reserves.get(key)
            if reserve is None or reserve.windows is not windows:
                if reserve is not None and reserve.windows == windows:
                    reserve.windows = windows  # the same limit, parsed again: compare by identity from now on
                else:
                    reserve = self._reserves[key] = _Reserve(windows)
                    if len(self._reserves) > 100_000:
                        self._reserves = {key: reserve}
            if reserve.tokens >= n:
                reserve.tokens -= n
                return n, 0
            now = self.clock()
            if reserve.blocked_until > now:  # known to be empty: no round trip
                if partial and reserve.tokens:
                    granted, reserve.tokens = reserve.tokens, 0
                    return granted, 0
                return 0, max(1, int((reserve.blocked_until - now) * 1000 + 0.999))
            want = max(n - reserve.tokens, self._chunk(windows))
        got, wait = self._store_take(key, windows, want)
        with self._lock:
            reserve.tokens += got
            if wait:
                reserve.blocked_until = self.clock() + wait / 1000
            if reserve.tokens >= n:
                reserve.tokens -= n
                return n, 0
            if partial and reserve.tokens:
                granted, reserve.tokens = reserve.tokens, 0
                return granted, 0
            return 0, wait or max(1, int(min(w.interval_ms for w in windows)))

    def wait(self, key: str, windows: tuple[Window, ...]) -> int:
        """Milliseconds until ``key`` has a token, taking none: 0 when one is there now (this process's
        reserve, else the store's bucket, asked for nothing)."""
        if not windows:
            return 0
        with self._lock:
            reserve = self._reserves.get(key)
            if reserve is not None and reserve.windows == windows:
                if reserve.tokens:
                    return 0
                now = self.clock()
                if reserve.blocked_until > now:
                    return max(1, int((reserve.blocked_until - now) * 1000 + 0.999))
        _, wait = self._store_take(key, windows, 0)  # granting nothing, the store says the wait (1: none)
        return wait if wait > 1 else 0

    def _chunk(self, windows) -> int:
        fraction = getattr(self.store, "chunk_fraction", 0)
        return max(1, min(CHUNK_MAX, int(min(w.capacity for w in windows) * fraction)))

    def _store_take(self, key, windows, want) -> tuple[int, int]:
        try:
            return self.store.take(key, windows, want)
        except Exception as exc:
            if self.store is self.fallback:
                raise
            if time.monotonic() - self._warned > 60:
                self._warned = time.monotonic()
                log.warning("rate limits: the shared store is unreachable (%s); counting in this process", exc)
            return self.fallback.take(key, windows, want)

    def reset(self) -> None:
        """Forget the local reserves (tests; the shared store keeps its buckets)."""
        with self._lock:
            self._reserves.clear()
        if isinstance(self.store, LocalStore):
            self.store.reset()
        self.fallback.reset()


_limiter: Limiter | None = None
_limiter_lock = threading.Lock()


def get_limiter() -> Limiter:
    """This process's limiter, on Redis when REDIS_URL is set. Called per message: one global
    read; a fork (os.register_at_fork) or a changed REDIS_URL setting makes a new one."""
    limiter = _limiter
    if limiter is not None:
        return limiter
    return _make_limiter()


def _make_limiter() -> Limiter:
    global _limiter
    from django.conf import settings

    with _limiter_lock:
        if _limiter is None:
            if settings.REDIS_URL:
                from tenants.limits.store import RedisStore

                store = RedisStore(settings.REDIS_URL)
            else:
                store = LocalStore()
            _limiter = Limiter(store)
        return _limiter


def forget_limiter(**kwargs) -> None:
    """Make the next get_limiter() build a new limiter (after REDIS_URL changed, or a fork)."""
    global _limiter
    if kwargs.get("setting", "REDIS_URL") == "REDIS_URL":
        _limiter = None


os.register_at_fork(after_in_child=forget_limiter)
setting_changed.connect(forget_limiter, dispatch_uid="tenants.limits.limiter.redis_url")


def reset() -> None:
    if _limiter is not None:
        _limiter.reset()
