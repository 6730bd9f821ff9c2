"""Converter-execution and debug-event limits in the pipeline, and the hourly usage it counts
(issue 19, items 4 and 5)."""

import time

import pytest

from converters.models import DebugEvent
from integrations import config_cache, pipeline, queue, tasks
from integrations.models import DeadLetter, IntegrationStats
from integrations.tests.uplinks import debug_all, integration, json_uplink
from tbproject.testing.limits import limit_tenant
from tenants import limits, usage
from tenants.models import TenantUsage


@pytest.fixture(autouse=True)
def _fresh():
    limits.reset()
    config_cache.forget()


def body(i: int) -> dict:
    return {"name": f"meter-{i}", "telemetry": {"kwh": i, "volts": 230}, "attributes": {"fw": "1.0"}}


def test_converter_runs_over_the_limit_are_deferred_not_failed(tenant):
    limit_tenant(tenant, converterExecutionsPerTenantRateLimit="3:3600")
    integ = integration(tenant)
    outcomes = pipeline.process([json_uplink(integ, body(i)) for i in range(5)])
    assert [o.status for o in outcomes] == ["ok"] * 3 + ["deferred"] * 2
    assert all(o.retry_ms > 0 and "converterExecutionsPerTenantRateLimit (3:3600)" in o.error for o in outcomes[3:])
    assert not DeadLetter.objects.exists()  # deferred is not failed
    assert IntegrationStats.objects.get(integration=integ).messages_processed == 3
    [row] = TenantUsage.objects.filter(tenant=tenant)
    assert (row.messages, row.js_executions, row.tbel_executions) == (3, 3, 0)


def test_the_worker_queues_deferred_uplinks_again_with_a_countdown(tenant, monkeypatch):
    limit_tenant(tenant, converterExecutionsPerTenantRateLimit="2:3600")
    integ = integration(tenant)
    requeued = []
    monkeypatch.setattr(queue, "requeue", lambda uplinks, **kw: requeued.append((uplinks, kw)))
    tasks._process([json_uplink(integ, body(i)) for i in range(3)], eager=False)
    [(uplinks, options)] = requeued
    assert [u.payload for u in uplinks] == [json_uplink(integ, body(2)).payload]
    assert options["retries"] == 0 and options["countdown"] > 0


def test_embedded_mode_waits_for_the_limit_and_runs_everything(tenant):
    limit_tenant(tenant, converterExecutionsPerTenantRateLimit="2:1")
    integ = integration(tenant)
    started = time.monotonic()
    tasks._process([json_uplink(integ, body(i)) for i in range(4)], eager=True)
    assert time.monotonic() - started >= 0.5  # two now, the next two after the bucket refilled
    assert IntegrationStats.objects.get(integration=integ).messages_processed == 4


def test_debug_events_over_the_tenant_limit_are_not_recorded(tenant, settings):
    settings.INTEGRATION_DEBUG_EVENTS_PER_HOUR = 1000
    limit_tenant(tenant, debugEventsPerTenantRateLimit="4:3600")
    integ = debug_all(integration(tenant))
    debug_all(integ.default_converter)
    pipeline.process([json_uplink(integ, body(i)) for i in range(5)])  # 10 events asked for
    assert DebugEvent.objects.filter(tenant=tenant).count() == 4
    assert TenantUsage.objects.get(tenant=tenant).debug_events == 4


def test_usage_counts_messages_data_points_and_script_runs_per_hour(tenant, other_tenant):
    integ = integration(tenant)
    pipeline.process([json_uplink(integ, body(i)) for i in range(4)])
    pipeline.process([json_uplink(integ, {"name": "broken"}) ])  # no telemetry: 0 data points, still a run
    pipeline.process([json_uplink(integration(other_tenant), body(9))])
    [row] = TenantUsage.objects.filter(tenant=tenant)
    assert row.period_ts == usage.period_start(row.period_ts) and row.period_ts % usage.HOUR_MS == 0
    assert (row.messages, row.data_points, row.js_executions, row.debug_events) == (5, 12, 5, 0)
    assert TenantUsage.objects.get(tenant=other_tenant).messages == 1


def test_usage_add_sums_into_one_row_per_hour_and_refuses_unknown_counters(tenant):
    hour = 1_760_000_400_000 - 1_760_000_400_000 % usage.HOUR_MS
    usage.add(tenant.pk, now=hour + 5, messages=2, data_points=3)
    usage.add(tenant.pk, now=hour + 9, messages=1, tbel_executions=1)
    usage.add(tenant.pk, now=hour + usage.HOUR_MS, messages=7)
    usage.add(tenant.pk, now=hour, messages=0)  # nothing to add: no write
    assert usage.hourly(tenant.pk, hour, hour + 2 * usage.HOUR_MS) == [
        {"ts": hour, "messages": 3, "data_points": 3, "js_executions": 0, "tbel_executions": 1, "debug_events": 0},
        {"ts": hour + usage.HOUR_MS, "messages": 7, "data_points": 0, "js_executions": 0, "tbel_executions": 0,
         "debug_events": 0},
    ]
    with pytest.raises(ValueError, match="unknown usage counters"):
        usage.add(tenant.pk, bogus=1)
