"""Telemetry writer throughput on PostgreSQL beside a raw psycopg COPY of the same rows.

Both sides write the same rows in the same batch sizes, one transaction per batch, into
tables of the same layout (partitioned on ts, primary key (entity_id, key, ts)). The writer
also encodes values, maps key names to ids and upserts latest values; the baseline does none
of that. Target (issue 2): the writer reaches at least 50% of raw COPY.

Two shapes of data (SHAPES below): "live", where every row also advances a latest value, and
"backfill", where many readings per key share one latest update. Both sides use binary COPY,
the fastest form psycopg offers.
"""

import time
import uuid

__all__ = ["run"]

KEYS = ("temperature", "humidity", "pressure", "battery", "rssi")


SHAPES = {
    # Live ingest: each batch holds one reading per (device, key), so every row also advances a
    # latest value. The worst case for the writer, and the common one.
    "live": "one reading per device and key per batch",
    # Backfill / gateways sending history: each batch holds many readings per (device, key).
    "backfill": "60 readings per device and key per batch",
}


def _points(entities: int, steps: int, t0: int, shape: str):
    from devices.telemetry import Point

    ids = [uuid.uuid4() for _ in range(entities)]
    def point(e, k, s):
        return Point(e, k, t0 + s * 1000, 20.0 + s % 7 if k != "rssi" else -70 - s % 5)
    if shape == "live":
        return [point(e, k, s) for s in range(steps) for e in ids for k in KEYS]
    return [point(e, k, s) for e in ids for s in range(steps) for k in KEYS]


def _baseline(conn, table: str, rows: list[tuple], batch: int) -> float:
    conn.execute(f"CREATE TABLE {table} (LIKE ts_kv INCLUDING ALL) PARTITION BY RANGE (ts)")
    conn.execute(f"CREATE TABLE {table}_p PARTITION OF {table} FOR VALUES FROM (MINVALUE) TO (MAXVALUE)")
    conn.commit()
    started = time.perf_counter()
    for i in range(0, len(rows), batch):
        with conn.cursor() as cur, cur.copy(
            f"COPY {table} (entity_id, key, ts, bool_v, long_v, dbl_v, str_v, json_v) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["uuid", "int4", "int8", "bool", "int8", "float8", "text", "text"])
            for row in rows[i : i + batch]:
                copy.write_row(row)
        conn.commit()
    return time.perf_counter() - started


def _measure(shape: str, entities: int, steps: int, batch: int) -> dict:
    import psycopg
    from django.db import connection

    from devices.telemetry import keys, storage, write_points
    from devices.values import encode

    t0 = int(time.time() * 1000) - steps * 1000
    points = _points(entities, steps, t0, shape)
    _, width = storage.current()
    storage.ensure_partitions({storage.partition_start(p.ts, width) for p in points}, width)

    started = time.perf_counter()
    for i in range(0, len(points), batch):
        write_points(points[i : i + batch])
    writer_s = time.perf_counter() - started
    connection.close()

    ids = keys.key_ids(KEYS)
    rows = [(p.entity_id, ids[p.key], p.ts, *encode(p.value)) for p in points]
    with psycopg.connect(_url()) as conn:
        copy_s = _baseline(conn, f"bench_copy_{shape}", rows, batch)

    n = len(points)
    writer_rate, copy_rate = n / writer_s, n / copy_s
    return {
        "metric": f"telemetry_writer_{shape}_rows_per_s", "value": round(writer_rate), "unit": "rows/s",
        "baseline": "raw binary psycopg COPY, same rows and batches", "baseline_value": round(copy_rate),
        "ratio": round(writer_rate / copy_rate, 3), "target": ">= 100000 rows/s and >= 0.5 of raw COPY",
        "rows": n, "batch": batch, "shape": SHAPES[shape],
    }


def run(quick: bool = False) -> list[dict]:
    from tbproject.gc_tuning import tune

    tune()  # the garbage-collector settings of the worker processes that run the writer
    entities, steps = (1_000, 10) if quick else (1_000, 60)
    return [_measure(shape, entities, steps, 5_000) for shape in SHAPES]


def _url() -> str:
    import os

    return os.environ["DATABASE_URL"]
