"""Converter health (issue 21, item 4): executions, errors and p50/p99 per converter per hour,
counted once per engine batch, read through the API."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from converters import health
from converters.models import ConverterHealth
from integrations import pipeline
from integrations.tests.uplinks import converter, integration, json_uplink
from tbproject.testing.api import assert_error

HOUR = health.HOUR_MS
T0 = 1_760_000_000_000 // HOUR * HOUR
PICKY = r"""
var data = JSON.parse(String.fromCharCode.apply(String, payload));
if (data.boom) throw new Error('boom');
return {deviceName: data.name, deviceType: 'probe', telemetry: {t: data.t}};
"""


def test_percentiles_come_from_the_fixed_buckets():
    histogram = [0] * health.BUCKETS
    histogram[health.bucket_of(0.3)] = 98  # 0.25 < 0.3 <= 0.5
    histogram[health.bucket_of(40)] = 2  # 25 < 40 <= 50
    assert health.percentile(histogram, 0.5) == 0.5
    assert health.percentile(histogram, 0.99) == 50
    assert health.percentile([0] * health.BUCKETS, 0.5) is None
    histogram[-1] = 1000  # beyond the last bound
    assert health.percentile(histogram, 0.99) is None
    assert health.bucket_of(1000) == 13 and health.bucket_of(1000.1) == 14


@pytest.mark.django_db
def test_the_meter_writes_one_upsert_per_converter_and_adds_up(tenant):
    conv = converter(tenant)
    meter = health.Meter()
    meter.add_counts(conv.pk, 10, 1, 0.002)  # 0.2 ms each
    meter.add_counts(conv.pk, 10, 0, 0.020)  # 2 ms each
    with CaptureQueriesContext(connection) as queries:
        assert meter.flush(now=T0 + 5) == 1
    assert len(queries) == 1
    meter.add_counts(conv.pk, 5, 5, 0.5)  # 100 ms each, same hour
    meter.flush(now=T0 + HOUR - 1)
    row = ConverterHealth.objects.get(converter=conv)
    assert (row.period_ts, row.executions, row.errors, row.total_us) == (T0, 25, 6, 522_000)
    assert row.histogram[health.bucket_of(0.2)] == 10 and row.histogram[health.bucket_of(2)] == 10
    assert row.histogram[health.bucket_of(100)] == 5


def test_the_pipeline_counts_executions_and_errors_once_per_batch(api, tenant):
    conv = converter(tenant, PICKY)
    integ = integration(tenant, conv)
    batch = [json_uplink(integ, {"name": "a", "t": 1}), json_uplink(integ, {"name": "b", "boom": 1}),
             json_uplink(integ, {"name": "c", "t": 3})]
    pipeline.process(batch)
    pipeline.process(batch[:1])
    body = api.get(f"/api/converter/{conv.pk}/health").json()
    current = body["hours"][-1]
    assert len(body["hours"]) == 24 and [h["executions"] for h in body["hours"][:-1]] == [0] * 23
    assert (current["executions"], current["errors"], current["errorRate"]) == (4, 1, 0.25)
    assert current["p50Ms"] is not None and current["p99Ms"] >= current["p50Ms"] and current["meanMs"] > 0
    assert sum(current["histogram"]) == 4 and body["total"]["executions"] == 4
    assert body["bucketsMs"][0] == 0.05 and body["converterId"]["id"] == str(conv.pk)


def test_health_covers_the_hours_asked_for(api, tenant):
    conv = converter(tenant)
    meter = health.Meter()
    meter.add_counts(conv.pk, 3, 0, 0.003)
    meter.flush()
    body = api.get(f"/api/converter/{conv.pk}/health?hours=2").json()
    assert [h["executions"] for h in body["hours"]] == [0, 3]
    assert body["hours"][1]["ts"] - body["hours"][0]["ts"] == HOUR


@pytest.mark.parametrize("hours", ["0", "169", "x", "-1"])
def test_a_bad_hours_parameter_is_a_400(api, tenant, hours):
    conv = converter(tenant)
    assert_error(api.get(f"/api/converter/{conv.pk}/health?hours={hours}"), 400, "'hours' must be a whole number")


def test_another_tenants_converter_health_is_a_404(mallory_api, customer_api, tenant):
    conv = converter(tenant)
    assert_error(mallory_api.get(f"/api/converter/{conv.pk}/health"), 404)
    assert customer_api.get(f"/api/converter/{conv.pk}/health").status_code == 403


def test_downlink_encoding_is_counted_too(tenant):
    from converters.downlink import encode
    from converters.engine import Limits
    from converters.events import EventBatch
    from converters.models import Converter

    conv = Converter.objects.create(tenant=tenant, name="enc", type="DOWNLINK", configuration={
        "scriptLang": "JS", "encoder": "if (msg.bad) throw new Error('no'); return {contentType: 'TEXT', data: 'x'};"})
    inputs = [('{"bad": false}', {}, "ATTRIBUTES_UPDATED", {}), ('{"bad": true}', {}, "ATTRIBUTES_UPDATED", {})]
    outcomes = encode(conv, inputs, limits=Limits.from_settings(), batch=EventBatch(), now=T0)
    assert [error is None for _, error in outcomes] == [True, False]
    row = ConverterHealth.objects.get(converter=conv)
    assert (row.executions, row.errors, sum(row.histogram)) == (2, 1, 2)


@pytest.mark.django_db
def test_hours_older_than_a_week_are_pruned(tenant):
    from converters.tasks import prune_converter_health

    conv = converter(tenant)
    for age in (0, health.KEEP_HOURS - 1, health.KEEP_HOURS, health.KEEP_HOURS + 5):
        meter = health.Meter()
        meter.add_counts(conv.pk, 1, 0, 0.001)
        meter.flush(now=T0 - age * HOUR)
    assert prune_converter_health(now=T0) == 2
    assert sorted((T0 - row.period_ts) // HOUR for row in ConverterHealth.objects.all()) == [0, health.KEEP_HOURS - 1]
