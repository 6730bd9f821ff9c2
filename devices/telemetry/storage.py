"""Creating the telemetry tables in one of three layouts, chosen at migrate time.

* timescale   - PostgreSQL with the TimescaleDB extension available: ts_kv is a hypertable
                chunked by ``partition_ms`` with a retention policy (TimescaleDB drops chunks).
* partitioned - plain PostgreSQL: ts_kv is range-partitioned on ts; partitions are created on
                demand by the writer and ahead of time by a beat job, and dropped when expired.
* plain       - SQLite: one table, expired rows deleted in batches by the beat job.

ts_kv_latest (one row per entity and key) is an ordinary table in every layout.
"""

import logging
import re

from django.conf import settings
from django.db import connection, transaction

from devices.choices import StorageKind

__all__ = ["choose_kind", "install", "current", "ensure_partitions", "list_partitions", "partition_start",
           "timescale_ddl"]

log = logging.getLogger(__name__)
DAY_MS = 86_400_000

_PG_COLUMNS = """
    entity_id uuid NOT NULL,
    key integer NOT NULL,
    ts bigint NOT NULL,
    bool_v boolean,
    long_v bigint,
    dbl_v double precision,
    str_v text,
    json_v text"""

_SQLITE_COLUMNS = """
    entity_id char(32) NOT NULL,
    key integer NOT NULL,
    ts bigint NOT NULL,
    bool_v bool,
    long_v bigint,
    dbl_v real,
    str_v text,
    json_v text"""


def choose_kind(cursor, vendor: str) -> str:
    """The kind to create: the TELEMETRY_STORAGE setting, or the best the database offers."""
    wanted = settings.TELEMETRY_STORAGE
    if vendor != "postgresql":
        return StorageKind.PLAIN
    if wanted in (StorageKind.PARTITIONED, StorageKind.TIMESCALE):
        return wanted
    cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb'")
    return StorageKind.TIMESCALE if cursor.fetchone() else StorageKind.PARTITIONED


def timescale_ddl(partition_ms: int, ttl_ms: int) -> list[str]:
    """Statements that turn a fresh ts_kv into a hypertable with integer-ms time and retention."""
    statements = [
        f"CREATE TABLE ts_kv ({_PG_COLUMNS},\n    PRIMARY KEY (entity_id, key, ts))",
        f"SELECT create_hypertable('ts_kv', 'ts', chunk_time_interval => {int(partition_ms)}::bigint, "
        "if_not_exists => true)",
        # Integer time columns need a "now" function before a retention policy can be added.
        "CREATE OR REPLACE FUNCTION ts_kv_now_ms() RETURNS bigint LANGUAGE sql STABLE AS "
        "$$ SELECT (extract(epoch FROM now()) * 1000)::bigint $$",
        "SELECT set_integer_now_func('ts_kv', 'ts_kv_now_ms')",
    ]
    if ttl_ms > 0:
        statements.append(f"SELECT add_retention_policy('ts_kv', drop_after => {int(ttl_ms)}::bigint)")
    return statements


def _latest_ddl(columns: str, options: str = "") -> str:
    return f"CREATE TABLE ts_kv_latest ({columns},\n    PRIMARY KEY (entity_id, key)){options}"


# Latest rows are rewritten on every message; free space in each page lets PostgreSQL update
# them in place (HOT) without touching the primary-key index.
_PG_LATEST_OPTIONS = " WITH (fillfactor = 70)"


def install(schema_editor=None) -> str:
    """Create ts_kv and ts_kv_latest in the chosen layout and record it. Returns the kind.

    The kind and partition width are recorded as a comment on ts_kv itself, so the record
    lives and dies with the table (a test-database flush or a restore cannot separate them).
    """
    conn = schema_editor.connection if schema_editor else connection
    partition_ms = settings.TELEMETRY_PARTITION_DAYS * DAY_MS
    ttl_ms = settings.TELEMETRY_TTL_DAYS * DAY_MS
    with conn.cursor() as cur:
        kind = choose_kind(cur, conn.vendor)
        if kind == StorageKind.PLAIN:
            cur.execute(f"CREATE TABLE ts_kv ({_SQLITE_COLUMNS},\n    PRIMARY KEY (entity_id, key, ts))")
            cur.execute("CREATE INDEX ts_kv_ts ON ts_kv (ts)")  # retention scans by time
            cur.execute(_latest_ddl(_SQLITE_COLUMNS))
        else:
            if kind == StorageKind.TIMESCALE:
                cur.execute("CREATE EXTENSION IF NOT EXISTS timescaledb")
                for statement in timescale_ddl(partition_ms, ttl_ms):
                    cur.execute(statement)
            else:
                cur.execute(f"CREATE TABLE ts_kv ({_PG_COLUMNS},\n    PRIMARY KEY (entity_id, key, ts)) "
                            "PARTITION BY RANGE (ts)")
            cur.execute(_latest_ddl(_PG_COLUMNS, _PG_LATEST_OPTIONS))
            cur.execute(f"COMMENT ON TABLE ts_kv IS '{_COMMENT_PREFIX}kind={kind};partition_ms={partition_ms}'")
    reset_cache()
    log.info("telemetry storage: %s", kind)
    return kind


_COMMENT_PREFIX = "telemetry storage: "
_current: tuple[str, int] | None = None


def current() -> tuple[str, int]:
    """(kind, partition_ms) of this database, read once per process."""
    global _current
    if _current is None:
        _current = _read_record()
    return _current


def _read_record() -> tuple[str, int]:
    if connection.vendor != "postgresql":
        return StorageKind.PLAIN, settings.TELEMETRY_PARTITION_DAYS * DAY_MS
    with connection.cursor() as cur:
        cur.execute("SELECT obj_description(to_regclass('ts_kv'), 'pg_class')")
        comment = (cur.fetchone() or [None])[0] or ""
    if not comment.startswith(_COMMENT_PREFIX):
        raise RuntimeError("telemetry storage is not installed: run `manage.py migrate`")
    fields = dict(part.split("=", 1) for part in comment[len(_COMMENT_PREFIX):].split(";"))
    return fields["kind"], int(fields["partition_ms"])


def reset_cache() -> None:
    global _current
    _current = None
    _known_partitions.clear()


# --- partitions (kind "partitioned") -------------------------------------------------------------

_BOUND = re.compile(r"FROM \('?(-?\d+)'?\) TO \('?(-?\d+)'?\)")
_known_partitions: set[int] = set()


def partition_start(ts: int, partition_ms: int) -> int:
    return ts - ts % partition_ms


def list_partitions(cursor) -> list[tuple[str, int, int]]:
    """(name, from_ms, to_ms) of every partition of ts_kv, oldest first."""
    cursor.execute(
        "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
        "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'ts_kv'::regclass"
    )
    parts = []
    for name, bound in cursor.fetchall():
        match = _BOUND.search(bound or "")
        if match:
            parts.append((name, int(match.group(1)), int(match.group(2))))
    return sorted(parts, key=lambda p: p[1])


def ensure_partitions(starts: set[int], partition_ms: int) -> int:
    """Create any missing partitions beginning at ``starts``. Returns how many were created.

    Runs in its own short transaction under an advisory lock, so concurrent writers neither
    race on CREATE nor hold the parent table's lock while they write rows.
    """
    missing = starts - _known_partitions
    if not missing:
        return 0
    created = 0
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('ts_kv partitions'))")
        existing = {p[1] for p in list_partitions(cur)}
        for start in sorted(missing - existing):
            name = f"ts_kv_{start}" if start >= 0 else f"ts_kv_m{-start}"
            cur.execute(f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF ts_kv "
                        f"FOR VALUES FROM ({start}) TO ({start + partition_ms})")
            created += 1
        _known_partitions.update(existing | missing)
    return created
