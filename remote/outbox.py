"""The remote runner's on-disk outbox: uplink batches wait here until the server acknowledges them.

One SQLite file (WAL, ``synchronous=FULL``: a batch written is a batch kept, even across a power
cut). Each batch gets the next ``seq`` (AUTOINCREMENT: never reused, even after deletes) and is
deleted only when the server acknowledged it. ``outbox_id`` is made once per file: the server
deduplicates on (integration, outbox_id, seq), so a fresh file never collides with old numbers.

Past ``max_messages`` waiting uplinks new ones are dropped and counted (``dropped``, kept in the
file): the devices are still answered, the operator sees the count in the server's status.
The last configuration received from the server is kept too, so that a runner restarted while
the server is away runs its listener again at once. Not thread-safe: one thread uses it (the
runner's outbox executor).
"""

import json
import os
import sqlite3
import uuid
from typing import NamedTuple

__all__ = ["Outbox", "Batch"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (seq INTEGER PRIMARY KEY AUTOINCREMENT, count INTEGER NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""


class Batch(NamedTuple):
    """A stored batch: uplinks as protocol.encode_uplinks made them."""

    seq: int
    count: int
    uplinks: list


class Outbox:
    def __init__(self, path: str, *, max_messages: int = 100_000):
        self.path, self.max_messages = path, max_messages
        new = not os.path.exists(path)
        self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        if new:
            os.chmod(path, 0o600)  # it holds the integration's configuration, credentials included
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        self.db.executescript(SCHEMA)
        self.outbox_id = self._meta("outbox_id") or self._set_meta("outbox_id", uuid.uuid4().hex)
        self.dropped = int(self._meta("dropped") or 0)
        self.depth = self.db.execute("SELECT COALESCE(SUM(count), 0) FROM batches").fetchone()[0]

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def _set_meta(self, key: str, value: str) -> str:
        self.db.execute("INSERT INTO meta(key, value) VALUES (?, ?) "
                        "ON CONFLICT(key) DO UPDATE SET value = excluded.value", (key, value))
        return value

    def append(self, uplinks: list) -> int:
        """Store encoded ``uplinks`` as one batch, less what does not fit; returns how many were dropped."""
        room = max(0, self.max_messages - self.depth)
        kept, dropped = uplinks[:room], len(uplinks) - min(room, len(uplinks))
        self.db.execute("BEGIN IMMEDIATE")
        try:
            if kept:
                self.db.execute("INSERT INTO batches(count, body) VALUES (?, ?)",
                                (len(kept), json.dumps(kept, separators=(",", ":"))))
            if dropped:
                self._set_meta("dropped", str(self.dropped + dropped))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.depth += len(kept)
        self.dropped += dropped
        return dropped

    def pending(self, after: int = 0, limit: int = 1) -> list[Batch]:
        """The oldest batches with ``seq`` above ``after``."""
        rows = self.db.execute("SELECT seq, count, body FROM batches WHERE seq > ? ORDER BY seq LIMIT ?",
                               (after, limit)).fetchall()
        return [Batch(seq, count, json.loads(body)) for seq, count, body in rows]

    def next_group(self, max_items: int, max_bytes: int = 1024 * 1024) -> Batch | None:
        """The oldest batches as one: up to ``max_items`` uplinks and about ``max_bytes`` of stored
        JSON (at least one batch), numbered by the last of them. Only their bodies are read."""
        sizes = self.db.execute("SELECT seq, count, length(body) FROM batches ORDER BY seq LIMIT ?",
                                (max_items,)).fetchall()
        if not sizes:
            return None
        last, total, size = sizes[0]
        for seq, count, length in sizes[1:]:
            if total + count > max_items or size + length > max_bytes:
                break
            last, total, size = seq, total + count, size + length
        bodies = self.db.execute("SELECT body FROM batches WHERE seq <= ? ORDER BY seq", (last,)).fetchall()
        return Batch(last, total, [u for (body,) in bodies for u in json.loads(body)])

    def ack(self, seq: int) -> None:
        """The server holds every batch up to ``seq``: forget them."""
        removed = self.db.execute("SELECT COALESCE(SUM(count), 0) FROM batches WHERE seq <= ?", (seq,)).fetchone()[0]
        if removed:
            self.db.execute("DELETE FROM batches WHERE seq <= ?", (seq,))
            self.depth -= removed

    def discard(self, seq: int, count: int) -> None:
        """The server refused the batches up to ``seq`` for good: forget them, counted as dropped."""
        self.ack(seq)
        self.dropped += count
        self._set_meta("dropped", str(self.dropped))

    def remember_config(self, config: dict) -> None:
        self._set_meta("config", json.dumps(config))

    def last_config(self) -> dict | None:
        text = self._meta("config")
        return json.loads(text) if text else None

    def close(self) -> None:
        self.db.close()
