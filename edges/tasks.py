"""Celery tasks of edges: thin wrappers (in embedded mode they run in-process, tbproject/periodic.py)."""

from celery import shared_task

__all__ = ["prune_events"]


@shared_task(name="edges.tasks.prune_events", ignore_result=True)
def prune_events() -> int:
    """Periodic: edge events past EDGE_EVENTS_TTL_DAYS are deleted (edges/services.py); how many."""
    from edges import services

    return services.prune_events()
