"""The uplink queue: batches of concurrent callers, one Celery task per batch, durable before it returns."""

import asyncio
import base64
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from devices.models import Device
from integrations import pipeline, queue
from integrations.messages import RawUplink
from integrations.tasks import process_uplinks
from integrations.tests.uplinks import integration, json_uplink, values
from tbproject.celery import app as celery_app
from tbproject.testing.telemetry import forget_tenant_telemetry
from tenants.models import Tenant

REDIS_URL = os.environ.get("REDIS_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="needs Redis (set REDIS_URL)")
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def eager():
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = celery_app.conf.CELERY_TASK_ALWAYS_EAGER = True
    yield
    celery_app.conf.task_always_eager = celery_app.conf.CELERY_TASK_ALWAYS_EAGER = before


@pytest.fixture
def brokered():
    """Tasks really go to the broker (Redis db of this run), which is emptied around the test."""
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.delete("celery")
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = celery_app.conf.CELERY_TASK_ALWAYS_EAGER = False
    yield client
    celery_app.conf.task_always_eager = celery_app.conf.CELERY_TASK_ALWAYS_EAGER = before
    client.delete("celery")


@pytest.fixture
def world(transactional_db):
    """A committed tenant and integration: the pipeline runs in other threads or processes."""
    tenant = Tenant.objects.create(title="Queue Co")
    yield integration(tenant, name="Queued")
    forget_tenant_telemetry(tenant)


@pytest.fixture
def spy(monkeypatch):
    """Records (batch size, thread) of every pipeline run."""
    calls = []
    real = pipeline.process

    def process(uplinks, **kwargs):
        calls.append((len(uplinks), threading.get_ident()))
        return real(uplinks, **kwargs)

    monkeypatch.setattr(pipeline, "process", process)
    return calls


def _count_devices(tenant) -> int:
    try:
        return Device.objects.filter(tenant=tenant).count()
    finally:
        connection.close()  # this pool thread's own connection


def _uplinks(integ, n, start=0):
    return [json_uplink(integ, {"name": f"q-{i}", "telemetry": {"n": i}}, ts=1_760_000_000_000 + i)
            for i in range(start, start + n)]


def test_the_task_payload_is_json_and_keeps_bytes_metadata_and_times():
    uplinks = [RawUplink("i-1", bytes(range(256)), {"topic": "a/b", "Header:x": "y"}, 123, "BINARY"),
               RawUplink("i-2", b"", {}, 0, "JSON")]
    payload = json.loads(json.dumps(queue.encode(uplinks, now=999)))
    back = queue.decode(payload)
    assert back[0] == uplinks[0]
    assert back[1] == RawUplink("i-2", b"", {}, 999, "JSON")
    with pytest.raises(ValueError, match="version"):
        queue.decode({"v": 99, "u": []})


def test_the_task_payload_sends_each_distinct_metadata_once_and_decodes_version_1():
    shared = {"topic": "t/1", "integrationName": "x"}
    uplinks = [RawUplink("i", b"%d" % n, dict(shared), n + 1, "TEXT") for n in range(3)]
    uplinks.append(RawUplink("i", b"other", {"topic": "t/2"}, 9, "TEXT"))
    payload = json.loads(json.dumps(queue.encode(uplinks)))
    assert isinstance(payload["u"], str) and json.loads(payload["m"]) == [shared, {"topic": "t/2"}]
    back = queue.decode(payload)
    assert back == uplinks
    back[0].metadata["added"] = "by a step"  # each uplink has its own metadata object
    assert "added" not in back[1].metadata
    # A batch queued by the previous version (metadata inline, one list per uplink) still runs.
    v1 = {"v": 1, "u": [["i", "AAE=", {"topic": "old"}, 5, "BINARY"]]}
    assert queue.decode(v1) == [RawUplink("i", b"\x00\x01", {"topic": "old"}, 5, "BINARY")]


def test_one_metadata_object_shared_by_uplinks_is_written_once_and_each_gets_a_copy_back():
    """A listener shares one metadata dict among a topic's uplinks (Kafka): encode writes it once."""
    shared = {"topic": "k", "integrationName": "x"}
    other = {"topic": "k", "integrationName": "x"}  # equal content, another object: still one entry
    uplinks = [RawUplink("i", b"%d" % n, shared, n + 1, "JSON") for n in range(3)]
    uplinks.append(RawUplink("i", b"o", other, 9, "JSON"))
    payload = queue.encode(uplinks)
    assert json.loads(payload["m"]) == [shared] and {row[2] for row in json.loads(payload["u"])} == {0}
    back = queue.decode(payload)
    assert [u.metadata for u in back] == [shared] * 4
    assert len({id(u.metadata) for u in back}) == 4  # a step that adds a key changes one uplink only


def test_accept_many_sends_one_task_per_batch_and_stores_when_eager(world, eager, spy, settings):
    settings.UPLINK_BATCH_SIZE = 3
    queue.accept_many(_uplinks(world, 7))
    assert [size for size, _ in spy] == [3, 3, 1]
    assert values(Device.objects.get(name="q-6")) == {"n": 6}
    queue.accept_many([])
    assert len(spy) == 3


def test_accept_batches_concurrent_callers_and_runs_the_pipeline_off_the_loop(world, eager, spy):
    async def main():
        await asyncio.gather(*(queue.accept(u) for u in _uplinks(world, 20)))
        # returned: stored already (eager mode). Had the pipeline run on this loop's thread,
        # Django would have refused its queries (SynchronousOnlyOperation).
        count = await asyncio.to_thread(_count_devices, world.tenant)
        return threading.get_ident(), count

    loop_thread, stored = asyncio.run(main())
    assert stored == 20
    [(size, thread)] = spy
    assert size == 20 and thread != loop_thread
    assert values(Device.objects.get(name="q-19")) == {"n": 19}


def test_accept_closes_a_batch_at_the_size_limit(world, eager, spy, settings):
    settings.UPLINK_BATCH_SIZE = 5

    async def main():
        await asyncio.gather(*(queue.accept(u) for u in _uplinks(world, 12)))

    asyncio.run(main())
    assert sorted(size for size, _ in spy) == [2, 5, 5]


def test_accept_sends_at_once_when_idle(world, eager, spy, settings):
    settings.UPLINK_BATCH_MS = 60_000  # a linger that would hang the test if an idle batch waited for it

    async def main():
        await asyncio.wait_for(queue.accept(_uplinks(world, 1)[0]), 30)

    asyncio.run(main())
    assert [size for size, _ in spy] == [1]


def _sends(monkeypatch) -> tuple[list[int], threading.Event]:
    """Records the size of every batch sent; a send waits until the event is set."""
    sizes, go = [], threading.Event()

    def send(uplinks):
        sizes.append(len(uplinks))
        go.wait(30)

    monkeypatch.setattr(queue, "_send", send)
    return sizes, go


def test_at_a_low_rate_what_arrives_during_a_send_goes_when_it_completes(monkeypatch, settings):
    settings.UPLINK_BATCH_MS = 60_000  # a lingering batch would time out
    monkeypatch.setattr(queue, "LINGER_FROM", 10**6)  # a low rate even for so long a linger
    sizes, go = _sends(monkeypatch)
    uplink = RawUplink("i", b"x", {}, 1)

    async def main():
        first = asyncio.ensure_future(queue.accept(uplink))
        while not sizes:
            await asyncio.sleep(0.001)  # the first batch is being sent (and held)
        later = []
        for _ in range(3):  # one per loop turn, none of them in the first batch
            later.append(asyncio.ensure_future(queue.accept(uplink)))
            await asyncio.sleep(0.001)
        go.set()
        await asyncio.wait_for(asyncio.gather(first, *later), 30)

    asyncio.run(main())
    assert sizes == [1, 3]


def test_at_a_high_rate_a_batch_lingers(monkeypatch, settings):
    settings.UPLINK_BATCH_MS = 60_000
    monkeypatch.setattr(queue, "LINGER_FROM", 4)  # with 20 uplinks sent, 40/s: 8 within 200 ms
    monkeypatch.setattr(queue, "RATE_WINDOW", 0.5)
    sizes, go = _sends(monkeypatch)
    go.set()
    uplink = RawUplink("i", b"x", {}, 1)

    async def main():
        await asyncio.gather(*(queue.accept(uplink) for _ in range(20)))  # idle: at once
        settings.UPLINK_BATCH_MS = 200
        later = []
        for _ in range(3):  # one per loop turn, each sent on its own were there no linger
            later.append(asyncio.ensure_future(queue.accept(uplink)))
            await asyncio.sleep(0.001)
        await asyncio.wait_for(asyncio.gather(*later), 30)

    asyncio.run(main())
    assert sizes == [20, 3]


def test_every_caller_of_a_batch_learns_that_it_was_not_queued(monkeypatch):
    def broken(uplinks):
        raise ConnectionError("broker down")

    monkeypatch.setattr(queue, "accept_many", broken)

    async def main():
        return await asyncio.gather(*(queue.accept(RawUplink("i", b"x", {}, 1)) for _ in range(3)),
                                    return_exceptions=True)

    assert [str(r) for r in asyncio.run(main())] == ["broker down"] * 3


def test_a_caller_that_gives_up_does_not_cancel_the_others(world, eager, spy, settings):
    settings.UPLINK_BATCH_MS = 30

    async def main():
        first, second = _uplinks(world, 2)
        impatient = asyncio.ensure_future(queue.accept(first))
        patient = asyncio.ensure_future(queue.accept(second))
        await asyncio.sleep(0)
        impatient.cancel()
        await patient
        return impatient.cancelled()

    assert asyncio.run(main()) is True
    assert [size for size, _ in spy] == [2]  # the batch still held both: at-least-once, never lost


# --- with a real broker ---------------------------------------------------------------------------


def _queued(client) -> list[dict]:
    """The task messages waiting in Redis: kombu's envelope, body decoded."""
    out = []
    for raw in client.lrange("celery", 0, -1):
        envelope = json.loads(raw)
        args, kwargs, _ = json.loads(base64.b64decode(envelope["body"]))
        out.append({"task": envelope["headers"]["task"], "args": args, "kwargs": kwargs})
    return out


@needs_redis
def test_concurrent_accepts_become_one_task_message_in_redis(world, brokered, spy):
    async def main():
        await asyncio.gather(*(queue.accept(u) for u in _uplinks(world, 25)))

    asyncio.run(main())
    [message] = _queued(brokered)
    assert message["task"] == "integrations.tasks.process_uplinks"
    assert len(queue.decode(message["args"][0])) == 25
    assert spy == [] and not Device.objects.filter(tenant=world.tenant).exists()  # queued, not run


@needs_redis
@pytest.mark.skipif(not django_settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
                    reason="a worker process needs a shared database server (PostgreSQL)")
def test_a_celery_worker_stores_what_was_queued(world, brokered):
    queue.accept_many(_uplinks(world, 30))
    assert len(_queued(brokered)) == 1
    db = connection.settings_dict
    env = {**os.environ, "REDIS_URL": REDIS_URL, "CELERY_TASK_ALWAYS_EAGER": "false",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"}
    worker = subprocess.Popen([sys.executable, "-m", "celery", "-A", "tbproject", "worker", "--pool", "solo",
                               "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "WARNING"],
                              cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 25
        # devices are committed before their telemetry (provisioning, then the batch write): wait for both
        while time.monotonic() < deadline and not (Device.objects.filter(tenant=world.tenant).count() == 30
                                                   and values(Device.objects.get(name="q-29"))):
            time.sleep(0.2)
        assert Device.objects.filter(tenant=world.tenant).count() == 30
        assert values(Device.objects.get(name="q-29")) == {"n": 29}
        assert _queued(brokered) == []  # acknowledged after it ran
    finally:
        worker.terminate()
        try:
            worker.wait(10)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()


@needs_redis
def test_a_batch_is_queued_as_the_same_message_celery_itself_publishes(world, brokered):
    from integrations import task_messages

    batch = queue.encode(_uplinks(world, 2))
    assert task_messages.usable(process_uplinks)
    process_uplinks.apply_async(args=[batch])  # through kombu's producer
    task_messages.publish(process_uplinks, [batch])  # one LPUSH
    ours, celerys = (json.loads(raw) for raw in brokered.lrange("celery", 0, -1))  # LPUSH: newest first

    def shape(message):
        ids = ("id", "root_id", "correlation_id", "delivery_tag", "argsrepr", "origin")
        return {part: {k: v for k, v in message[part].items() if k not in ids} for part in ("headers", "properties")}

    assert shape(ours) == shape(celerys)
    assert {k: v for k, v in ours.items() if k not in ("headers", "properties")} == \
        {k: v for k, v in celerys.items() if k not in ("headers", "properties")}  # the same body, byte for byte
    assert ours["headers"]["id"] == ours["headers"]["root_id"] == ours["properties"]["correlation_id"]


@needs_redis
def test_every_caller_learns_when_redis_cannot_be_reached_and_nothing_is_queued(world, brokered):
    before = celery_app.conf.broker_url
    celery_app.conf.broker_url = celery_app.conf.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"  # nothing listens there

    async def main():
        return await asyncio.gather(*(queue.accept(u) for u in _uplinks(world, 3)), return_exceptions=True)

    try:
        results = asyncio.run(main())
    finally:
        celery_app.conf.broker_url = celery_app.conf.CELERY_BROKER_URL = before
    assert len(results) == 3 and all(isinstance(r, Exception) for r in results)
    assert _queued(brokered) == []
