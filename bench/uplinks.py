"""End-to-end uplink throughput: from send to telemetry stored and queryable (issue 4).

Production configuration, started here: PostgreSQL (the bench database), Redis (Celery broker),
the web server (uvicorn; BENCH_WEB_SERVER=daphne to compare) serving tbproject.asgi, one Celery
worker, and for MQTT one runintegrations process, each its own OS process. Debug off, devices
provisioned by a warm-up round, 3 telemetry keys per message, every message with its own ts (so
every one is stored: nothing is deduplicated away).

    (a) HTTP, one message per POST, 64 keep-alive clients; baseline: a bare ASGI app on the
        same server that only reads the POST and answers 204.
    (b) HTTP, 100 messages per POST, the converter returns an array; same baseline, per POST.
    (c) MQTT QoS 1 through a Mosquitto of the bench's own (bench/mqtt_uplinks.py); baseline: a bare
        gmqtt subscriber that only counts the same messages.
    (d) HTTP accept latency at a paced 1,000 msg/s (p50/p99), and in a second paced round the
        send-to-queryable latency of a sample (bench/visibility.py), each measured by itself.
    (e) TCP and RabbitMQ, each beside a bare peer of its transport (bench/transports.py), and
        Kafka beside a bare aiokafka consumer (bench/kafka_uplinks.py).

"Stored" is observed by counting rows in ts_kv every 10 ms, so a figure includes the queue, the
worker's batches and the telemetry writes, not only the accept.
"""

import asyncio
import json
import os
import time
import uuid

import psycopg

from bench import kafka_uplinks, loadgen, mqtt_uplinks, procs, transports
from bench.setup import processed, processed_in
from bench.visibility import Visibility

__all__ = ["run"]

DECODER = r"""
var data = JSON.parse(String.fromCharCode.apply(String, payload));
function one(d) {
  return {deviceName: d.n, deviceType: 'bench-sensor', telemetry: {ts: d.ts, values: {t: d.t, h: d.h, p: d.p}}};
}
return Array.isArray(data) ? data.map(one) : one(data);
"""
DEVICES = 1000
KEYS = 3
#: Celery broker of the benchmark's processes (flushed first); BENCH_REDIS_URL to use another database.
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")


class _Clock:
    """Distinct ts for every message of the run, in the recent past (inside retention)."""

    def __init__(self):
        self.next = int(time.time() * 1000) - 6 * 3600 * 1000

    def take(self, n: int) -> int:
        first, self.next = self.next, self.next + n
        return first


def _reading(i: int, ts: int) -> dict:
    return {"n": f"bench-{i % DEVICES:04d}", "ts": ts, "t": 20 + i % 17 / 10, "h": 40 + i % 23, "p": 1000 + i % 31}


def _stored(dsn: str, lo: int, hi: int) -> int:
    with psycopg.connect(dsn) as conn:
        return _count(conn, lo, hi)


def _count(conn, lo: int, hi: int) -> int:
    return conn.execute("SELECT count(*) FROM ts_kv WHERE ts >= %s AND ts < %s", [lo, hi]).fetchone()[0]


def _wait_stored(dsn: str, lo: int, hi: int, expected: int, timeout: float, *,
                 processed_at_least: int | None = None) -> float | None:
    """time.perf_counter() when ``expected`` rows of [lo, hi) are queryable; None on timeout.

    Counting is not free (about 20 ms at 120,000 rows): the poll waits four times as long as its
    last count took (at least 10 ms), so that watching uses at most a fifth of one database core
    and does not slow down the system it measures. With ``processed_at_least`` (:func:`bench.setup.processed`
    before the load, plus its uplinks), the watch first reads the pipeline's counters, which cost
    nothing to read, every 5 ms until they reach it, and counts the rows once then: the figure no
    longer waits up to a poll period for the last batch, nor shares the database with the counting
    while the load runs (docs/performance.md, "The observer's share")."""
    deadline = time.perf_counter() + timeout
    with psycopg.connect(dsn, autocommit=True) as conn:
        if processed_at_least is not None:
            while time.perf_counter() < deadline:
                done = processed_in(conn)
                at = time.perf_counter()
                if done >= processed_at_least:
                    if _count(conn, lo, hi) >= expected:
                        return at
                    break  # some were not stored (failed, dropped): count until they are, as without counters
                time.sleep(0.005)
        while time.perf_counter() < deadline:
            asked = time.perf_counter()
            count = _count(conn, lo, hi)
            answered = time.perf_counter()
            if count >= expected:
                return answered
            time.sleep(max(0.01, 4 * (answered - asked)))
    return None


def _objects():
    """A tenant, the bench converter and an HTTP integration, created through the ORM."""
    from converters.models import Converter
    from integrations.models import Integration
    from tenants.models import Tenant

    tenant = Tenant.objects.create(title=f"bench-{uuid.uuid4().hex[:6]}")
    conv = Converter.objects.create(tenant=tenant, name="bench-decoder", type="UPLINK",
                                    configuration={"scriptLang": "JS", "decoder": DECODER})
    http = Integration.objects.create(tenant=tenant, name="bench-http", type="HTTP", default_converter=conv,
                                      configuration={"baseUrl": "http://127.0.0.1"})
    return tenant, conv, http


def _row(metric, value, unit, baseline, baseline_value, target, **extra) -> dict:
    digits = 1 if unit == "ms" else None
    return {"metric": metric, "value": round(value, digits), "unit": unit, "baseline": baseline,
            "baseline_value": round(baseline_value, digits),
            "ratio": round(value / baseline_value, 3) if baseline_value else None,
            "target": target, **extra}


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _http_round(port, path, dsn, clock, n_posts, per_post, concurrency=64, rate=None, timeout=120.0,
                watch_every: int = 0):
    """POST n_posts bodies (per_post readings each); returns (load result, seconds to stored or None).

    ``watch_every`` (one reading per POST only): note when every so many messages became
    queryable, in ``result.visible_ms`` (send-to-queryable latencies, bench/visibility.py)."""
    first = clock.take(n_posts * per_post)
    bodies = []
    for p in range(n_posts):
        readings = [_reading(p * per_post + j, first + p * per_post + j) for j in range(per_post)]
        bodies.append(json.dumps(readings[0] if per_post == 1 else readings).encode())
    watch = None
    if watch_every and per_post == 1:
        watch = Visibility(dsn, {first + i: (i, _reading(i, 0)["n"]) for i in range(0, n_posts, watch_every)}).start()
    before = processed(dsn)
    result = asyncio.run(loadgen.post_all(port, path, bodies, concurrency=concurrency, rate=rate))
    if set(result.statuses) - {200, 204}:
        raise RuntimeError(f"uplink POSTs failed: {dict(result.statuses)}")
    done = _wait_stored(dsn, first, first + n_posts * per_post, n_posts * per_post * KEYS, timeout,
                        processed_at_least=before + n_posts)
    if watch is not None:
        seen = watch.stop(10)
        result.visible_ms = [(at - result.sent[i]) * 1000 for i, at in seen.items()]
    return result, (None if done is None else done - result.started)


def _bare_http(env, path, n_posts, per_post, concurrency=64) -> loadgen.LoadResult:
    port = procs.free_port()
    body = json.dumps([_reading(j, j) for j in range(per_post)] if per_post > 1 else _reading(0, 0)).encode()
    with procs.bare_asgi(env, port):
        asyncio.run(loadgen.post_all(port, path, [body] * 200, concurrency=concurrency))  # warm up
        return asyncio.run(loadgen.post_all(port, path, [body] * n_posts, concurrency=concurrency))


def _http(env, dsn, http, clock, quick: bool) -> list[dict]:
    path = f"/api/v1/integrations/http/{http.routing_key}"
    port = procs.free_port()
    rows = []
    n_single = 3000 if quick else 20000
    n_batched = 60 if quick else 400
    with procs.web(env, port), procs.worker(env):
        warm, took = _http_round(port, path, dsn, clock, DEVICES, 1, timeout=180)  # provisions the devices
        if took is None:
            raise RuntimeError("warm-up uplinks were not stored: see var/bench/worker.log")
        single, took_single = _http_round(port, path, dsn, clock, n_single, 1)
        batched, took_batched = _http_round(port, path, dsn, clock, n_batched, 100)
        paced_n = 2000 if quick else 5000
        # Two paced rounds: the accept latency without the send-to-queryable watcher (a process of
        # its own, polling PostgreSQL every 5 ms, about an eighth of a core here: its load was in
        # the figure it sat beside), then the same load watched.
        paced, _ = _http_round(port, path, dsn, clock, paced_n, 1, concurrency=32, rate=1000)
        watched, _ = _http_round(port, path, dsn, clock, paced_n, 1, concurrency=32, rate=1000, watch_every=10)
    bare_single = _bare_http(env, path, n_single, 1)
    bare_batched = _bare_http(env, path, n_batched * 4, 100)
    if took_single is None or took_batched is None:
        raise RuntimeError("uplinks were not all stored within the timeout: see var/bench/worker.log")
    base_single = n_single / bare_single.elapsed
    rows.append(_row("http_uplink_1_per_post_stored_msg_per_s", n_single / took_single, "msg/s",
                     f"bare ASGI app on {procs.WEB_SERVER}, accept only (req/s)", base_single,
                     ">= 1500 msg/s (issue 4), >= 3000 (issue 9)",
                     messages=n_single, accept_rate=round(n_single / single.elapsed),
                     p50_ms=_ms(loadgen.percentile(single.latencies, 50)),
                     p99_ms=_ms(loadgen.percentile(single.latencies, 99)), latency="accept",
                     baseline_p99_ms=_ms(loadgen.percentile(bare_single.latencies, 99)), clients=64))
    base_batched = n_batched * 4 * 100 / bare_batched.elapsed
    rows.append(_row("http_uplink_100_per_post_stored_msg_per_s", n_batched * 100 / took_batched, "msg/s",
                     f"bare ASGI app on {procs.WEB_SERVER}, accept only, 100 readings per POST (msg/s)", base_batched,
                     ">= 10000 msg/s (issue 4), >= 20000 (issue 9)", messages=n_batched * 100,
                     p50_ms=_ms(loadgen.percentile(batched.latencies, 50)),
                     p99_ms=_ms(loadgen.percentile(batched.latencies, 99)), latency="accept, per POST",
                     baseline_p99_ms=_ms(loadgen.percentile(bare_batched.latencies, 99)), clients=64))
    rows.append(_row("http_uplink_accept_latency_p99_ms_at_1000_msg_s", _ms(loadgen.percentile(paced.latencies, 99)),
                     "ms", "p50 of the same run (ms)", _ms(loadgen.percentile(paced.latencies, 50)),
                     "p99 <= 20 ms (issue 9)", messages=paced_n, achieved_rate=round(paced_n / paced.elapsed),
                     p50_ms=_ms(loadgen.percentile(paced.latencies, 50)),
                     p99_ms=_ms(loadgen.percentile(paced.latencies, 99)), latency="accept",
                     p99_ms_while_watched=_ms(loadgen.percentile(watched.latencies, 99))))
    visible = watched.visible_ms
    if visible:
        p50, p99 = loadgen.percentile(visible, 50), loadgen.percentile(visible, 99)
        rows.append(_row("http_uplink_send_to_queryable_p99_ms_at_1000_msg_s", p99, "ms",
                         "p50 of the same run (ms)", p50, "p99 <= 250 ms (issue 9)", samples=len(visible),
                         of_messages=paced_n, p50_ms=round(p50, 1), p99_ms=round(p99, 1),
                         latency="request written to the row readable in ts_kv (5 ms polling)"))
    return rows


#: (web processes, worker processes) of the scaling runs; the first is the baseline.
SCALING = ((1, 1), (1, 2), (2, 2))


def _scaling(env, dsn, http, clock, quick: bool) -> list[dict]:
    """HTTP one message per POST with more web and worker processes (issue 9, scaling evidence)."""
    path = f"/api/v1/integrations/http/{http.routing_key}"
    n = 3000 if quick else 15000
    figures = []
    for webs, workers in SCALING:
        if webs > 1 and procs.WEB_SERVER == "daphne":
            continue
        port = procs.free_port()
        with procs.web(env, port, processes=webs), procs.worker(env, concurrency=workers):
            _http_round(port, path, dsn, clock, 500, 1)  # warm: processes started, devices known
            result, took = _http_round(port, path, dsn, clock, n, 1)
        if took is None:
            raise RuntimeError(f"scaling run web={webs} workers={workers}: not all stored")
        figures.append((webs, workers, n / took, result))
    (_, _, base, _), rows = figures[0], []
    for webs, workers, rate, result in figures:
        rows.append(_row(f"http_uplink_1_per_post_stored_msg_per_s_web{webs}_workers{workers}", rate, "msg/s",
                         "1 web and 1 worker process, same run (msg/s)", base, "grows with processes (issue 9)",
                         messages=n, accept_rate=round(n / result.elapsed),
                         p50_ms=_ms(loadgen.percentile(result.latencies, 50)),
                         p99_ms=_ms(loadgen.percentile(result.latencies, 99)), latency="accept"))
    return rows


def run(quick: bool = False, only: set[str] | None = None):
    """Yields each figure as it is measured; a scenario that fails yields an error row and the
    others still run. ``only``: names of the scenarios to run (http, scaling, mqtt, tcp, rabbitmq, kafka)."""
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    dsn = os.environ["DATABASE_URL"]  # the bench database (bench/setup.py)
    env = procs.production_env(REDIS_URL)
    tenant, conv, http = _objects()
    clock = _Clock()
    shared = {"readings": lambda n, first: [_reading(i, first + i) for i in range(n)], "wait_stored": _wait_stored,
              "row": _row, "devices": DEVICES}
    scenarios = [
        ("http", lambda: _http(env, dsn, http, clock, quick)),
        ("scaling", lambda: _scaling(env, dsn, http, clock, quick)),
        ("mqtt", lambda: mqtt_uplinks.run(env, dsn, tenant, conv, clock, quick, **shared)),
        ("tcp", lambda: [transports.tcp(env, dsn, tenant, conv, clock, quick, **shared)]),
        ("rabbitmq", lambda: [transports.rabbitmq(env, dsn, tenant, conv, clock, quick, **shared)]),
        ("kafka", lambda: [kafka_uplinks.kafka(env, dsn, tenant, conv, clock, quick, **shared)]),
    ]
    for name, scenario in scenarios:
        if only and name not in only:
            continue
        try:
            yield from scenario()
        except Exception as exc:  # report it and go on: one broken transport must not hide the rest
            yield {"metric": f"uplinks_{name}", "error": f"{type(exc).__name__}: {exc}"[:1000]}


if __name__ == "__main__":  # python -m bench.uplinks: this benchmark alone, quick
    from bench.setup import bench_database

    with bench_database():
        for row in run(quick=True):
            print(row)
