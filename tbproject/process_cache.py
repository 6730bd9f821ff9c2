"""A bounded, thread-safe cache of this process, with a TTL per write and a generation.

    since = CACHE.generation                       # read before the query
    rows = ...                                     # the query
    CACHE.put_many(rows.items(), since, ttl)       # kept unless forget() ran meanwhile
    CACHE.get(key)                                 # the value, or None (missing or expired)
    CACHE.get_or_load(key, load, ttl)              # the three lines above for one key
    CACHE.forget()                                 # drop everything
    CACHE.forget_key(key)                          # drop one entry

The generation is what makes invalidation safe: a load that read the database before a change
was forgotten must not store what it read. Reads take no lock (a dict lookup is atomic); writes
do. Values are never None (None means "not cached").
"""

import threading
import time
from collections.abc import Hashable, Iterable

from django.db import transaction

__all__ = ["ProcessCache"]


class ProcessCache:
    """Entries ``key -> (expiry, value)``; emptied whole when a write would pass ``max_entries``."""

    def __init__(self, max_entries: int):
        self.max_entries = max_entries
        self.generation = 0  # bumped by forget()
        self._entries: dict[Hashable, tuple[float, object]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable, now: float | None = None):
        hit = self._entries.get(key)
        if hit is not None and hit[0] > (time.monotonic() if now is None else now):
            return hit[1]
        return None

    def put_many(self, items: Iterable[tuple[Hashable, object]], since: int, ttl: float,
                 now: float | None = None) -> None:
        """Keep ``(key, value)`` pairs for ``ttl`` seconds, unless :meth:`forget` ran after
        ``since`` (the generation read before the values were loaded) or ``ttl`` is not positive."""
        if ttl <= 0:
            return
        items = list(items)
        expires = (time.monotonic() if now is None else now) + ttl
        with self._lock:
            if since != self.generation:
                return
            if len(self._entries) + len(items) > self.max_entries:
                self._entries.clear()
            self._entries.update((key, (expires, value)) for key, value in items)

    def get_or_load(self, key: Hashable, load, ttl: float):
        """The cached value of ``key``, else ``load()`` (kept for ``ttl`` seconds unless :meth:`forget`
        ran while it loaded)."""
        value = self.get(key)
        if value is None:
            since = self.generation
            value = load()
            self.put_many([(key, value)], since, ttl)
        return value

    def forget(self, *args, **kwargs) -> None:
        """Drop every entry (any arguments are ignored: usable as a signal receiver)."""
        with self._lock:
            self.generation += 1
            self._entries.clear()

    def forget_key(self, key: Hashable) -> None:
        """Drop ``key``'s entry; a load that ran meanwhile (of any key) is not kept either."""
        with self._lock:
            self.generation += 1
            self._entries.pop(key, None)

    def forget_now_and_on_commit(self) -> None:
        """After a change: now, so that this process never reads the old value again, and on
        commit, so that a load between the two (which read the old row) is not kept either."""
        self.forget()
        transaction.on_commit(self.forget)

    def __len__(self) -> int:
        return len(self._entries)
