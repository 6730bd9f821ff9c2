"""The worker's overlap of pipeline batches (integrations/overlap.py): the next batch is begun
(screened, converted) in a helper thread while this one is stored; failures keep the serial
loop's semantics. PostgreSQL outside a transaction (the helper thread has a connection of its own)."""

import threading

import pytest
from django.conf import settings as django_settings
from django.db import OperationalError

from devices.models import Device
from devices.telemetry import history
from integrations import dedup, overlap, pipeline, queue, store, tasks
from integrations.messages import RawUplink
from integrations.models import DeadLetter
from integrations.tests.uplinks import integration, json_uplink, values
from tenants.models import Tenant

postgres_only = pytest.mark.skipif(not django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
                                   reason="the overlap runs on PostgreSQL only")


class _Request:
    def __init__(self, batch):
        self.args, self.delivery_info = [batch], {}


@pytest.fixture(autouse=True)
def _helper_closed():
    yield
    overlap.shutdown()  # its connection would keep the test database from being dropped


@postgres_only
def test_batches_are_begun_in_the_helper_thread_and_completed_in_order_here(transactional_db, monkeypatch, settings):
    settings.PIPELINE_BATCH_SIZE, settings.PIPELINE_OVERLAP = 4, True
    seen, second_begun, overlapped = [], threading.Event(), []

    def begin(uplinks, **kwargs):
        seen.append(("begin", [u.payload for u in uplinks], threading.current_thread().name))
        if len(seen) > 1:
            second_begun.set()
        return uplinks

    def complete(uplinks, **kwargs):
        if not overlapped:  # the first batch is stored while the second is begun
            overlapped.append(second_begun.wait(30))
        seen.append(("complete", [u.payload for u in uplinks], threading.current_thread().name))
        return [pipeline.Outcome(pipeline.OK)] * len(uplinks)

    monkeypatch.setattr(pipeline, "begin", begin)
    monkeypatch.setattr(pipeline, "complete", complete)
    batches = [queue.encode([RawUplink("i", bytes([n]), {}, 1) for n in range(k, k + 3)]) for k in (0, 3, 6)]
    tasks.process_uplinks.run([_Request(b) for b in batches])
    chunks = [[b"\x00", b"\x01", b"\x02", b"\x03"], [b"\x04", b"\x05", b"\x06", b"\x07"], [b"\x08"]]
    assert [(step, payloads) for step, payloads, _ in seen if step == "complete"] == [("complete", c) for c in chunks]
    assert [(step, payloads) for step, payloads, _ in seen if step == "begin"] == [("begin", c) for c in chunks]
    here = threading.current_thread().name
    assert {thread for step, _, thread in seen if step == "complete"} == {here}
    assert {thread for step, _, thread in seen if step == "begin"} == {"pipeline-ahead_0"}
    assert overlapped == [True]


def test_no_overlap_in_a_transaction(db, settings):
    settings.PIPELINE_OVERLAP = True
    assert not overlap.available()  # (the test's transaction: the helper's connection would not see it)


@postgres_only
def test_auto_overlaps_only_in_a_worker_with_fewer_pool_processes_than_cpus(transactional_db, settings, monkeypatch):
    settings.PIPELINE_OVERLAP = "auto"
    monkeypatch.setattr(overlap.os, "cpu_count", lambda: 2)
    monkeypatch.setenv("TB_WORKER_POOL_PROCESSES", "1")  # (tbproject/celery.py notes --concurrency)
    assert overlap.available()
    monkeypatch.setenv("TB_WORKER_POOL_PROCESSES", "2")
    assert not overlap.available()
    settings.PIPELINE_OVERLAP = False
    monkeypatch.setenv("TB_WORKER_POOL_PROCESSES", "1")
    assert not overlap.available()


@pytest.fixture
def world(transactional_db):
    tenant = Tenant.objects.create(title="Overlap")
    integ = integration(tenant, configuration={"baseUrl": "x", "deduplication": {"key": "metadata:msgId"}})
    uplinks = [json_uplink(integ, {"name": f"ov-{n}", "telemetry": {"t": n}}, ts=1_700_000_000_000 + n,
                           msgId=f"m-{n}") for n in range(12)]
    return integ, uplinks


@postgres_only
@pytest.mark.skipif(not django_settings.REDIS_URL, reason="deduplication claims in Redis (set REDIS_URL)")
def test_a_batch_whose_store_fails_while_the_next_was_converted_is_queued_again_once(world, monkeypatch, settings):
    settings.PIPELINE_BATCH_SIZE, settings.PIPELINE_OVERLAP = 4, True
    integ, uplinks = world
    assert overlap.available()
    begun = []
    third_begun = threading.Event()
    real_begin, real_write = pipeline.begin, store.write

    def begin(chunk, **kwargs):
        out = real_begin(chunk, **kwargs)
        begun.append(([u.payload for u in chunk], threading.current_thread().name))
        if len(begun) == 3:
            third_begun.set()
        return out

    writes = []

    def write(messages):
        writes.append(len(messages))
        if len(writes) == 2:  # the second batch: the third was begun (converted) meanwhile
            assert third_begun.wait(30)
            raise OperationalError("the database went away")
        real_write(messages)

    requeued = []
    monkeypatch.setattr(pipeline, "begin", begin)
    monkeypatch.setattr(store, "write", write)
    monkeypatch.setattr(queue, "requeue", lambda chunk, **options: requeued.append((chunk, options)))
    tasks.process_uplinks.run([_Request(queue.encode(uplinks))])

    assert len(begun) == 3 and {thread for _, thread in begun} == {"pipeline-ahead_0"}
    assert len(requeued) == 1  # once: the failed batch and the one begun ahead, nothing stored before
    chunk, options = requeued[0]
    assert [u.payload for u in chunk] == [u.payload for u in uplinks[4:]]
    assert options["retries"] == 1
    stored = set(Device.objects.filter(tenant=integ.tenant).values_list("name", flat=True))
    assert {f"ov-{n}" for n in range(4)} <= stored
    assert not [name for name in stored - {f"ov-{n}" for n in range(4)}
                if values(Device.objects.get(tenant=integ.tenant, name=name))]
    # the claims of the failed batch and of the one begun ahead were released: their messages are
    # no duplicates when they come again; the stored batch's still are
    assert dedup.claim([(str(integ.pk), dedup.digest(f"m-{n}"), 300_000) for n in range(4, 12)]) == {
        (str(integ.pk), dedup.digest(f"m-{n}")) for n in range(4, 12)}
    dedup.release([(str(integ.pk), dedup.digest(f"m-{n}")) for n in range(4, 12)])
    assert not dedup.claim([(str(integ.pk), dedup.digest(f"m-{n}"), 300_000) for n in range(4)])

    monkeypatch.setattr(store, "write", real_write)
    tasks.process_uplinks.run([_Request(queue.encode(chunk, retries=1))])  # the retry
    for n in range(12):
        device = Device.objects.get(tenant=integ.tenant, name=f"ov-{n}")
        assert [v for _, v in history(device.pk, ["t"], 0, 2_000_000_000_000).get("t", [])] == [n]  # nothing lost
    assert not DeadLetter.objects.filter(integration=integ).exists()


def _failing_on_call(real, number: int, error: Exception):
    """``real``, except that its ``number``th call raises ``error``; ``.calls`` holds the first arguments."""
    def wrapper(*args, **kwargs):
        wrapper.calls.append(args[0] if args else None)
        if len(wrapper.calls) == number:
            raise error
        return real(*args, **kwargs)

    wrapper.calls = []
    return wrapper


@postgres_only
def test_a_failed_begin_requeues_from_its_batch_and_keeps_what_was_stored(world, monkeypatch, settings):
    settings.PIPELINE_BATCH_SIZE, settings.PIPELINE_OVERLAP = 4, True
    integ, uplinks = world
    begin = _failing_on_call(pipeline.begin, 2, OperationalError("the database went away"))
    requeued = []
    monkeypatch.setattr(pipeline, "begin", begin)
    monkeypatch.setattr(queue, "requeue", lambda chunk, **options: requeued.append(chunk))
    tasks.process_uplinks.run([_Request(queue.encode(uplinks))])
    assert [[u.payload for u in chunk] for chunk in requeued] == [[u.payload for u in uplinks[4:]]]
    assert len(begin.calls) == 2  # nothing begun after the failure
    assert sorted(Device.objects.filter(tenant=integ.tenant).values_list("name", flat=True)) == sorted(
        f"ov-{n}" for n in range(4))


@postgres_only
def test_an_unexpected_error_keeps_only_its_batch_as_dead_letters(world, monkeypatch, settings):
    settings.PIPELINE_BATCH_SIZE, settings.PIPELINE_OVERLAP = 4, True
    integ, uplinks = world
    monkeypatch.setattr(pipeline, "complete", _failing_on_call(pipeline.complete, 2, ValueError("a bug")))
    tasks.process_uplinks.run([_Request(queue.encode(uplinks))])
    letters = DeadLetter.objects.filter(integration=integ)
    assert sorted(bytes(letter.payload) for letter in letters) == sorted(u.payload for u in uplinks[4:8])
    names = set(Device.objects.filter(tenant=integ.tenant).values_list("name", flat=True))
    assert {f"ov-{n}" for n in (*range(4), *range(8, 12))} <= names


def test_the_worker_notes_its_pool_size_for_its_pool_processes(monkeypatch):
    from celery.signals import worker_init

    monkeypatch.delenv("TB_WORKER_POOL_PROCESSES", raising=False)
    assert overlap.pool_processes() == 1

    class Worker:
        concurrency = 3

    worker_init.send(sender=Worker())  # as Celery's WorkController does before it forks its pool
    try:
        assert overlap.pool_processes() == 3
    finally:
        monkeypatch.delenv("TB_WORKER_POOL_PROCESSES", raising=False)


@postgres_only
def test_dead_letters_that_cannot_be_kept_requeue_from_their_batch(world, monkeypatch, settings):
    """A bug in batch 2 while the database is down: keeping its dead letters fails too, so batch 2
    and the one begun ahead are queued again (as the serial loop does), nothing is acknowledged away."""
    settings.PIPELINE_BATCH_SIZE, settings.PIPELINE_OVERLAP = 4, True
    integ, uplinks = world
    finish = _failing_on_call(pipeline._finish, 2, ValueError("a bug"))  # inside pipeline.complete, which
    requeued = []  # releases the batch's claims

    def keep(chunk, error):
        raise OperationalError("the database went away")

    monkeypatch.setattr(pipeline, "_finish", finish)
    monkeypatch.setattr(tasks.dead_letters, "keep", keep)
    monkeypatch.setattr(queue, "requeue", lambda chunk, **options: requeued.append(chunk))
    tasks.process_uplinks.run([_Request(queue.encode(uplinks))])
    assert [[u.payload for u in chunk] for chunk in requeued] == [[u.payload for u in uplinks[4:]]]
    assert len(finish.calls) == 2
    free = dedup.claim([(str(integ.pk), dedup.digest(f"m-{n}"), 300_000) for n in range(12)])
    assert free == {(str(integ.pk), dedup.digest(f"m-{n}")) for n in range(4, 12)}  # batch 1's stay claimed
