"""Periodic jobs of the converters app."""

from celery import shared_task
from django.conf import settings

from converters.choices import DEBUG_EVENT_TYPES
from converters.models import DebugEvent
from tbproject.clock import now_ms

__all__ = ["prune_debug_events", "prune_converter_health", "refresh_converters_library"]

DELETE_BATCH = 5000
DAY_MS = 86_400_000


@shared_task(name="converters.tasks.prune_debug_events", ignore_result=True)
def prune_debug_events(now: int | None = None, batch: int = DELETE_BATCH) -> int:
    """Delete debug events older than DEBUG_EVENTS_TTL_DAYS (0 keeps them), ``batch`` rows per
    DELETE so that a large backlog never holds one long lock. Other event types (errors,
    lifecycle, statistics) never expire, as in ThingsBoard. Returns how many were deleted."""
    ttl_days = int(getattr(settings, "DEBUG_EVENTS_TTL_DAYS", 7))
    if ttl_days <= 0:
        return 0
    cutoff = (now_ms() if now is None else now) - ttl_days * DAY_MS
    expired = DebugEvent.objects.filter(event_type__in=DEBUG_EVENT_TYPES, created_time__lt=cutoff)
    deleted = 0
    while pks := list(expired.values_list("pk", flat=True)[:batch]):
        deleted += DebugEvent.objects.filter(pk__in=pks).delete()[0]
    return deleted


@shared_task(name="converters.tasks.prune_converter_health", ignore_result=True)
def prune_converter_health(now: int | None = None) -> int:
    """Delete converter-health hours older than a week (converters.health.KEEP_HOURS)."""
    from converters import health

    return health.prune(now)


@shared_task(name="converters.tasks.refresh_converters_library", ignore_result=True)
def refresh_converters_library(force: bool = False) -> dict | None:
    """Check the converters library's branch (hourly) and clone it when it is stale by
    CONVERTERS_LIBRARY_REFRESH_HOURS and its commit changed. A failure (no network, bad URL) is
    logged and the previous checkout stays in use; None when nothing was due."""
    import logging

    from converters.library import repo

    try:
        return repo.refresh(force=True) if force else repo.refresh_if_stale()
    except repo.LibraryError as e:
        logging.getLogger(__name__).warning("converters library not refreshed: %s", e)
        return None
