"""With REDIS_URL, computing leaves the writer: one ``calculated.tasks.compute`` task per written batch,
queued after the write commits, carrying the tenant, the keys written and the chain depth."""

import base64
import json
import os

import pytest

from calculated import tasks
from calculated.tests.helpers import latest, save, simple, telemetry, ts_arg
from tbproject.celery import app as celery_app
from tbproject.testing.factories import make_device

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL)")]


def test_a_written_batch_queues_one_task_and_the_task_computes(api, tenant):
    import redis

    device = make_device(tenant, "brokered")
    save(api, simple(device, "a + b", {"a": ts_arg("a"), "b": ts_arg("b")}, "sum"))
    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.delete("celery")
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = celery_app.conf.CELERY_TASK_ALWAYS_EAGER = False
    try:
        telemetry(api, device, {"a": 1, "b": 2, "c": 3})  # one batch of three keys
        queued = [json.loads(raw) for raw in client.lrange("celery", 0, -1)]
    finally:
        celery_app.conf.task_always_eager = celery_app.conf.CELERY_TASK_ALWAYS_EAGER = before
        client.delete("celery")
    assert [m["headers"]["task"] for m in queued] == ["calculated.tasks.compute"]
    args = json.loads(base64.b64decode(queued[0]["body"]))[0]
    assert args[0] == str(tenant.pk) and args[2] == 1
    # "c" is no field's argument: not handed on
    assert [tuple(c) for c in args[1]] == [(str(device.pk), "TS", key, None) for key in ("a", "b")]
    assert latest(device, "sum") == {}  # nothing computed in the writer
    tasks.compute(*args)  # what the worker runs
    assert latest(device, "sum") == {"sum": 3.0}
