"""Concurrent writers on real PostgreSQL: no lost latest value, no deadlock escapes."""

import threading
import uuid

import pytest
from django.db import connection, connections

from devices.telemetry import Point, history, latest, write_points

pytestmark = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL (set DATABASE_URL)")
T0 = 1_760_000_000_000


@pytest.fixture
def entities(transactional_db):
    ids = [uuid.uuid4() for _ in range(50)]
    yield ids
    with connection.cursor() as cur:  # ts_kv is not a Django model: the flush does not empty it
        for table in ("ts_kv", "ts_kv_latest"):
            cur.execute(f"DELETE FROM {table} WHERE entity_id = ANY(%s)", [ids])


def test_it_survives_writers_updating_the_same_latest_rows_in_opposite_orders(entities):
    errors = []

    def writer(order, offset):
        try:
            for step in range(20):
                write_points(Point(e, k, T0 + step * 10 + offset, step) for e in order for k in ("a", "b"))
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer, args=(entities, 0)),
               threading.Thread(target=writer, args=(entities[::-1], 1))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    for e in entities:
        assert latest(e) == {"a": (T0 + 191, 19), "b": (T0 + 191, 19)}


def test_it_keeps_the_newest_value_when_writers_race_on_a_new_key(entities):
    # The race is a window of microseconds: run it for several fresh keys to make a lost
    # value (an older writer's INSERT landing between a newer writer's UPDATE and INSERT) show.
    for round_ in range(8):
        key = f"fresh{round_}"
        barrier = threading.Barrier(4)

        def writer(i, key=key, barrier=barrier):
            barrier.wait()
            write_points([Point(e, key, T0 + i, i) for e in entities])
            connections.close_all()

        threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert [latest(e, [key]) for e in entities] == [{key: (T0 + 3, 3)}] * len(entities)


def test_the_latest_values_helper_stages_on_a_table_its_session_made_once(entities):
    # parallel.py's helper connections create the staging table once per session (committed),
    # then skip CREATE ... IF NOT EXISTS; a new session (closed connections) makes it again.
    from devices.telemetry import parallel

    for round_ in range(3):
        write_points(Point(e, "s", T0 + round_, round_) for e in entities)
        if round_ == 1:
            parallel.close_pool()
    assert [latest(e)["s"] for e in entities[:3]] == [(T0 + 2, 2)] * 3


def test_the_parallel_path_upserts_a_batch_that_repeats_points(entities):
    # outside a transaction the history half COPYs without a savepoint; a repeated point (a
    # redelivery, or twice in one batch) rolls that back and upserts in a new transaction
    e = entities[0]
    write_points([Point(e, "r", T0, 1.0), Point(e, "r", T0 + 1, 2.0)])
    write_points([Point(e, "r", T0, 9.0), Point(e, "r", T0 + 2, 3.0), Point(e, "r", T0 + 2, 4.0)])
    assert history(e, ["r"], T0, T0 + 10, order="ASC") == {"r": [(T0, 9.0), (T0 + 1, 2.0), (T0 + 2, 4.0)]}
    assert latest(e)["r"] == (T0 + 2, 4.0)


def test_the_latest_values_helper_recovers_a_session_that_lost_its_staging_table(entities):
    import queue

    from devices.telemetry import parallel, writer

    params = parallel._params()
    parallel._own_connection(params).execute("DROP TABLE ts_kv_latest_in")  # this thread's helper session
    verdict = queue.SimpleQueue()
    verdict.put(True)
    rows = writer._rows([Point(entities[0], "lost", T0, 7)])
    parallel._latest_after_verdict(writer._latest_rows(rows), verdict, params)
    parallel._close_own()
    assert latest(entities[0])["lost"] == (T0, 7)


@pytest.mark.parametrize("in_a_transaction", [False, True], ids=["parallel-path", "caller-transaction"])
def test_a_writer_locks_the_latest_rows_in_entity_order_so_writers_never_deadlock(entities, in_a_transaction):
    # Two writers of overlapping latest rows that lock them in different orders deadlock, and
    # PostgreSQL makes them wait deadlock_timeout (1 s) before aborting one (the Kafka bench lost
    # a second a run to it). A writer must lock in (entity, key) order: while its second row is
    # held by someone else, it already holds the first, however the rows lie in the table or
    # in its batch (here both put the second first). Outside a transaction the latest values go
    # on parallel.py's helper connection; inside one, on the caller's.
    import contextlib
    import time

    from django.db import OperationalError, transaction

    first, second = sorted(entities[:2], key=lambda e: e.bytes)  # uuid order is byte order
    write_points([Point(second, "o", T0, 0)])  # the second stored first: it leads a table scan
    write_points([Point(first, "o", T0, 0)])
    holding, release, failures = threading.Event(), threading.Event(), []

    def holder():
        try:
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute("SELECT 1 FROM ts_kv_latest WHERE entity_id = %s FOR UPDATE", [second])
                holding.set()
                release.wait(30)
        finally:
            connections.close_all()

    def writer():
        try:
            with transaction.atomic() if in_a_transaction else contextlib.nullcontext():
                write_points([Point(second, "o", T0 + 1, 1), Point(first, "o", T0 + 1, 1)])
        except Exception as exc:  # pragma: no cover - the assertion below reports it
            failures.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=holder), threading.Thread(target=writer)]
    threads[0].start()
    assert holding.wait(10)
    threads[1].start()
    try:
        deadline = time.monotonic() + 10
        with connection.cursor() as cur:
            while True:  # until the writer waits for the held row
                cur.execute("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                            "AND datname = current_database()")
                if cur.fetchone()[0] or time.monotonic() > deadline:
                    break
                time.sleep(0.01)
        with pytest.raises(OperationalError, match="could not obtain lock"), transaction.atomic(), \
                connection.cursor() as cur:
            cur.execute("SELECT 1 FROM ts_kv_latest WHERE entity_id = %s FOR UPDATE NOWAIT", [first])
    finally:
        release.set()
        for t in threads:
            t.join(30)
    assert failures == []
    assert [latest(e)["o"] for e in (first, second)] == [(T0 + 1, 1), (T0 + 1, 1)]


def test_a_caller_transaction_keeps_its_planner_settings(entities):
    # hash joins are off for the latest values' upsert only, not for the rest of the caller's transaction
    from django.db import transaction

    with transaction.atomic(), connection.cursor() as cur:
        write_points([Point(entities[0], "p", T0, 1)])
        cur.execute("SHOW enable_hashjoin")
        assert cur.fetchone()[0] == "on"
