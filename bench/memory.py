"""Resident memory of the production processes: at rest, under HTTP load, after many converters (issue 9).

Processes as production runs them (bench/procs.py): the web server (procs.WEB_SERVER) serving
tbproject.asgi, one Celery worker (a prefork parent and its child, which starts the converter
engine's own worker processes) and runintegrations. Each is started in its own session, so its
process group holds everything it started; a figure is the sum over that group:

    RSS  VmRSS of /proc/<pid>/status, summed: the figure. Pages a forked child shares with its
         parent are counted twice, so it overstates what the group takes from the machine.
    PSS  Pss of /proc/<pid>/smaps_rollup, summed (an extra): shared pages split between sharers,
         the group's honest share.

    (a) at rest, 5 s after start; baseline for web: the bare ASGI app on the same server at rest;
        for the worker and runintegrations: a bare interpreter with Django set up.
    (b) max under HTTP load (one message per POST, 64 clients, until every message is stored),
        sampled every 100 ms; baseline: the same process at rest (ratio = growth).
    (c) the worker after N distinct converters (one HTTP integration each) have each decoded a
        message. The engine keeps at most CONVERTER_CONTEXT_CACHE compiled contexts per engine
        process (converters/engine/worker.py, LRU), so past that the figure must level off;
        ``rss_mb_after`` shows the worker's RSS after each quarter of the converters.
"""

import asyncio
import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path

from bench import loadgen, procs
from bench.uplinks import DECODER, _Clock, _objects, _reading, _row, _wait_stored

__all__ = ["run", "group_memory"]

REDIS_URL = "redis://127.0.0.1:6379/9"
KEYS = 3
CLIENTS = 64
REST_S = 5.0
MB = 1024 * 1024
_BARE_DJANGO = "import time, django; django.setup(); print('ready', flush=True); time.sleep(3600)"


def _kb(path: Path, field: str) -> int:
    try:
        for line in path.read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):  # the process exited, or the file is not readable
        pass
    return 0


def group_pids(pgid: int) -> list[int]:
    """Every live process whose process group is ``pgid``."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # Fields after the command name (which may hold spaces): state ppid pgrp ...
        fields = stat[stat.rindex(")") + 2:].split()
        if int(fields[2]) == pgid:
            pids.append(int(entry.name))
    return pids


def group_memory(pgid: int) -> tuple[float, float, int]:
    """(RSS MB, PSS MB, processes) of the process group ``pgid``."""
    pids = group_pids(pgid)
    rss = sum(_kb(Path(f"/proc/{p}/status"), "VmRSS:") for p in pids)
    pss = sum(_kb(Path(f"/proc/{p}/smaps_rollup"), "Pss:") for p in pids)
    return rss / 1024, pss / 1024, len(pids)


class _MaxSampler:
    """Samples the groups every 100 ms in a thread; ``peak[name]`` is the max (RSS, PSS, procs)."""

    def __init__(self, groups: dict[str, int]):
        self.groups = groups
        self.peak = {name: (0.0, 0.0, 0) for name in groups}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self):
        while not self._stop.wait(0.1):
            for name, pgid in self.groups.items():
                now = group_memory(pgid)
                if now[0] > self.peak[name][0]:
                    self.peak[name] = now

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def _bare_rest(env) -> dict[str, tuple]:
    """At-rest memory of the baselines: bare ASGI app on the web server, interpreter with Django set up."""
    with procs.bare_asgi(env, procs.free_port()) as bare_web, \
            procs.Service("bare-django", [sys.executable, "-c", _BARE_DJANGO], env, ready_line="ready") as bare:
        time.sleep(REST_S)
        return {"web": group_memory(bare_web.pid()), "django": group_memory(bare.pid())}


def _post_paths(port: int, requests: list[tuple[str, bytes]], concurrency: int) -> Counter:
    """POST each body to its own path (one per integration) over keep-alive connections; the
    status counts. Like loadgen.post_all, which takes one path for all bodies."""
    async def connection(queue: asyncio.Queue, statuses: Counter):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while not queue.empty():
                path, body = queue.get_nowait()
                writer.write(f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                             f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
                head = await reader.readuntil(b"\r\n\r\n")
                statuses[int(head[9:12])] += 1
                length = next((int(line[15:]) for line in head.split(b"\r\n")
                               if line[:15].lower() == b"content-length:"), 0)
                if length:
                    await reader.readexactly(length)
        finally:
            writer.close()

    async def go():
        queue: asyncio.Queue = asyncio.Queue()
        for item in requests:
            queue.put_nowait(item)
        statuses: Counter = Counter()
        await asyncio.gather(*(connection(queue, statuses) for _ in range(min(concurrency, len(requests)))))
        return statuses

    return asyncio.run(go())


def _converters(tenant, n: int) -> list[str]:
    """n converters with distinct scripts, one HTTP integration each; their ingress paths."""
    from converters.models import Converter
    from integrations.models import Integration

    paths = []
    for i in range(n):
        # A distinct comment makes a distinct source: the engine compiles and caches each one.
        conv = Converter.objects.create(tenant=tenant, name=f"mem-decoder-{i}", type="UPLINK",
                                        configuration={"scriptLang": "JS", "decoder": f"// converter {i}\n{DECODER}"})
        http = Integration.objects.create(tenant=tenant, name=f"mem-http-{i}", type="HTTP", default_converter=conv,
                                          configuration={"baseUrl": "http://127.0.0.1"})
        paths.append(f"/api/v1/integrations/http/{http.routing_key}")
    return paths


def _mb(value: float) -> float:
    return round(value, 1)


def _measure(env, dsn, quick: bool) -> list[dict]:
    tenant, _, http = _objects()
    clock = _Clock()
    n_load = 3000 if quick else 20000
    n_conv = 300 if quick else 1000  # quick still passes the 256-context bound
    bare = _bare_rest(env)
    paths = _converters(tenant, n_conv)
    port = procs.free_port()
    with procs.web(env, port) as web, procs.worker(env, concurrency=1) as worker, procs.listener_host(env) as host:
        groups = {"web": web.pid(), "worker": worker.pid(), "runintegrations": host.pid()}
        time.sleep(REST_S)
        rest = {name: group_memory(pgid) for name, pgid in groups.items()}

        first = clock.take(n_load)
        bodies = [json.dumps(_reading(i, first + i)).encode() for i in range(n_load)]
        path = f"/api/v1/integrations/http/{http.routing_key}"
        with _MaxSampler(groups) as sampler:
            result = asyncio.run(loadgen.post_all(port, path, bodies, concurrency=CLIENTS))
            stored = _wait_stored(dsn, first, first + n_load, n_load * KEYS, 300)
        if stored is None:
            raise RuntimeError("load uplinks were not all stored within the timeout: see var/bench/worker.log")
        load = sampler.peak

        after = []
        quarter = (n_conv + 3) // 4
        for lo in range(0, n_conv, quarter):
            part = paths[lo : lo + quarter]
            first = clock.take(len(part))
            reqs = [(p, json.dumps({"n": "mem-device", "ts": first + j, "t": 1, "h": 2, "p": 3}).encode())
                    for j, p in enumerate(part)]
            statuses = _post_paths(port, reqs, CLIENTS)
            if set(statuses) - {200, 204}:
                raise RuntimeError(f"converter uplink POSTs failed: {dict(statuses)}")
            if _wait_stored(dsn, first, first + len(part), len(part) * KEYS, 300) is None:
                raise RuntimeError("converter uplinks were not all stored: see var/bench/worker.log")
            time.sleep(1.0)  # let the worker settle (freed contexts, finished batches)
            after.append((lo + len(part), group_memory(groups["worker"])))

    rows = []
    for name, base_key in (("web", "web"), ("worker", "django"), ("runintegrations", "django")):
        rss, pss, count = rest[name]
        base_label = (f"bare ASGI app on {procs.WEB_SERVER} at rest (MB)" if base_key == "web"
                      else "bare interpreter with Django set up, at rest (MB)")
        rows.append(_row(f"memory_{name}_at_rest_mb", _mb(rss), "MB", base_label, _mb(bare[base_key][0]),
                         "bounded; reported (issue 9)", pss_mb=_mb(pss), processes=count))
    for name in groups:
        rss, pss, count = load[name]
        rows.append(_row(f"memory_{name}_under_http_load_max_mb", _mb(rss), "MB",
                         "the same process group at rest (MB)", _mb(rest[name][0]), "bounded; reported (issue 9)",
                         pss_mb=_mb(pss), processes=count, posts=n_load, clients=CLIENTS,
                         accept_rate=round(n_load / result.elapsed)))
    final_rss, final_pss, count = after[-1][1]
    half = next(m for n, m in after if n >= n_conv // 2)
    rows.append(_row(f"memory_worker_after_{n_conv}_converters_mb", _mb(final_rss), "MB",
                     "the worker's process group at rest (MB)", _mb(rest["worker"][0]),
                     "bounded by the LRU of CONVERTER_CONTEXT_CACHE contexts per engine process",
                     pss_mb=_mb(final_pss), processes=count, converters=n_conv,
                     rss_mb_after={n: _mb(m[0]) for n, m in after},
                     growth_second_half_mb=_mb(final_rss - half[0])))
    return rows


def run(quick: bool = False):
    """Yields the memory figures; a failure yields one error row."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).flushdb()
        dsn = os.environ["DATABASE_URL"]  # the bench database (bench/setup.py)
        yield from _measure(procs.production_env(REDIS_URL), dsn, quick)
    except Exception as exc:  # report it: the other benchmarks still run
        yield {"metric": "memory", "error": f"{type(exc).__name__}: {exc}"[:1000]}


if __name__ == "__main__":  # python -m bench.memory: this benchmark alone, quick
    from bench.setup import bench_database

    with bench_database():
        for row in run(quick=True):
            print(row)
