"""Send-to-queryable latency: when a sample of the sent messages became readable in ts_kv.

    watch = Visibility(dsn, {ts: (index, device name), ...})   # the sampled messages (unique ts)
    watch.start(); ...send...; seen = watch.stop(timeout)   # {index: time.perf_counter() first seen}

A thread asks every 5 ms which of the sampled, not yet seen timestamps have a row of key "t"
(primary-key lookups of the samples, so the watching costs the database little). The latency of a
message is then (first seen - its request was written); the 5 ms poll adds up to 5 ms.
"""

import threading
import time

import psycopg

__all__ = ["Visibility"]

POLL_SECONDS = 0.005


class Visibility:
    def __init__(self, dsn: str, samples: dict[int, tuple[int, str]], key: str = "t"):
        self.dsn, self.samples, self.key = dsn, dict(samples), key
        self.seen: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="visibility", daemon=True)

    def start(self) -> "Visibility":
        self._thread.start()
        return self

    def stop(self, timeout: float) -> dict[int, float]:
        """Waits until every sample was seen or ``timeout`` passed; returns {index: first seen}."""
        deadline = time.perf_counter() + timeout
        while len(self.seen) < len(self.samples) and time.perf_counter() < deadline and self._thread.is_alive():
            time.sleep(0.05)
        self._stop.set()
        self._thread.join(5)
        return self.seen

    def _run(self) -> None:
        names = sorted({name for _, name in self.samples.values()})
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            (key_id,) = conn.execute("SELECT id FROM devices_telemetrykey WHERE key = %s", [self.key]).fetchone()
            ids = dict(conn.execute("SELECT name, id FROM devices_device WHERE name = ANY(%s)", [names]).fetchall())
            while not self._stop.is_set() and len(self.seen) < len(self.samples):
                waiting = [(ts, ids[name]) for ts, (i, name) in self.samples.items() if i not in self.seen]
                found = conn.execute(
                    "SELECT ts FROM ts_kv WHERE (entity_id, key, ts) IN "
                    "(SELECT e, %s, t FROM unnest(%s::uuid[], %s::bigint[]) AS u(e, t))",
                    [key_id, [e for _, e in waiting], [t for t, _ in waiting]]).fetchall()
                now = time.perf_counter()
                for (ts,) in found:
                    self.seen.setdefault(self.samples[ts][0], now)
                time.sleep(POLL_SECONDS)
