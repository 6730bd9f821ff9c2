"""The batched telemetry writer: one call stores many points and advances latest values.

Idempotent on (entity, key, ts): writing the same point again overwrites it (last write wins),
because integrations redeliver (MQTT QoS 1, webhook retries, dead-letter replays).
"""

from collections.abc import Iterable
from typing import Any, NamedTuple
from uuid import UUID

from django.conf import settings
from django.db import IntegrityError, OperationalError, connection, transaction
from psycopg.errors import DeadlockDetected, UniqueViolation

from devices import data_events
from devices.choices import StorageKind
from devices.telemetry import keys as key_dictionary
from devices.telemetry import storage
from devices.values import check_text, encode

__all__ = ["Point", "write_points", "delete_entity"]

_COLUMNS = "entity_id, key, ts, bool_v, long_v, dbl_v, str_v, json_v"
_SET_VALUES = ("ts = excluded.ts, bool_v = excluded.bool_v, long_v = excluded.long_v, dbl_v = excluded.dbl_v, "
               "str_v = excluded.str_v, json_v = excluded.json_v")
_UNNEST = ("SELECT * FROM unnest(%s::uuid[], %s::int[], %s::bigint[], %s::bool[], %s::bigint[], "
           "%s::float8[], %s::text[], %s::text[])")


class Point(NamedTuple):
    """One telemetry value of one entity at one time (ms since the epoch).

    A named tuple: :func:`write_points` also takes plain ``(entity_id, key, ts, value)`` tuples,
    which the uplink pipeline builds (a tuple costs a twentieth of a frozen dataclass's
    constructor, and the pipeline makes one per reading)."""

    entity_id: UUID
    key: str
    ts: int
    value: Any


MAX_TS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z; later times overflow partition bounds


def _check_key(key) -> str:
    if not isinstance(key, str) or not key:
        raise ValueError(f"telemetry key must be a non-empty string, got {key!r:.40}")
    return check_text(key)


def _rows(points: list[Point | tuple]) -> list[tuple]:
    """Encode points as table rows (entity_id, key_id, ts, bool_v, long_v, dbl_v, str_v, json_v).

    Raises ValueError, naming the problem, for a point no layout can store (bad ts, key or
    value), before anything is written: a batch is stored whole or not at all.
    """
    names = {p[1] for p in points}
    ids = key_dictionary.key_ids({_check_key(name) for name in names})
    rows = []
    append = rows.append
    for entity, key, ts, value in points:
        if entity.__class__ is not UUID:
            entity = UUID(str(entity))
        if ts.__class__ is not int:
            ts = int(ts)
        if not 0 <= ts <= MAX_TS:
            raise ValueError(f"ts {ts} is outside 0..{MAX_TS} (milliseconds since 1970)")
        # Floats are most telemetry: skip encode()'s type dispatch for finite ones.
        if value.__class__ is float and value - value == 0.0:
            append((entity, ids[key], ts, None, None, value, None, None))
        else:
            append((entity, ids[key], ts, *encode(value)))
    return rows


def _unique(rows: list[tuple]) -> list[tuple]:
    """Keep the last row per (entity, key, ts)."""
    return list({row[:3]: row for row in rows}.values())


def _latest_rows(rows: list[tuple]) -> list[tuple]:
    """The newest row per (entity, key) in the batch."""
    newest: dict[tuple, tuple] = {}
    uuid = UUID
    for row in rows:
        entity = row[0]
        # a UUID's hash is computed in Python: its int hashes in C
        key = (entity.int if entity.__class__ is uuid else entity, row[1])
        current = newest.get(key)
        if current is None or row[2] >= current[2]:
            newest[key] = row
    return list(newest.values())


def write_points(points: Iterable[Point | tuple], *, tenant_id=None) -> int:
    """Store points (Points or ``(entity_id, key, ts, value)`` tuples) in one batch and update
    latest values. Returns the number of points taken. The write is announced to the apps above
    (devices/data_events.py) with ``tenant_id``, the tenant of every point when the caller knows it."""
    points = list(points)
    if not points:
        return 0
    rows = _rows(points)
    if connection.vendor == "postgresql":
        _write_postgres(rows)
    else:
        _write_sqlite(rows)
    data_events.telemetry_written(points, tenant_id)
    return len(points)


def _columns(rows: list[tuple]) -> list[list]:
    return [list(col) for col in zip(*rows, strict=True)]


_TYPES = ["uuid", "int4", "int8", "bool", "int8", "float8", "text", "text"]
_COPY = f"COPY {{table}} ({_COLUMNS}) FROM STDIN (FORMAT BINARY)"
_DEADLOCK_RETRIES = 3


def _copy(cur, table: str, rows: list[tuple]) -> None:
    # Binary COPY: measured 20-40% faster than text here, mostly by not formatting floats.
    with cur.copy(_COPY.format(table=table)) as copy:
        copy.set_types(_TYPES)
        for row in rows:
            copy.write_row(row)


def _write_postgres(rows: list[tuple]) -> None:
    kind, partition_ms = storage.current()
    if kind == StorageKind.PARTITIONED:
        storage.ensure_partitions({storage.partition_start(r[2], partition_ms) for r in rows}, partition_ms)
    outer = connection.in_atomic_block
    if not outer and settings.TELEMETRY_LATEST_IN_PARALLEL:
        from devices.telemetry import parallel

        parallel.write(rows)
        return
    _retrying(lambda: _write_both(rows, truncate=outer), outer=outer)


def _write_both(rows: list[tuple], *, truncate: bool) -> None:
    with transaction.atomic(), connection.cursor() as cur:
        _insert_points(cur, rows)
        _upsert_latest(cur, _latest_rows(rows), truncate=truncate)


def _retrying(write, *, outer: bool = False) -> None:
    for attempt in range(_DEADLOCK_RETRIES):
        try:
            return write()
        except (OperationalError, DeadlockDetected) as exc:
            # Two writers updating the same latest rows in different orders: PostgreSQL aborts
            # one of them. Retry it, unless a caller's transaction is already lost with it.
            if outer or attempt == _DEADLOCK_RETRIES - 1 or not _is_deadlock(exc):
                raise


def _is_deadlock(exc: Exception) -> bool:
    return isinstance(exc, DeadlockDetected) or isinstance(exc.__cause__, DeadlockDetected)


def _insert_points(cur, rows: list[tuple]) -> None:
    try:
        # Fast path: COPY, as fast as the database takes rows. A batch that repeats a point
        # (stored or within itself) violates the primary key; only then pay for the upsert.
        with transaction.atomic():
            _copy(cur, "ts_kv", rows)
    except (IntegrityError, UniqueViolation):
        _upsert_points(cur, rows)


def _insert_points_alone(rows: list[tuple]) -> None:
    """_insert_points as the outermost transaction (no savepoint: two round trips fewer): a batch
    that repeats a stored point rolls back and upserts in a new transaction."""
    try:
        with transaction.atomic(), connection.cursor() as cur:
            _copy(cur, "ts_kv", rows)
    except (IntegrityError, UniqueViolation):
        with transaction.atomic(), connection.cursor() as cur:
            _upsert_points(cur, rows)


def _upsert_points(cur, rows: list[tuple]) -> None:
    cur.execute(f"INSERT INTO ts_kv ({_COLUMNS}) {_UNNEST} "
                f"ON CONFLICT (entity_id, key, ts) DO UPDATE SET {_SET_VALUES}", _columns(_unique(rows)))


#: the latest values' staging table: one per session (parallel.py makes it once per connection)
STAGING_TABLE = "CREATE TEMP TABLE IF NOT EXISTS ts_kv_latest_in (LIKE ts_kv_latest) ON COMMIT DELETE ROWS"


#: Updates the stored latest rows the staged batch advances, in (entity, key) order: the plan
#: takes the staged rows sorted, then each stored row by its primary key (nested loop) or both
#: sorted (merge join), which lock the stored rows in that order. A hash join locks them in the
#: order of whichever side it scans, the table's physical order when that is the stored side,
#: which concurrent updates keep changing: two writers of overlapping rows deadlocked, and
#: PostgreSQL let them wait ``deadlock_timeout`` (1 s) before aborting one, which then ran again
#: (docs/performance.md, "Two stalls"). Hash joins are off for it: for the whole session on
#: parallel.py's helper connections (IN_ORDER; they run only this), and on a caller's connection
#: for the upsert alone (_IN_ORDER_HERE, then the caller's own setting again). The planner could
#: still pick another order (it is not told to); _retrying stays.
_UPDATE_LATEST = (
    "UPDATE ts_kv_latest l SET ts = i.ts, bool_v = i.bool_v, long_v = i.long_v, dbl_v = i.dbl_v, "
    "str_v = i.str_v, json_v = i.json_v FROM (SELECT * FROM ts_kv_latest_in ORDER BY entity_id, key) i "
    "WHERE l.entity_id = i.entity_id AND l.key = i.key AND i.ts >= l.ts")
IN_ORDER = "SET enable_hashjoin = off"
#: IN_ORDER for this transaction, answering the setting it replaces (put back after the upsert)
_IN_ORDER_HERE = ("SELECT was, set_config('enable_hashjoin', 'off', true) "
                  "FROM (SELECT current_setting('enable_hashjoin') AS was OFFSET 0) s")


def _upsert_latest(cur, rows: list[tuple], *, truncate: bool, staged: bool = False, ordered: bool = False) -> None:
    # Stage the batch, UPDATE the rows that exist in one join, INSERT only the missing ones.
    # Measured near COPY speed, against 0.6x for INSERT ... ON CONFLICT DO UPDATE. ``staged``:
    # this session has the staging table already (committed), so skip that round trip.
    if not staged:
        cur.execute(STAGING_TABLE)
    _copy(cur, "ts_kv_latest_in", rows)
    was = None
    if not ordered:
        cur.execute(_IN_ORDER_HERE)
        was = cur.fetchone()[0]
    cur.execute(_UPDATE_LATEST)
    if cur.rowcount < len(rows):
        # New keys, or points older than the stored value. The INSERT sees rows committed
        # since the UPDATE's snapshot: a concurrent writer may have inserted the same new key
        # with an older ts, so skip only keys already holding this ts or a newer one, and let
        # ON CONFLICT settle the rest (including inserts not yet committed) by ts.
        cur.execute(f"INSERT INTO ts_kv_latest AS l ({_COLUMNS}) SELECT {_COLUMNS} FROM ts_kv_latest_in i "
                    "WHERE NOT EXISTS (SELECT 1 FROM ts_kv_latest x "
                    "WHERE x.entity_id = i.entity_id AND x.key = i.key AND x.ts >= i.ts) "
                    "ORDER BY i.entity_id, i.key "  # in the UPDATE's lock order (above)
                    f"ON CONFLICT (entity_id, key) DO UPDATE SET {_SET_VALUES} WHERE excluded.ts >= l.ts")
    if was is not None:
        cur.execute("SELECT set_config('enable_hashjoin', %s, true)", [was])
    if truncate:  # inside a caller's transaction, ON COMMIT has not emptied it yet
        cur.execute("TRUNCATE ts_kv_latest_in")


def _write_sqlite(rows: list[tuple]) -> None:
    rows = _unique([(r[0].hex, *r[1:]) for r in rows])
    marks = ", ".join(["%s"] * 8)
    with transaction.atomic(), connection.cursor() as cur:
        cur.executemany(f"INSERT INTO ts_kv ({_COLUMNS}) VALUES ({marks}) "
                        f"ON CONFLICT (entity_id, key, ts) DO UPDATE SET {_SET_VALUES}", rows)
        cur.executemany(f"INSERT INTO ts_kv_latest ({_COLUMNS}) VALUES ({marks}) "
                        f"ON CONFLICT (entity_id, key) DO UPDATE SET {_SET_VALUES} "
                        "WHERE excluded.ts >= ts_kv_latest.ts", _latest_rows(rows))


def delete_entity(entity_id: UUID) -> int:
    """Remove all telemetry and latest values of a deleted entity. Returns history rows removed."""
    eid = entity_id if connection.vendor == "postgresql" else UUID(str(entity_id)).hex
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM ts_kv WHERE entity_id = %s", [eid])
        removed = cur.rowcount
        cur.execute("DELETE FROM ts_kv_latest WHERE entity_id = %s", [eid])
    return removed
