"""Statistics, STATS and LC_EVENT events, and the debug policy and cap of pipeline events."""

import pytest

from converters.models import DebugEvent
from integrations import events, pipeline, stats
from integrations.models import IntegrationStats
from integrations.tasks import persist_stats
from integrations.tests.uplinks import converter, debug_all, integration, json_uplink
from tbproject.periodic import JOBS

HOUR = stats.HOUR_MS
NOW = 1_760_000_000_000 - 1_760_000_000_000 % HOUR + 1_800_000  # half past some hour


def _mixed(integ, n_ok, n_bad):
    return ([json_uplink(integ, {"name": f"d{i}", "telemetry": {"t": i}}) for i in range(n_ok)]
            + [json_uplink(integ, {"oops": i}) for i in range(n_bad)])


def _events(obj, event_type):
    return list(DebugEvent.objects.filter(entity_id=obj.pk, event_type=event_type))


def test_it_counts_messages_and_errors_per_hour_with_one_upsert_per_batch(tenant):
    integ = integration(tenant)
    pipeline.process(_mixed(integ, 3, 2))
    pipeline.process(_mixed(integ, 1, 1))
    [row] = IntegrationStats.objects.filter(integration=integ)
    assert (row.messages_processed, row.errors_occurred, row.persisted) == (7, 3, False)
    assert row.period_ts % HOUR == 0


def test_ignored_entities_count_as_errors(tenant):
    integ = integration(tenant, allow_create_devices_or_assets=False)
    pipeline.process(_mixed(integ, 2, 0))
    row = IntegrationStats.objects.get(integration=integ)
    assert (row.messages_processed, row.errors_occurred) == (2, 2)


def test_stats_series_gives_24_hourly_counts_oldest_first(tenant):
    integ, quiet = integration(tenant), integration(tenant)
    stats.add(integ.pk, processed=5, errors=0, now=NOW)
    stats.add(integ.pk, processed=2, errors=1, now=NOW - HOUR)
    stats.add(integ.pk, processed=9, errors=0, now=NOW - 23 * HOUR)
    stats.add(integ.pk, processed=100, errors=0, now=NOW - 24 * HOUR)  # outside the window
    series = stats.stats_series(integ, now=NOW)
    assert len(series) == 24 and series[-1] == 5 and series[-2] == 2 and series[0] == 9 and sum(series) == 16
    assert stats.stats_series_many([integ.pk, quiet.pk], now=NOW) == {integ.pk: series, quiet.pk: [0] * 24}
    assert stats.stats_series(str(quiet.pk), hours=3, now=NOW) == [0, 0, 0]


def test_finished_hours_become_stats_events_once(tenant):
    integ = integration(tenant)
    stats.add(integ.pk, processed=4, errors=1, now=NOW - HOUR)
    stats.add(integ.pk, processed=6, errors=0, now=NOW)  # current hour: not yet
    assert stats.persist(now=NOW) == 1
    [event] = _events(integ, "STATS")
    assert event.body["messagesProcessed"] == 4 and event.body["errorsOccurred"] == 1
    assert event.created_time == stats.period_start(NOW) and event.entity_type == "INTEGRATION"
    assert event.tenant_id == tenant.pk
    assert stats.persist(now=NOW) == 0
    assert stats.persist(now=NOW + HOUR) == 1
    assert sorted(e.body["messagesProcessed"] for e in _events(integ, "STATS")) == [4, 6]
    # old persisted rows go; the series only needs a day
    assert stats.persist(now=NOW + 3 * 24 * HOUR) == 0
    assert not IntegrationStats.objects.exists()


def test_stats_are_persisted_by_a_periodic_job(tenant):
    assert "integrations.tasks.persist_stats" in {job.path for job in JOBS}
    assert "integrations.tasks.prune_dead_letters" in {job.path for job in JOBS}
    stats.add(integration(tenant).pk, processed=1, errors=0, now=1_000)
    assert persist_stats() == 1


def test_the_events_api_shows_stats_and_lifecycle_events(api, tenant):
    integ = integration(tenant)
    events.lifecycle(integ, events.STARTED)
    events.lifecycle(integ, events.FAILED, error="Connection refused")
    events.error_event(integ, "connect", "Connection refused")
    stats.add(integ.pk, processed=3, errors=0, now=NOW - HOUR)
    stats.persist(now=NOW)
    res = api.get(f"/api/events/INTEGRATION/{integ.pk}/LC_EVENT?pageSize=10&page=0")
    bodies = sorted((row["body"]["event"], row["body"]["status"], row["body"].get("error"))
                    for row in res.json()["data"])
    assert bodies == [("FAILED", "Failure", "Connection refused"), ("STARTED", "Success", None)]
    res = api.get(f"/api/events/INTEGRATION/{integ.pk}/STATS?pageSize=10&page=0")
    assert [row["body"]["messagesProcessed"] for row in res.json()["data"]] == [3]
    res = api.get(f"/api/events/INTEGRATION/{integ.pk}/ERROR?pageSize=10&page=0")
    assert res.json()["data"][0]["body"]["method"] == "connect"


# --- debug policy and cap -------------------------------------------------------------------------


def test_no_debug_events_when_debug_is_off(tenant):
    integ = integration(tenant)
    pipeline.process(_mixed(integ, 2, 2))
    assert not DebugEvent.objects.exists()


def test_only_failures_are_recorded_when_debug_failures_is_on(tenant):
    conv = converter(tenant)
    conv.debug_failures_enabled = True
    conv.save()
    integ = integration(tenant, conv, debug_failures_enabled=True)
    pipeline.process(_mixed(integ, 2, 1))
    assert [e.is_error for e in _events(conv, "DEBUG_CONVERTER")] == [True]
    assert [e.body["status"] for e in _events(integ, "DEBUG_INTEGRATION")] == ["ERROR"]


def test_everything_is_recorded_while_debug_all_is_on(tenant):
    conv = debug_all(converter(tenant))
    integ = debug_all(integration(tenant, conv))
    pipeline.process(_mixed(integ, 2, 1))
    conv_events = _events(conv, "DEBUG_CONVERTER")
    assert sorted(e.is_error for e in conv_events) == [False, False, True]
    ok = next(e for e in conv_events if not e.is_error)
    assert ok.body["out"].startswith('{"deviceName":"d') and ok.body["inMessageType"] == "JSON"
    assert sorted(e.body["status"] for e in _events(integ, "DEBUG_INTEGRATION")) == ["ERROR", "OK", "OK"]
    # the converter's and the integration's settings are independent
    integ.debug_all_enabled_until = 0
    integ.save()
    pipeline.process(_mixed(integ, 1, 0))
    assert len(_events(conv, "DEBUG_CONVERTER")) == 4 and len(_events(integ, "DEBUG_INTEGRATION")) == 3


def test_debug_events_are_capped_per_integration_per_hour_keeping_failures(tenant, settings):
    settings.INTEGRATION_DEBUG_EVENTS_PER_HOUR = 5
    conv = debug_all(converter(tenant))
    integ = debug_all(integration(tenant, conv))
    pipeline.process(_mixed(integ, 1, 0))  # 2 events: converter + integration
    pipeline.process(_mixed(integ, 3, 1))  # 8 wanted, room for 3: the 2 failures first, then 1, then the notice
    kept = DebugEvent.objects.filter(entity_id__in=[conv.pk, integ.pk])
    assert kept.count() == 2 + 3 + 1
    assert kept.filter(is_error=True).count() == 3
    [notice] = [e for e in kept if "capped at 5 per hour" in e.body.get("error", "")]
    assert notice.entity_id == integ.pk
    pipeline.process(_mixed(integ, 2, 2))  # over the cap: nothing more, no second notice
    assert DebugEvent.objects.filter(entity_id__in=[conv.pk, integ.pk]).count() == 6
    assert IntegrationStats.objects.get(integration=integ).debug_events == 2 + 8 + 8


@pytest.mark.parametrize(("already", "wanted", "kept"), [(0, 3, 3), (2, 3, 3), (3, 3, 3), (4, 3, 2), (5, 3, 1),
                                                         (6, 3, 0)])
def test_capped_keeps_what_fits_and_announces_the_cut_once(tenant, already, wanted, kept):
    integ = integration(tenant)
    rows = [events.uplink_event(debug_all(integ), b"{}", "JSON", now=1) for _ in range(wanted)]
    out = events.capped(integ, rows, already=already, now=1, limit=6)
    assert len([e for e in out if "capped" not in e.body.get("error", "")]) == kept
    assert len(out) - kept == (1 if kept < wanted and already <= 6 else 0)
