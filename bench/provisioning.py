"""First message of never-seen devices: auto-provisioning throughput (issue 9).

Production configuration, as bench/uplinks.py starts it: the web server of bench/procs.py
(procs.WEB_SERVER) serving tbproject.asgi and one Celery worker, each its own OS process, Redis
db 9 as the broker. One HTTP integration with ``allow_create_devices_or_assets`` on. After a
warm-up on a few known devices (so the converter is compiled and the connections are open), one
POST per never-seen device name over 64 clients; the figure is devices/s from the first send
until every device exists *and* its first telemetry is stored (both observed by polling the
database every 10 ms).

Baseline, measured in the same run: raw psycopg inserting as many rows into the device table
(every column the Device model has), one transaction per 64 devices with executemany. It shows
what the database alone costs for the rows; the pipeline also converts, looks each name up,
creates each device in its own transaction (the race-safe way, see devices/provisioning.py) and
writes telemetry and latest values.
"""

import asyncio
import json
import os
import time
import uuid

import psycopg

from bench import loadgen, procs
from bench.uplinks import _Clock, _objects, _row, _wait_stored

__all__ = ["run"]

REDIS_URL = "redis://127.0.0.1:6379/9"
KEYS = 3  # the bench decoder writes t, h and p
CLIENTS = 64
BATCH = 64  # baseline rows per transaction
METRIC = "auto_provisioning_first_message_devices_per_s"


def _body(name: str, ts: int, i: int) -> bytes:
    return json.dumps({"n": name, "ts": ts, "t": 20 + i % 17 / 10, "h": 40 + i % 23, "p": 1000 + i % 31}).encode()


def _wait_devices(dsn: str, tenant_id, prefix: str, expected: int, timeout: float) -> float | None:
    """time.perf_counter() when ``expected`` devices named ``prefix``* exist; None on timeout."""
    deadline = time.perf_counter() + timeout
    with psycopg.connect(dsn, autocommit=True) as conn:
        while time.perf_counter() < deadline:
            count = conn.execute("SELECT count(*) FROM devices_device WHERE tenant_id = %s AND name LIKE %s",
                                 [tenant_id, prefix + "%"]).fetchone()[0]
            if count >= expected:
                return time.perf_counter()
            time.sleep(0.01)
    return None


def _baseline(dsn: str, tenant_id, profile_id, n: int) -> float:
    """Seconds for raw psycopg to insert ``n`` device rows, BATCH per transaction."""
    from devices.models import Device

    table = Device._meta.db_table
    prefix = f"raw-{uuid.uuid4().hex[:6]}-"
    now = int(time.time() * 1000)
    rows = [(uuid.uuid4(), tenant_id, now, 1, "{}", f"{prefix}{i:05d}", "", None, profile_id) for i in range(n)]
    with psycopg.connect(dsn) as conn:
        started = time.perf_counter()
        for i in range(0, n, BATCH):
            with conn.cursor() as cur:
                cur.executemany(f"INSERT INTO {table} (id, tenant_id, created_time, version, additional_info, name, "
                                "label, customer_id, profile_id) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                                rows[i : i + BATCH])
            conn.commit()
        took = time.perf_counter() - started
        conn.execute(f"DELETE FROM {table} WHERE tenant_id = %s AND name LIKE %s", [tenant_id, prefix + "%"])
        conn.commit()
    return took


def _measure(env, dsn, http, clock, n: int) -> dict:
    from devices.models import Device, DeviceProfile

    path = f"/api/v1/integrations/http/{http.routing_key}"
    port = procs.free_port()
    prefix = f"new-{uuid.uuid4().hex[:6]}-"
    with procs.web(env, port), procs.worker(env):
        # Warm-up: 8 known devices, 200 messages; compiles the converter and opens connections.
        warm_first = clock.take(200)
        warm = [_body(f"warm-{i % 8}", warm_first + i, i) for i in range(200)]
        asyncio.run(loadgen.post_all(port, path, warm, concurrency=CLIENTS))
        if _wait_stored(dsn, warm_first, warm_first + 200, 200 * KEYS, 120) is None:
            raise RuntimeError("warm-up uplinks were not stored: see var/bench/worker.log")
        first = clock.take(n)
        bodies = [_body(f"{prefix}{i:05d}", first + i, i) for i in range(n)]
        result = asyncio.run(loadgen.post_all(port, path, bodies, concurrency=CLIENTS))
        if set(result.statuses) - {200, 204}:
            raise RuntimeError(f"uplink POSTs failed: {dict(result.statuses)}")
        created = _wait_devices(dsn, http.tenant_id, prefix, n, 300)
        stored = _wait_stored(dsn, first, first + n, n * KEYS, 300)
    if created is None or stored is None:
        have = Device.objects.filter(tenant_id=http.tenant_id, name__startswith=prefix).count()
        raise RuntimeError(f"{have} of {n} devices created (telemetry stored: {stored is not None}) within the "
                           "timeout: see var/bench/worker.log")
    took = max(created, stored) - result.started
    profile = DeviceProfile.objects.get(tenant_id=http.tenant_id, name="bench-sensor")
    base_s = _baseline(dsn, http.tenant_id, profile.pk, n)
    return _row(METRIC, n / took, "devices/s",
                f"raw psycopg executemany INSERT of the same number of device rows, {BATCH} per transaction "
                "(devices/s)", n / base_s, ">= 500 devices/s (issue 9)",
                devices=n, clients=CLIENTS, accept_rate=round(n / result.elapsed),
                seconds_to_created=round(created - result.started, 3),
                seconds_to_stored=round(stored - result.started, 3),
                p50_ms=round(loadgen.percentile(result.latencies, 50) * 1000, 2),
                p99_ms=round(loadgen.percentile(result.latencies, 99) * 1000, 2))


def run(quick: bool = False):
    """Yields the provisioning figure; a failure yields an error row."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL).flushdb()
        dsn = os.environ["DATABASE_URL"]  # the bench database (bench/setup.py)
        env = procs.production_env(REDIS_URL)
        _, _, http = _objects()
        http.allow_create_devices_or_assets = True
        http.save()
        yield _measure(env, dsn, http, _Clock(), 300 if quick else 5000)  # past the accept pace (docs)
    except Exception as exc:  # report it: the other benchmarks still run
        yield {"metric": METRIC, "error": f"{type(exc).__name__}: {exc}"[:1000]}


if __name__ == "__main__":  # python -m bench.provisioning: this benchmark alone, quick
    from bench.setup import bench_database

    with bench_database():
        for row in run(quick=True):
            print(row)
