"""Cost growth with stored telemetry: ingest and query speed at 1M, 10M and 50M rows (issue 9).

ts_kv is filled through the product's own tables (partitions created by devices/telemetry/
storage.py, the real primary key) with server-side INSERT ... SELECT: 1,000 devices x 5 keys,
one point a minute per series, going back in time from an hour ago as the table grows (so 50M
rows span about a week, inside retention). ts_kv_latest holds one row per series, as the writer
would leave it. After each fill, VACUUM (ANALYZE) and a CHECKPOINT: what autovacuum and the
checkpointer do to a real table long before its history is read. Without them the first query to
touch a freshly filled page sets its hint bits, dirtying it, and a backend evicting dirty pages
from the 128 MB shared buffers writes them: a bench artifact that tripled the history latency
at 10M rows. Then at that size:

    (a) ingest: the product's writer (devices.telemetry.write_points) storing 50,000 new rows,
        the "live" shape of bench/telemetry_write.py (batches of 5,000, one reading per device
        and key per batch, every row also advancing a latest value); baseline: raw binary
        psycopg COPY of as many rows into ts_kv at the same size, same batches.
    (b) latest values: devices.telemetry.latest(entity_id), what GET .../values/timeseries
        answers, for 200 random devices; value p50, baseline: p50 at the first size.
    (c) history: devices.telemetry.history(entity_id, [key], start, start + 1 h, limit=100),
        what .../values/timeseries/history answers, for 200 random (device, key, hour) inside
        the stored span (60 points each); value p50, baseline: p50 at the first size.

Latency rows carry p50_ms and p99_ms. The figures should stay flat: the queries walk a B-tree
whose depth grows with the log of the rows, and the writer appends at the recent end. The
history query's 60 points sit on about 60 heap pages, though: once the table outgrows
shared_buffers (128 MB by default), each is a buffer miss, and its latency grows with that.

Disk: 50M rows take about 6 GB. With less than 20 GB free where PostgreSQL keeps its data, the
run stops at 10M and says so in its rows.
"""

import os
import random
import shutil
import sys
import time
import uuid

import psycopg

from bench import loadgen
from bench.uplinks import _row

__all__ = ["run"]

DEVICES = 1000
KEYS = ("temperature", "humidity", "pressure", "battery", "rssi")
STEP_MS = 60_000
HOUR_MS = 3_600_000
INGEST_STEPS = 10  # x 1,000 devices x 5 keys = 50,000 rows
BATCH = 5000
QUERIES = 200
MIN_FREE_GB_FOR_50M = 20
FILL_ROWS_PER_STATEMENT = 1_000_000
SIZES = {False: [1_000_000, 10_000_000, 50_000_000], True: [1_000_000, 2_000_000]}  # by quick


def _say(text: str) -> None:
    print(f"growth: {text}", file=sys.stderr, flush=True)


def _label(size: int) -> str:
    return f"{size // 1_000_000}M"


def _free_gb(conn) -> float:
    try:
        path = conn.execute("SHOW data_directory").fetchone()[0]
        return shutil.disk_usage(path).free / 1e9
    except (psycopg.Error, OSError):  # not superuser, or another machine: look at our own disk
        return shutil.disk_usage("/work").free / 1e9


class _Store:
    """The filled series: devices, key ids, and how many points per series are stored."""

    def __init__(self, conn, t_end: int):
        from devices.models import Device, DeviceProfile
        from devices.telemetry import keys, storage
        from tenants.models import Tenant

        tenant = Tenant.objects.create(title=f"bench-growth-{uuid.uuid4().hex[:6]}")
        profile = DeviceProfile.objects.create(tenant=tenant, name="growth-sensor")
        devices = Device.objects.bulk_create(
            [Device(tenant=tenant, profile=profile, name=f"growth-{i:04d}") for i in range(DEVICES)])
        # Sorted ids: each statement's rows land close together in the primary-key index. In the
        # heap a series' points end up interleaved with the other series of the statement, as a
        # time-ordered live ingest leaves them: a history query reads about one page per point.
        self.ids = sorted(d.pk for d in devices)
        self.key_ids = keys.key_ids(KEYS)
        self.t_end = t_end
        self.per_series = 0
        self.extra_rows = 0  # rows the ingest measurements added
        self.conn = conn
        kind, width = storage.current()
        if kind == "partitioned":  # a hypertable makes its own chunks
            lo = t_end - 30 * 86_400_000  # far enough back for 50M rows at one a minute per series
            storage.ensure_partitions({storage.partition_start(t, width)
                                       for t in range(lo, t_end + 86_400_000 + width, width)}, width)
        conn.execute("INSERT INTO ts_kv_latest (entity_id, key, ts, dbl_v) SELECT d, k, %s, 0.0 "
                     "FROM unnest(%s::uuid[]) d, unnest(%s::int[]) k", [t_end, self.ids, list(self.key_ids.values())])
        conn.commit()

    @property
    def rows(self) -> int:
        return self.per_series * DEVICES * len(KEYS) + self.extra_rows

    def fill_to(self, size: int) -> float:
        """Add points going back in time until ``size`` rows are stored; returns the seconds taken."""
        target = size // (DEVICES * len(KEYS))
        added = target - self.per_series
        if added <= 0:
            return 0.0
        per_chunk = max(1, FILL_ROWS_PER_STATEMENT // (added * len(KEYS)))
        started = time.perf_counter()
        self.conn.execute("SET synchronous_commit = off")  # the fill is setup, not a measurement
        for i in range(0, DEVICES, per_chunk):
            # j counts minutes back from t_end; descending j gives ascending ts within a series.
            self.conn.execute(
                "INSERT INTO ts_kv (entity_id, key, ts, dbl_v) "
                "SELECT d, k, %s - j * %s, (j %% 1000) / 10.0 "
                "FROM unnest(%s::uuid[]) d, unnest(%s::int[]) k, generate_series(%s, %s, -1) j",
                [self.t_end, STEP_MS, self.ids[i : i + per_chunk], list(self.key_ids.values()), target - 1,
                 self.per_series])
            self.conn.commit()
            if i and i % (per_chunk * 10) == 0:
                _say(f"  filled {i}/{DEVICES} devices")
        self.conn.commit()
        self.conn.autocommit = True  # VACUUM cannot run inside a transaction
        try:
            self.conn.execute("VACUUM (ANALYZE) ts_kv")
            try:
                self.conn.execute("CHECKPOINT")
            except psycopg.errors.InsufficientPrivilege:  # not superuser: the checkpointer gets there
                pass
        finally:
            self.conn.autocommit = False
        self.per_series = target
        return time.perf_counter() - started


def _ingest(store: _Store, round_no: int) -> tuple[float, float]:
    """(writer rows/s, raw COPY rows/s), each storing DEVICES x KEYS x INGEST_STEPS new rows."""
    from django.db import connection

    from devices.telemetry import Point, write_points

    base = store.t_end + round_no * 100 * 1000
    points = [Point(e, k, base + 1000 * (s + 1), 20.0 + s) for s in range(INGEST_STEPS) for e in store.ids
              for k in KEYS]
    started = time.perf_counter()
    for i in range(0, len(points), BATCH):
        write_points(points[i : i + BATCH])
    writer_s = time.perf_counter() - started
    connection.close()

    # The same rows, shifted 50 s later so they are new rows too.
    rows = [(p.entity_id, store.key_ids[p.key], p.ts + 50_000, None, None, p.value, None, None) for p in points]
    started = time.perf_counter()
    for i in range(0, len(rows), BATCH):
        with store.conn.cursor() as cur, cur.copy(
            "COPY ts_kv (entity_id, key, ts, bool_v, long_v, dbl_v, str_v, json_v) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["uuid", "int4", "int8", "bool", "int8", "float8", "text", "text"])
            for row in rows[i : i + BATCH]:
                copy.write_row(row)
        store.conn.commit()
    copy_s = time.perf_counter() - started
    store.extra_rows += 2 * len(points)
    return len(points) / writer_s, len(rows) / copy_s


def _timed(calls) -> list[float]:
    latencies = []
    for call in calls:
        started = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - started)
    return latencies


def _queries(store: _Store, rng: random.Random) -> tuple[list[float], list[float]]:
    """Latencies (s) of QUERIES latest-value reads and QUERIES one-hour history reads."""
    from devices.telemetry import history, latest

    devices = [rng.choice(store.ids) for _ in range(QUERIES + 20)]
    latest_s = _timed([lambda e=e: latest(e) for e in devices])[20:]  # the first 20 warm up
    span = (store.per_series - 60) * STEP_MS  # windows of a full hour inside the filled span
    windows = [(rng.choice(store.ids), rng.choice(KEYS), store.t_end - HOUR_MS - rng.randrange(0, max(1, span)))
               for _ in range(QUERIES + 20)]
    history_s = _timed([lambda e=e, k=k, t=t: history(e, [k], t, t + HOUR_MS, limit=100)
                        for e, k, t in windows])[20:]
    return latest_s, history_s


def _ms(values: list[float], p: float) -> float:
    return round(loadgen.percentile(values, p) * 1000, 3)


def _measure(quick: bool):
    from django.db import connection

    dsn = os.environ["DATABASE_URL"]
    sizes = SIZES[quick]
    rng = random.Random(9)
    with psycopg.connect(dsn) as conn:
        free = _free_gb(conn)
        note = None
        if max(sizes) > 10_000_000 and free < MIN_FREE_GB_FOR_50M:
            sizes = [s for s in sizes if s <= 10_000_000]
            note = f"capped at 10M rows: {free:.0f} GB free, {MIN_FREE_GB_FOR_50M} GB wanted for 50M"
            _say(note)
        store = _Store(conn, (int(time.time() * 1000) - HOUR_MS) // STEP_MS * STEP_MS)
        connection.close()
        first: dict = {}
        for round_no, size in enumerate(sizes):
            label = _label(size)
            _say(f"filling ts_kv to {label} rows...")
            took = store.fill_to(size)
            _say(f"  {label}: filled in {took:.0f} s ({store.rows:,} rows stored); measuring")
            extra = {"stored_rows": store.rows, "fill_s": round(took, 1), **({"note": note} if note else {})}
            try:
                writer_rate, copy_rate = _ingest(store, round_no)
                first.setdefault("ingest", writer_rate)
                yield _row(f"growth_{label}_ingest_writer_rows_per_s", writer_rate, "rows/s",
                           "raw binary psycopg COPY of as many rows into ts_kv at the same size (rows/s)", copy_rate,
                           "flat across 1M/10M/50M stored rows (issue 9)",
                           vs_first_size=round(writer_rate / first["ingest"], 3),
                           rows=INGEST_STEPS * DEVICES * len(KEYS), batch=BATCH, **extra)
            except Exception as exc:  # report it, go on with the queries
                yield {"metric": f"growth_{label}_ingest_writer_rows_per_s", "error": f"{type(exc).__name__}: {exc}"}
            try:
                latest_s, history_s = _queries(store, rng)
                connection.close()
                for name, lat, what in (("latest", latest_s, "devices.telemetry.latest(device), all 5 keys"),
                                        ("history", history_s,
                                         "devices.telemetry.history(device, [key], 1 h, limit 100)")):
                    first.setdefault(name, (_ms(lat, 50), _ms(lat, 99), label))
                    base50, base99, base_label = first[name]
                    yield _row(f"growth_{label}_{name}_query_p50_ms", _ms(lat, 50), "ms",
                               f"the same query at {base_label} stored rows, p50 (ms)", base50,
                               "flat across 1M/10M/50M stored rows (issue 9)", query=what, queries=QUERIES,
                               p50_ms=_ms(lat, 50), p99_ms=_ms(lat, 99), baseline_p99_ms=base99, **extra)
            except Exception as exc:
                yield {"metric": f"growth_{label}_queries", "error": f"{type(exc).__name__}: {exc}"}


def run(quick: bool = False):
    """Yields one row per (size, measure) as measured; a failure yields an error row."""
    try:
        yield from _measure(quick)
    except Exception as exc:  # report it: the other benchmarks still run
        yield {"metric": "growth", "error": f"{type(exc).__name__}: {exc}"[:1000]}


if __name__ == "__main__":  # python -m bench.growth: this benchmark alone, quick
    from bench.setup import bench_database

    with bench_database():
        for row in run(quick=True):
            print(row)
