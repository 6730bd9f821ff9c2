"""The uplink task outside eager mode (a worker's view): how it splits what waits into pipeline
batches, requeues, and what it does with a batch the pipeline could not run. Found by the fault
suite (tests/faults/): a psycopg error from the telemetry writer's own connection was not
retried, and the task's error acknowledged the batch, dropping it."""

from dataclasses import dataclass, field

import psycopg
import pytest

from devices.models import Device
from integrations import dead_letters, pipeline, queue, tasks
from integrations.messages import RawUplink
from integrations.models import DeadLetter
from integrations.tasks import process_uplinks
from integrations.tests.uplinks import integration, json_uplink, values


@dataclass
class _Request:
    """What the task reads of a celery-batches request: its arguments and delivery info."""

    args: list
    delivery_info: dict = field(default_factory=dict)


@pytest.fixture
def batch(tenant):
    integ = integration(tenant, name="Task")
    return integ, [json_uplink(integ, {"name": f"task-{n}", "telemetry": {"t": n}}) for n in range(3)]


def test_an_unexpected_error_keeps_the_whole_batch_as_replayable_dead_letters(batch, monkeypatch):
    integ, uplinks = batch
    real = pipeline.process

    def broken(chunk, **kwargs):
        raise ValueError("a bug in the pipeline")

    monkeypatch.setattr(pipeline, "process", broken)
    tasks.process_uplinks.run([_Request([queue.encode(uplinks)])])
    letters = DeadLetter.objects.filter(integration=integ)
    assert sorted(bytes(letter.payload) for letter in letters) == sorted(u.payload for u in uplinks)
    assert {(letter.stage, letter.error) for letter in letters} == {("pipeline", "ValueError: a bug in the pipeline")}

    monkeypatch.setattr(pipeline, "process", real)
    dead_letters.replay(integ)
    assert values(Device.objects.get(tenant=integ.tenant, name="task-2")) == {"t": 2}


def test_a_psycopg_connection_error_queues_the_batch_again(batch, monkeypatch):
    integ, uplinks = batch
    requeued = []

    def broken(chunk, **kwargs):
        raise psycopg.errors.AdminShutdown("terminating connection due to administrator command")

    monkeypatch.setattr(pipeline, "process", broken)
    monkeypatch.setattr(queue, "requeue", lambda chunk, **options: requeued.append((chunk, options)))
    tasks.process_uplinks.run([_Request([queue.encode(uplinks)])])
    assert [(len(chunk), options["retries"]) for chunk, options in requeued] == [(3, 1)]
    assert not DeadLetter.objects.filter(integration=integ).exists()


def test_eagerly_the_error_reaches_the_transport(batch, monkeypatch):
    """Embedded mode: the HTTP ingress must answer 503 (test_http_ingress.py), so nothing is kept here."""
    integ, uplinks = batch
    monkeypatch.setattr(pipeline, "process", lambda chunk, **kwargs: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        tasks.process_uplinks.run([_Request([queue.encode(uplinks)], {"is_eager": True})])
    assert not DeadLetter.objects.filter(integration=integ).exists()


def test_the_task_is_declared_durable():
    assert process_uplinks.name == "integrations.tasks.process_uplinks"
    assert process_uplinks.acks_late is True and process_uplinks.reject_on_worker_lost is True


def _request(batch: dict, *, eager: bool = False):
    from celery_batches import SimpleRequest

    return SimpleRequest("id", "integrations.tasks.process_uplinks", (batch,), {}, {"is_eager": eager}, "host",
                         True, None, None, {})


def test_the_task_requeues_what_failed_on_machinery_failures_with_back_off_and_raises_when_eager(monkeypatch,
                                                                                                  settings):
    from django.db import OperationalError

    # Back-off up to 600 s, but at most half the broker's visibility timeout: a retry held longer
    # by a worker would be handed out again by Redis and run twice (tbproject/backoff.py).
    settings.BROKER_VISIBILITY_TIMEOUT = 1000

    def down(uplinks, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(pipeline, "process", down)
    requeued = []
    monkeypatch.setattr(queue, "requeue", lambda uplinks, **kw: requeued.append((len(uplinks), kw)))
    one = [RawUplink("i", b"x", {}, 1)]
    for retries, countdown in ((0, 5), (3, 40), (12, 500)):
        # Two waiting messages run as one batch: the larger retry count sets the back-off.
        process_uplinks.run([_request(queue.encode(one)), _request(queue.encode(one * 2, retries=retries))])
        assert requeued.pop() == (3, {"retries": retries + 1, "countdown": countdown})
    with pytest.raises(OperationalError):
        process_uplinks.run([_request(queue.encode(one), eager=True)])
    with pytest.raises(OperationalError):
        process_uplinks.apply(args=[queue.encode(one)], throw=True)


def test_the_task_runs_every_waiting_message_in_pipeline_batches_of_uplink_batch_size(monkeypatch, settings):
    settings.PIPELINE_BATCH_SIZE = 4
    settings.PIPELINE_OVERLAP = False  # the serial loop (the overlapped one: test_overlap.py)
    ran = []
    def process(uplinks, **kwargs):
        ran.append([u.payload for u in uplinks])
        return [pipeline.Outcome(pipeline.OK)] * len(uplinks)

    monkeypatch.setattr(pipeline, "process", process)
    batches = [queue.encode([RawUplink("i", bytes([n]), {}, 1) for n in range(k, k + 3)]) for k in (0, 3, 6)]
    process_uplinks.run([_request(b) for b in batches])
    assert ran == [[b"\x00", b"\x01", b"\x02", b"\x03"], [b"\x04", b"\x05", b"\x06", b"\x07"], [b"\x08"]]


def test_the_worker_closes_a_pipeline_batch_at_its_payload_bytes_too(monkeypatch, settings):
    settings.PIPELINE_BATCH_SIZE = 100
    settings.PIPELINE_OVERLAP = False  # the serial loop (the overlapped one: test_overlap.py)
    monkeypatch.setattr(tasks, "PIPELINE_BATCH_BYTES", 10)
    ran = []
    def process(uplinks, **kwargs):
        ran.append([u.payload for u in uplinks])
        return [pipeline.Outcome(pipeline.OK)] * len(uplinks)

    monkeypatch.setattr(pipeline, "process", process)
    payloads = [b"1234", b"123456", b"12345678901", b"1", b"2"]
    process_uplinks.run([_request(queue.encode([RawUplink("i", p, {}, 1) for p in payloads]))])
    assert ran == [[b"1234", b"123456"], [b"12345678901"], [b"1", b"2"]]


def test_requeue_sends_batches_with_their_retry_count_and_countdown(monkeypatch, settings):
    settings.UPLINK_BATCH_SIZE = 2
    sent = []
    monkeypatch.setattr(process_uplinks, "apply_async", lambda args, countdown: sent.append((args[0], countdown)))
    queue.requeue([RawUplink("i", b"x", {}, 1)] * 3, retries=2, countdown=10)
    assert [(len(queue.decode(b)), queue.retries_of(b), c) for b, c in sent] == [(2, 2, 10), (1, 2, 10)]
