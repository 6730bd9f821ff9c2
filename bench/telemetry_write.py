"""Telemetry writer throughput on PostgreSQL beside a raw psycopg COPY of the same rows.

Both sides write the same rows in the same batch sizes, one transaction per batch, into
tables of the same layout (partitioned on ts, primary key (entity_id, key, ts)). The writer
also encodes values, maps key names to ids and upserts latest values; the baseline does none
of that. Target (issue 2): the writer reaches at least 50% of raw COPY.

The data is the worst case for latest values and the common case in live ingest: each batch
holds one reading per (device, key), so every row also advances a latest value. Both sides
use binary COPY, the fastest form psycopg offers.
"""

import time
import uuid

__all__ = ["run"]

KEYS = ("temperature", "humidity", "pressure", "battery", "rssi")


def _points(entities: int, steps: int, t0: int):
    from devices.telemetry import Point

    ids = [uuid.uuid4() for _ in range(entities)]
    return [Point(e, k, t0 + s * 1000, 20.0 + s % 7 if k != "rssi" else -70 - s % 5)
            for s in range(steps) for e in ids for k in KEYS]


def _baseline(conn, rows: list[tuple], batch: int) -> float:
    conn.execute("CREATE TABLE bench_copy (LIKE ts_kv INCLUDING ALL) PARTITION BY RANGE (ts)")
    conn.execute("CREATE TABLE bench_copy_p PARTITION OF bench_copy FOR VALUES FROM (MINVALUE) TO (MAXVALUE)")
    conn.commit()
    started = time.perf_counter()
    for i in range(0, len(rows), batch):
        with conn.cursor() as cur, cur.copy(
            "COPY bench_copy (entity_id, key, ts, bool_v, long_v, dbl_v, str_v, json_v) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["uuid", "int4", "int8", "bool", "int8", "float8", "text", "text"])
            for row in rows[i : i + batch]:
                copy.write_row(row)
        conn.commit()
    return time.perf_counter() - started


def run(quick: bool = False) -> list[dict]:
    import psycopg
    from django.db import connection

    from devices.telemetry import keys, storage, write_points
    from devices.values import encode

    entities, steps, batch = (1_000, 10, 5_000) if quick else (1_000, 60, 5_000)
    t0 = int(time.time() * 1000) - steps * 1000
    points = _points(entities, steps, t0)
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
        copy_s = _baseline(conn, rows, batch)

    n = len(points)
    writer_rate, copy_rate = n / writer_s, n / copy_s
    return [{
        "metric": "telemetry_writer_rows_per_s", "value": round(writer_rate), "unit": "rows/s",
        "baseline": "raw psycopg COPY, same rows and batches", "baseline_value": round(copy_rate),
        "ratio": round(writer_rate / copy_rate, 3), "target": ">= 100000 rows/s and >= 0.5 of raw COPY",
        "rows": n, "batch": batch,
    }]


def _url() -> str:
    import os

    return os.environ["DATABASE_URL"]
