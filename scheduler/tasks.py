"""Celery tasks of the scheduler: thin wrappers around firing.py."""

from celery import shared_task

__all__ = ["fire_due_events"]


@shared_task(name="scheduler.tasks.fire_due_events", ignore_result=True)
def fire_due_events() -> int:
    """Periodic (every second, tbproject/periodic.py): fire the scheduler events that are due."""
    from scheduler import firing

    return firing.run_due()
