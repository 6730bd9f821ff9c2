"""Send-to-queryable latency: when a sample of the sent messages became readable in ts_kv.

    watch = Visibility(dsn, {ts: (index, device name), ...})   # the sampled messages (unique ts)
    watch.start(); ...send...; seen = watch.stop(timeout)   # {index: time.perf_counter() first seen}

The watcher is a process of its own (``python -m bench.visibility``): as a thread of the load
generator it held the generator's GIL for every poll, and the accept latencies the generator
measured grew with it (paced 1,000 msg/s: p99 23.6-27.1 ms with the thread, 18.6-19.9 without,
docs/performance.md). The times it reports are ``time.perf_counter()`` of the watching process:
on Linux that is CLOCK_MONOTONIC, one clock for every process of the machine, so they compare
with the generator's own perf_counter() send times as they did in one process (the test
bench/tests/test_visibility.py checks it).

It asks every 5 ms which of the sampled, not yet seen timestamps have a row of key "t"
(primary-key lookups of the samples, so the watching costs the database little). The latency of a
message is then (first seen - its request was written); the 5 ms poll adds up to 5 ms.

Protocol with the child, one JSON line each way: the parent writes {dsn, samples, key}; the
child answers "ready" once connected (start() returns then, so no sample is seen late because
the watcher was still starting); the parent writes the timeout; the child watches until every
sample was seen or the timeout passed, and writes {index: first seen}.
"""

import json
import select
import subprocess
import sys
import time
from pathlib import Path

import psycopg

__all__ = ["Visibility"]

POLL_SECONDS = 0.005
ROOT = Path(__file__).resolve().parent.parent


class Visibility:
    def __init__(self, dsn: str, samples: dict[int, tuple[int, str]], key: str = "t"):
        self.dsn, self.samples, self.key = dsn, dict(samples), key
        self.seen: dict[int, float] = {}
        self._proc: subprocess.Popen | None = None

    def start(self) -> "Visibility":
        self._proc = subprocess.Popen([sys.executable, "-m", "bench.visibility"], cwd=ROOT, text=True,
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        samples = [[ts, i, name] for ts, (i, name) in self.samples.items()]
        config = {"dsn": self.dsn, "key": self.key, "samples": samples}
        self._proc.stdin.write(json.dumps(config) + "\n")
        self._proc.stdin.flush()
        if self._proc.stdout.readline().strip() != "ready":
            self._proc.kill()
            raise RuntimeError("the visibility watcher did not start (see its stderr above)")
        return self

    def stop(self, timeout: float) -> dict[int, float]:
        """Waits until every sample was seen or ``timeout`` passed; returns {index: first seen}."""
        proc = self._proc
        try:
            proc.stdin.write(f"{timeout}\n")
            proc.stdin.flush()
            out, _ = proc.communicate(timeout=timeout + 10)
            self.seen = {int(i): at for i, at in json.loads(out or "{}").items()}
        except (subprocess.TimeoutExpired, BrokenPipeError, ValueError):
            proc.kill()
            proc.wait()
        return self.seen


def _stop_requested(timeout: float | None) -> float | None:
    """The parent's timeout, once it was written (non-blocking); ``timeout`` while none was."""
    if timeout is None and select.select([sys.stdin], [], [], 0)[0]:
        line = sys.stdin.readline()
        return float(line) if line.strip() else 0.0
    return timeout


def _watch() -> None:
    config = json.loads(sys.stdin.readline())
    samples = {ts: (i, name) for ts, i, name in config["samples"]}
    seen: dict[int, float] = {}
    names = sorted({name for _, name in samples.values()})
    with psycopg.connect(config["dsn"], autocommit=True) as conn:
        (key_id,) = conn.execute("SELECT id FROM devices_telemetrykey WHERE key = %s", [config["key"]]).fetchone()
        ids = dict(conn.execute("SELECT name, id FROM devices_device WHERE name = ANY(%s)", [names]).fetchall())
        print("ready", flush=True)
        timeout = deadline = None
        while len(seen) < len(samples) and (deadline is None or time.perf_counter() < deadline):
            waiting = [(ts, ids[name]) for ts, (i, name) in samples.items() if i not in seen]
            found = conn.execute(
                "SELECT ts FROM ts_kv WHERE (entity_id, key, ts) IN "
                "(SELECT e, %s, t FROM unnest(%s::uuid[], %s::bigint[]) AS u(e, t))",
                [key_id, [e for _, e in waiting], [t for t, _ in waiting]]).fetchall()
            now = time.perf_counter()
            for (ts,) in found:
                seen.setdefault(samples[ts][0], now)
            if deadline is None and (timeout := _stop_requested(timeout)) is not None:
                deadline = time.perf_counter() + timeout
            time.sleep(POLL_SECONDS)
    if timeout is None:  # everything was seen before the parent asked: still answer when it does
        sys.stdin.readline()
    print(json.dumps(seen), flush=True)


if __name__ == "__main__":
    _watch()
