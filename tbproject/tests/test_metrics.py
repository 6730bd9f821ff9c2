"""What /metrics counts, through the real pipeline: uplinks accepted, stored, failed and dropped
per integration, the converter latency histogram, downlink outcomes; the totals of several
processes summed in Redis; the Celery queue's depth and lag read from Redis."""

import json
import os

import pytest
from prometheus_client.parser import text_string_to_metric_families

from converters import engine
from integrations import queue
from integrations.downlinks import delivery
from integrations.models import DownlinkStatus, OutgoingDownlink
from integrations.tests.processes import manage
from integrations.tests.test_http_ingress import call
from integrations.tests.test_queue import brokered  # noqa: F401  (fixture)
from integrations.tests.uplinks import integration, json_uplink
from tbproject import metrics
from tbproject.clock import now_ms
from tbproject.ops import exposition

REDIS_URL = os.environ.get("REDIS_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="needs Redis (set REDIS_URL; .ci/run does)")
TOKEN = "metrics-test-token"


@pytest.fixture
def embedded(settings, transactional_db):
    settings.REDIS_URL, settings.CELERY_TASK_ALWAYS_EAGER, settings.METRICS_TOKEN = "", True, TOKEN
    metrics.reset_local()
    yield
    metrics.reset_local()


@pytest.fixture
def shared(settings):
    """Counts go to this run's Redis, emptied around the test."""
    import redis

    settings.REDIS_URL, settings.METRICS_TOKEN = REDIS_URL, TOKEN
    client = redis.Redis.from_url(REDIS_URL)
    metrics.reset_local()
    client.delete(metrics.KEY)
    yield client
    metrics.reset_local()
    client.delete(metrics.KEY)


def scrape(transport: str = "asgi") -> dict:
    answer = call(transport, "GET", "/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert answer.status == 200, answer.body
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.body.decode()) for s in family.samples}


def _of(integ) -> tuple:
    return (("integration", str(integ.pk)),)


def test_the_series_of_a_deleted_integration_go_away(embedded, tenant):
    kept, deleted = integration(tenant), integration(tenant)
    queue.accept_many([json_uplink(kept, {"name": "k"}), json_uplink(deleted, {"name": "d"})])
    assert ("tb_uplinks_stored_total", _of(deleted)) in scrape()
    deleted_id = str(deleted.pk)
    deleted.delete()
    samples = scrape()
    assert samples[("tb_uplinks_stored_total", _of(kept))] == 1
    assert not [key for key in samples if ("integration", deleted_id) in key[1]]


@needs_redis
def test_the_series_of_a_deleted_integration_are_removed_from_redis(shared, transactional_db, tenant):
    integ = integration(tenant)
    metrics.inc("tb_uplinks_accepted_total", 2, integration=integ.pk)
    metrics.inc("tb_uplinks_accepted_total", 1, integration="7d1bd3a6-32a4-4a41-9a37-2ae4c2a9b4d2")  # none such
    assert scrape()[("tb_uplinks_accepted_total", _of(integ))] == 2
    assert shared.hkeys(metrics.KEY) == [f"tb_uplinks_accepted_total|integration={integ.pk}".encode()]


@pytest.mark.parametrize("transport", ["django", "asgi"])
def test_an_http_uplink_is_counted_accepted_and_stored_with_its_converter_run(transport, embedded, tenant):
    integ = integration(tenant)
    body = json.dumps({"name": "m-1", "telemetry": {"t": 1}}).encode()
    answer = call(transport, "POST", f"/api/v1/integrations/http/{integ.routing_key}", body,
                  {"content-type": "application/json"})
    assert answer.status == 204
    samples = scrape(transport)
    assert samples[("tb_uplinks_accepted_total", _of(integ))] == 1
    assert samples[("tb_uplinks_stored_total", _of(integ))] == 1
    assert samples[("tb_uplinks_failed_total", _of(integ))] == 0
    assert samples[("tb_converter_latency_seconds_count", (("kind", "decoder"),))] == 1
    assert samples[("tb_converter_latency_seconds_bucket", (("kind", "decoder"), ("le", "+Inf")))] == 1
    assert 0 < samples[("tb_converter_latency_seconds_sum", (("kind", "decoder"),))] < 5
    assert samples[("tb_queue_depth", ())] == 0  # eager: nothing waits


def test_failed_and_dropped_uplinks_are_counted_apart(embedded, tenant):
    integ = integration(tenant)
    closed = integration(tenant, allow_create_devices_or_assets=False)
    queue.accept_many([json_uplink(integ, {"name": "ok-1"}), json_uplink(integ, "not an object"),
                       json_uplink(closed, {"name": "new-device"})])
    samples = scrape()
    assert samples[("tb_uplinks_accepted_total", _of(integ))] == 2
    assert samples[("tb_uplinks_stored_total", _of(integ))] == 1
    assert samples[("tb_uplinks_failed_total", _of(integ))] == 1
    assert samples[("tb_uplinks_dropped_total", _of(closed))] == 1
    assert samples[("tb_uplinks_stored_total", _of(closed))] == 0


def test_duplicates_are_counted_apart(embedded, tenant):
    integ = integration(tenant, configuration={"baseUrl": "x", "deduplication": {"key": "metadata:id"}})
    queue.accept_many([json_uplink(integ, {"name": "once"}, id="a"), json_uplink(integ, {"name": "once"}, id="a")])
    samples = scrape()
    assert samples[("tb_uplinks_accepted_total", _of(integ))] == 2
    assert samples[("tb_uplinks_stored_total", _of(integ))] == 1
    assert samples[("tb_uplinks_duplicate_total", _of(integ))] == 1


def test_no_integration_name_or_tenant_appears_in_the_metrics(embedded, tenant):
    integ = integration(tenant, name="Secret Plant North")
    queue.accept_many([json_uplink(integ, {"name": "device-of-a-tenant"})])
    answer = call("asgi", "GET", "/metrics", headers={"authorization": f"Bearer {TOKEN}"})
    assert str(integ.pk).encode() in answer.body
    for private in (b"Secret Plant", b"device-of-a-tenant", str(tenant.pk).encode(), tenant.title.encode()):
        assert private not in answer.body


def test_downlink_outcomes_and_encoder_runs_are_counted(embedded, tenant):
    integ = integration(tenant)
    rows = [OutgoingDownlink.objects.create(tenant=tenant, integration=integ, device_name=f"d{i}", msg_type="X",
                                            status=DownlinkStatus.SENDING, payload=b"{}", content_type="JSON")
            for i in range(3)]
    delivery.finish({integ.pk: integ}, [(rows[0], None, False), (rows[1], "broker away", False),
                                        (rows[2], "refused", True)])
    engine.encode(None, 1, "return {contentType: 'JSON', data: msg, metadata: {}};", [("{}", {}, "X", {})] * 4)
    samples = scrape()
    for outcome, count in (("delivered", 1), ("retry", 1), ("failed", 1)):
        assert samples[("tb_downlinks_total", (("integration", str(integ.pk)), ("outcome", outcome)))] == count
    assert samples[("tb_converter_latency_seconds_count", (("kind", "encoder"),))] == 4
    statuses = sorted(OutgoingDownlink.objects.values_list("status", flat=True))
    assert statuses == sorted([DownlinkStatus.DELIVERED, DownlinkStatus.PENDING, DownlinkStatus.FAILED])


def test_histogram_buckets_are_cumulative(embedded):
    metrics.observe("tb_converter_latency_seconds", 0.0002, 3, kind="decoder")
    metrics.observe("tb_converter_latency_seconds", 0.02, 1, kind="decoder")
    metrics.observe("tb_converter_latency_seconds", 7.0, 1, kind="decoder")
    samples = scrape()

    def bucket(le):
        return samples[("tb_converter_latency_seconds_bucket", (("kind", "decoder"), ("le", le)))]

    assert (bucket("0.0001"), bucket("0.00025"), bucket("0.01"), bucket("0.025"), bucket("1.0"), bucket("+Inf")) == (
        0, 3, 3, 4, 4, 5)
    assert samples[("tb_converter_latency_seconds_sum", (("kind", "decoder"),))] == pytest.approx(7.0206)


@needs_redis
def test_the_counts_of_several_processes_are_summed_in_redis(shared, db):
    metrics.inc("tb_uplinks_accepted_total", 5, integration="i-1")
    env = {**os.environ, "REDIS_URL": REDIS_URL}
    manage(env, "shell", "-c", "from tbproject import metrics\n"
                               "metrics.inc('tb_uplinks_accepted_total', 7, integration='i-1')\n"
                               "metrics.inc('tb_uplinks_stored_total', 2, integration='i-2')\n"
                               "assert metrics.flush()")
    totals = metrics.snapshot()  # flushes this process's 5 first
    assert totals["tb_uplinks_accepted_total|integration=i-1"] == 12
    assert totals["tb_uplinks_stored_total|integration=i-2"] == 2
    assert metrics.snapshot() == totals  # nothing counted twice


@needs_redis
def test_counts_wait_in_the_process_while_redis_is_unreachable(shared, settings):
    metrics.inc("tb_uplinks_accepted_total", 3, integration="i-9")
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    assert metrics.flush() is False
    settings.REDIS_URL = REDIS_URL
    assert metrics.flush() is True
    assert shared.hget(metrics.KEY, "tb_uplinks_accepted_total|integration=i-9") == b"3"


@needs_redis
def test_queue_depth_and_lag_come_from_the_waiting_batches(brokered, transactional_db, tenant, settings):  # noqa: F811
    settings.REDIS_URL = REDIS_URL
    integ = integration(tenant)
    old = now_ms() - 60_000
    queue.accept_many([json_uplink(integ, {"name": "a"}, ts=old), json_uplink(integ, {"name": "b"})])
    queue.accept_many([json_uplink(integ, {"name": "c"})])
    gauges = exposition.queue_gauges(brokered)
    assert gauges["depth"] == 2
    assert 60 <= gauges["lag"] < 120
    brokered.delete("celery")
    assert exposition.queue_gauges(brokered) == {"depth": 0, "reserved": gauges["reserved"], "lag": 0.0}
    # a message a consumer moved into its in-flight list (tbproject/broker.py) counts as reserved
    brokered.lpush("inflight:test-consumer", b"{}")
    brokered.zadd("inflight_index", {"inflight:test-consumer": 1.0})
    try:
        assert exposition.queue_gauges(brokered)["reserved"] == gauges["reserved"] + 1
    finally:
        brokered.delete("inflight:test-consumer")
        brokered.zrem("inflight_index", "inflight:test-consumer")
