"""The batched telemetry writer: one call stores many points and advances latest values.

Idempotent on (entity, key, ts): writing the same point again overwrites it (last write wins),
because integrations redeliver (MQTT QoS 1, webhook retries, dead-letter replays).
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from django.db import IntegrityError, connection, transaction
from psycopg.errors import UniqueViolation

from devices.choices import StorageKind
from devices.telemetry import keys as key_dictionary
from devices.telemetry import storage
from devices.values import encode

__all__ = ["Point", "write_points"]

_COLUMNS = "entity_id, key, ts, bool_v, long_v, dbl_v, str_v, json_v"
_SET_VALUES = ("ts = excluded.ts, bool_v = excluded.bool_v, long_v = excluded.long_v, dbl_v = excluded.dbl_v, "
               "str_v = excluded.str_v, json_v = excluded.json_v")
_UNNEST = ("SELECT * FROM unnest(%s::uuid[], %s::int[], %s::bigint[], %s::bool[], %s::bigint[], "
           "%s::float8[], %s::text[], %s::text[])")


@dataclass(frozen=True, slots=True)
class Point:
    """One telemetry value of one entity at one time (ms since the epoch)."""

    entity_id: UUID
    key: str
    ts: int
    value: Any


def _rows(points: list[Point]) -> list[tuple]:
    """Encode points as table rows, keeping only the last value per (entity, key, ts)."""
    ids = key_dictionary.key_ids({p.key for p in points})
    unique: dict[tuple, tuple] = {}
    for p in points:
        entity = p.entity_id if isinstance(p.entity_id, UUID) else UUID(str(p.entity_id))
        unique[(entity, ids[p.key], int(p.ts))] = encode(p.value)
    return [(*k, *v) for k, v in unique.items()]


def _latest_rows(rows: list[tuple]) -> list[tuple]:
    """The newest row per (entity, key), sorted so concurrent writers lock in the same order."""
    newest: dict[tuple, tuple] = {}
    for row in rows:
        current = newest.get(row[:2])
        if current is None or row[2] >= current[2]:
            newest[row[:2]] = row
    return [newest[k] for k in sorted(newest, key=lambda k: (str(k[0]), k[1]))]


def write_points(points: Iterable[Point]) -> int:
    """Store points in one batch and update latest values. Returns the number of rows written."""
    points = list(points)
    if not points:
        return 0
    rows = _rows(points)
    if connection.vendor == "postgresql":
        _write_postgres(rows)
    else:
        _write_sqlite(rows)
    return len(rows)


def _columns(rows: list[tuple]) -> list[list]:
    return [list(col) for col in zip(*rows, strict=True)]


def _write_postgres(rows: list[tuple]) -> None:
    kind, partition_ms = storage.current()
    if kind == StorageKind.PARTITIONED:
        storage.ensure_partitions({storage.partition_start(r[2], partition_ms) for r in rows}, partition_ms)
    with transaction.atomic(), connection.cursor() as cur:
        try:
            # Fast path: COPY, as fast as the database takes rows. A batch that repeats a stored
            # point violates the primary key; only then pay for the upsert.
            with transaction.atomic(), cur.copy(f"COPY ts_kv ({_COLUMNS}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        except (IntegrityError, UniqueViolation):
            cur.execute(f"INSERT INTO ts_kv ({_COLUMNS}) {_UNNEST} "
                        f"ON CONFLICT (entity_id, key, ts) DO UPDATE SET {_SET_VALUES}", _columns(rows))
        cur.execute(f"INSERT INTO ts_kv_latest AS l ({_COLUMNS}) {_UNNEST} "
                    f"ON CONFLICT (entity_id, key) DO UPDATE SET {_SET_VALUES} WHERE excluded.ts >= l.ts",
                    _columns(_latest_rows(rows)))


def _write_sqlite(rows: list[tuple]) -> None:
    rows = [(r[0].hex, *r[1:]) for r in rows]
    marks = ", ".join(["%s"] * 8)
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany(f"INSERT INTO ts_kv ({_COLUMNS}) VALUES ({marks}) "
                        f"ON CONFLICT (entity_id, key, ts) DO UPDATE SET {_SET_VALUES}", rows)
        cur.executemany(f"INSERT INTO ts_kv_latest ({_COLUMNS}) VALUES ({marks}) "
                        f"ON CONFLICT (entity_id, key) DO UPDATE SET {_SET_VALUES} "
                        "WHERE excluded.ts >= ts_kv_latest.ts", _latest_rows(rows))
