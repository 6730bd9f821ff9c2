"""Storage kinds, partitions and retention, against the real database of the run."""

import uuid

import pytest
from django.db import connection
from django.test import override_settings

from devices.choices import StorageKind
from devices.telemetry import Point, latest, retention, storage, write_points
from devices.telemetry.storage import DAY_MS

on_postgres = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL)")
on_sqlite = pytest.mark.skipif(connection.vendor != "sqlite", reason="SQLite storage kind")
NOW = 1_750_000_000_000


def count(table="ts_kv") -> int:
    with connection.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) FROM {table}")
        return cur.fetchone()[0]


def partitions() -> list[tuple[str, int, int]]:
    with connection.cursor() as cur:
        return storage.list_partitions(cur)


def test_it_records_the_kind_chosen_for_this_database(db):
    kind, partition_ms = storage.current()
    expected = StorageKind.PLAIN if connection.vendor == "sqlite" else StorageKind.PARTITIONED
    assert kind == expected  # no TimescaleDB on these machines
    assert partition_ms % DAY_MS == 0


@on_sqlite
@override_settings(TELEMETRY_TTL_DAYS=30, TELEMETRY_DELETE_BATCH=7)
def test_it_deletes_expired_rows_in_batches_on_sqlite(db):
    eid = uuid.uuid4()
    old = NOW - 31 * DAY_MS
    write_points([*(Point(eid, "t", old + i, i) for i in range(20)), Point(eid, "t", NOW, 99)])
    assert retention.enforce_ttl(NOW) == 20
    assert count() == 1
    assert latest(eid) == {"t": (NOW, 99)}


@on_postgres
def test_it_creates_partitions_on_demand_for_written_points(db):
    _, width = storage.current()
    eid = uuid.uuid4()
    write_points([Point(eid, "t", NOW, 1), Point(eid, "t", NOW + 3 * width, 2)])
    starts = [p[1] for p in partitions()]
    assert storage.partition_start(NOW, width) in starts
    assert storage.partition_start(NOW + 3 * width, width) in starts
    assert count() == 2


@on_postgres
@override_settings(TELEMETRY_PARTITIONS_AHEAD=2)
def test_it_creates_partitions_ahead_idempotently(db):
    _, width = storage.current()
    created = retention.create_partitions_ahead(NOW)
    assert created == 3
    storage.reset_cache()
    assert retention.create_partitions_ahead(NOW) == 0
    first = storage.partition_start(NOW, width)
    assert {first, first + width, first + 2 * width} <= {p[1] for p in partitions()}


@on_postgres
@override_settings(TELEMETRY_TTL_DAYS=30)
def test_it_drops_expired_partitions_and_keeps_current_ones(db):
    _, width = storage.current()
    eid = uuid.uuid4()
    expired_ts = NOW - 30 * DAY_MS - 2 * width
    write_points([Point(eid, "t", expired_ts, 1), Point(eid, "t", NOW, 2)])
    assert retention.enforce_ttl(NOW) == 1
    assert count() == 1
    assert all(end > NOW - 30 * DAY_MS for _, _, end in partitions())
    write_points([Point(eid, "t", NOW + 1, 3)])  # the writer recovers after partitions vanished
    assert count() == 2


@override_settings(TELEMETRY_TTL_DAYS=0)
def test_it_keeps_everything_when_ttl_is_zero(db):
    eid = uuid.uuid4()
    write_points([Point(eid, "t", 1_000, 1)])
    assert retention.enforce_ttl(NOW) == 0
    assert count() == 1


@on_postgres
def test_the_timescale_statements_run_against_postgres_with_stub_functions(db):
    """TimescaleDB is not installable here: the statements run against stand-ins with its signatures."""
    with connection.cursor() as cur:
        cur.execute("CREATE SCHEMA tsdb_stub")
        cur.execute("SET LOCAL search_path TO tsdb_stub")
        cur.execute("CREATE TABLE calls (fn text, args text)")
        cur.execute("""CREATE FUNCTION create_hypertable(relation regclass, time_column_name name,
                         chunk_time_interval anyelement DEFAULT NULL::bigint, if_not_exists boolean DEFAULT false)
                       RETURNS void LANGUAGE sql AS
                       $$ INSERT INTO calls VALUES ('create_hypertable',
                          relation::text || ',' || time_column_name || ',' || chunk_time_interval::text
                          || ',' || if_not_exists::text) $$""")
        cur.execute("""CREATE FUNCTION set_integer_now_func(hypertable regclass, integer_now_func regproc)
                       RETURNS void LANGUAGE sql AS
                       $$ INSERT INTO calls VALUES ('set_integer_now_func', integer_now_func::text) $$""")
        cur.execute("""CREATE FUNCTION add_retention_policy(relation regclass, drop_after anyelement)
                       RETURNS integer LANGUAGE sql AS
                       $$ INSERT INTO calls VALUES ('add_retention_policy',
                          relation::text || ',' || drop_after::text); SELECT 1 $$""")
        for statement in storage.timescale_ddl(7 * DAY_MS, 30 * DAY_MS):
            cur.execute(statement)
        cur.execute("SELECT fn, args FROM calls ORDER BY fn")
        calls = dict(cur.fetchall())
        cur.execute("SELECT ts_kv_now_ms() > 1600000000000")
        assert cur.fetchone()[0] is True
        cur.execute("""SELECT string_agg(a.attname, ',' ORDER BY a.attnum) FROM pg_index i
                       JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey)
                       WHERE i.indrelid = 'tsdb_stub.ts_kv'::regclass AND i.indisprimary""")
        primary_key = cur.fetchone()[0]
        cur.execute("SET LOCAL search_path TO DEFAULT")
        cur.execute("DROP SCHEMA tsdb_stub CASCADE")
    assert calls["create_hypertable"] == f"ts_kv,ts,{7 * DAY_MS},true"
    assert calls["set_integer_now_func"] == "ts_kv_now_ms"
    assert calls["add_retention_policy"] == f"ts_kv,{30 * DAY_MS}"
    assert primary_key == "entity_id,key,ts"


def test_the_timescale_statements_omit_retention_when_ttl_is_zero():
    assert not any("add_retention_policy" in s for s in storage.timescale_ddl(DAY_MS, 0))
