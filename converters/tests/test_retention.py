"""Debug-event retention: the hourly beat job deletes what is older than DEBUG_EVENTS_TTL_DAYS."""

import uuid

from converters.models import DebugEvent
from converters.tasks import prune_debug_events
from tbproject.periodic import JOBS, beat_schedule

NOW = 1_700_000_000_000
DAY = 86_400_000


def event(tenant, age_ms: int, event_type="DEBUG_CONVERTER", entity_type="CONVERTER") -> DebugEvent:
    return DebugEvent.objects.create(tenant=tenant, entity_type=entity_type, entity_id=uuid.uuid4(),
                                     event_type=event_type, created_time=NOW - age_ms, body={})


def test_it_deletes_debug_events_past_their_ttl_only(tenant, other_tenant, settings):
    settings.DEBUG_EVENTS_TTL_DAYS = 7
    old = [event(tenant, 7 * DAY + 1), event(other_tenant, 30 * DAY),
           event(tenant, 8 * DAY, "DEBUG_INTEGRATION", "INTEGRATION")]
    kept = [event(tenant, 7 * DAY), event(tenant, 0), event(tenant, 3 * DAY, "DEBUG_INTEGRATION", "INTEGRATION"),
            event(tenant, 90 * DAY, "STATS"), event(tenant, 90 * DAY, "LC_EVENT"), event(tenant, 90 * DAY, "ERROR")]
    assert prune_debug_events(now=NOW) == len(old)
    assert set(DebugEvent.objects.values_list("pk", flat=True)) == {e.pk for e in kept}
    assert prune_debug_events(now=NOW) == 0


def test_it_deletes_in_batches(tenant, settings, django_assert_max_num_queries):
    settings.DEBUG_EVENTS_TTL_DAYS = 1
    for i in range(7):
        event(tenant, 2 * DAY + i)
    with django_assert_max_num_queries(4 * 2 + 1):  # a SELECT and a DELETE per batch of 2, then an empty SELECT
        assert prune_debug_events(now=NOW, batch=2) == 7
    assert not DebugEvent.objects.exists()


def test_a_ttl_of_zero_keeps_everything(tenant, settings):
    settings.DEBUG_EVENTS_TTL_DAYS = 0
    event(tenant, 3650 * DAY)
    assert prune_debug_events(now=NOW) == 0
    assert DebugEvent.objects.count() == 1


def test_it_runs_hourly_from_the_periodic_job_table(tenant, settings):
    assert any(job.path == "converters.tasks.prune_debug_events" and job.every == 3600 for job in JOBS)
    assert "converters.tasks.prune_debug_events" in beat_schedule()
    settings.DEBUG_EVENTS_TTL_DAYS = 7
    event(tenant, 8 * DAY)  # NOW is in the past, so this is older than 7 days by the real clock too
    prune_debug_events.delay()  # as beat sends it (tasks run eagerly in tests)
    assert not DebugEvent.objects.exists()
