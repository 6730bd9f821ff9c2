"""Celery tasks of calculated fields; the logic is in calculated/compute.py and debug.py."""

from celery import shared_task

from calculated import compute as computing
from calculated import debug

__all__ = ["compute", "prune_events"]


@shared_task(name="calculated.tasks.compute", ignore_result=True)
def compute(tenant_id, changes, depth: int = 1) -> None:
    """Compute the fields one written batch triggers (queued after the write committed)."""
    computing.run(tenant_id, [tuple(change) for change in changes], depth)


@shared_task(name="calculated.tasks.prune_events", ignore_result=True)
def prune_events() -> int:
    """Debug events past DEBUG_EVENTS_TTL_DAYS."""
    return debug.prune()
