"""Rule-engine messages in batches (issue 18): the API producers' outbox, the coalescing rules
task and its retries, and the root chains cached per tenant."""

import base64
import json
import os
import threading
import time

import pytest
from celery_batches import SimpleRequest
from django.db import OperationalError

from integrations import task_messages
from rulechains import engine, nodes, outbox, tasks
from rulechains import messages as m
from rulechains.models import RuleNode
from rulechains.tests.helpers import install_root, msg, node
from tbproject.celery import app as celery_app
from tbproject.testing.factories import make_device


@pytest.fixture
def device(tenant):
    return make_device(tenant, "valve-9")


def request(payload, *extra, eager=False) -> SimpleRequest:
    return SimpleRequest(id="r", name="rulechains.tasks.process_messages", args=(payload, *extra), kwargs={},
                         delivery_info={"is_eager": eager}, hostname="h", ignore_result=True, reply_to=None,
                         correlation_id=None, request_dict={})


def test_the_outbox_publishes_what_waits_as_one_task_and_every_caller_learns_it(monkeypatch):
    published = []

    def slow_publish(args, **options):
        time.sleep(0.05)  # while one batch goes out, the next callers wait together
        published.append(args[0])
        # a short repr: Celery's own safe repr of every message cost more than the publish
        assert options == {"argsrepr": f"[<{len(args[0])} messages>]"}

    monkeypatch.setattr(tasks.process_messages, "apply_async", slow_publish)
    monkeypatch.setattr(task_messages, "usable", lambda task: False)  # kombu's producer (a non-Redis broker)
    sender = outbox._Sender()
    futures = []
    threads = [threading.Thread(target=lambda i=i: futures.append(sender.put([{"n": i}]))) for i in range(30)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for future in list(futures):
        future.result(5)
    assert sorted(item["n"] for batch in published for item in batch) == list(range(30))  # each once
    assert len(published) < 30


def test_a_caller_of_the_outbox_learns_that_its_batch_was_not_queued(monkeypatch):
    def broker_down(args, **options):
        raise ConnectionError("broker down")

    monkeypatch.setattr(tasks.process_messages, "apply_async", broker_down)
    monkeypatch.setattr(task_messages, "usable", lambda task: False)
    with pytest.raises(ConnectionError, match="broker down"):
        outbox._Sender().put([{"n": 1}]).result(5)


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL)")
def test_with_a_redis_broker_the_outbox_queues_celerys_own_task_messages_with_one_command():
    import redis

    client = redis.Redis.from_url(os.environ["REDIS_URL"])
    client.delete("celery")
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = celery_app.conf.CELERY_TASK_ALWAYS_EAGER = False  # as test_queue's brokered
    items = [{"n": i} for i in range(outbox.BATCH_SIZE + 2)]
    try:
        assert task_messages.usable(tasks.process_messages)
        tasks.process_messages.apply_async(args=[items[-2:]], argsrepr="[<2 messages>]")  # through kombu's producer
        outbox.publish(items)  # one LPUSH: two task messages (BATCH_SIZE, then 2)
        celerys, *ours = (json.loads(raw) for raw in reversed(client.lrange("celery", 0, -1)))  # oldest first
    finally:
        celery_app.conf.task_always_eager = celery_app.conf.CELERY_TASK_ALWAYS_EAGER = before
        client.delete("celery")

    def args(message):
        return json.loads(base64.b64decode(message["body"]))[0][0]

    def shape(message):
        # apply_async(argsrepr=...) also copies the option into the properties, which no one reads
        ids = ("id", "root_id", "correlation_id", "delivery_tag", "origin", "argsrepr")
        return {part: {k: v for k, v in message[part].items() if k not in ids} for part in ("headers", "properties")}

    assert [args(m) for m in ours] == [items[:outbox.BATCH_SIZE], items[outbox.BATCH_SIZE:]]
    assert shape(ours[1]) == shape(celerys)  # the worker cannot tell them apart
    assert [m["headers"]["argsrepr"] for m in ours] == [f"[<{outbox.BATCH_SIZE} messages>]", "[<2 messages>]"]
    assert celerys["headers"]["argsrepr"] == "[<2 messages>]"
    assert ours[1]["body"] == celerys["body"]


def test_the_rules_task_runs_every_waiting_batch_as_one(tenant, device, monkeypatch):
    seen = []
    monkeypatch.setattr(engine, "process", lambda batch: seen.append([x.data for x in batch]))
    payloads = [[m.encode(msg(tenant, device, data={"n": i}))] for i in range(3)]
    tasks.process_messages([request(p) for p in payloads] + [request([{"broken": True}])])
    assert seen == [[{"n": 0}, {"n": 1}, {"n": 2}]]  # the unreadable one is left out, the rest runs together


def test_the_rules_task_queues_again_what_it_could_not_run(tenant, device, monkeypatch):
    def database_down(batch):
        raise OperationalError("connection refused")

    requeued = []
    monkeypatch.setattr(engine, "process", database_down)
    monkeypatch.setattr(tasks, "requeue", lambda payload, **kw: requeued.append((payload, kw)))
    first, second = [m.encode(msg(tenant, device))], [m.encode(msg(tenant, device))]
    tasks.process_messages([request(first), request(second, 3)])
    assert requeued == [(first + second, {"retries": 4, "countdown": 40})]
    requeued.clear()
    tasks.process_messages([request(first, tasks.MAX_RETRIES)])
    assert requeued == []  # given up, with an error in the log
    with pytest.raises(OperationalError):  # embedded mode: the caller learns it
        tasks.process_messages([request(first, eager=True)])


def test_root_chains_are_cached_per_tenant_until_a_chain_changes(tenant, other_tenant, django_assert_num_queries):
    chain = install_root(tenant, [node(nodes.SWITCH, "switch")], [])
    engine.forget_chains()
    with django_assert_num_queries(2):
        assert engine.root_chains([tenant.pk, other_tenant.pk])[tenant.pk].chain == chain
    with django_assert_num_queries(0):
        engine.root_chains([tenant.pk, other_tenant.pk])
    row = RuleNode.objects.get(rule_chain=chain)
    row.name = "renamed"
    row.save()  # a saved chain is forgotten at once in this process
    with django_assert_num_queries(2):
        assert engine.root_chains([tenant.pk])[tenant.pk].nodes[0].name == "renamed"
