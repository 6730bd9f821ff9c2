"""The uplink task outside eager mode (a worker's view): what it does with a batch the pipeline
could not run. Found by the fault suite (tests/faults/): a psycopg error from the telemetry
writer's own connection was not retried, and the task's error acknowledged the batch, dropping it."""

from dataclasses import dataclass, field

import psycopg
import pytest

from devices.models import Device
from integrations import dead_letters, pipeline, queue, tasks
from integrations.models import DeadLetter
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
