"""Celery tasks of reporting: thin wrappers around services.py (in embedded mode they run in-process)."""

from celery import shared_task

__all__ = ["generate_report", "sweep_stuck_jobs", "remove_expired_jobs"]


@shared_task(name="reports.tasks.generate_report", ignore_result=True)
def generate_report(job_id: str) -> None:
    """Generate the report of one QUEUED job (reports/services.py run_job; a job already taken is left alone)."""
    from reports import services

    services.run_job(job_id)


@shared_task(name="reports.tasks.sweep_stuck_jobs", ignore_result=True)
def sweep_stuck_jobs() -> None:
    """Periodic (tbproject/periodic.py): jobs RUNNING past a render's time are FAILED (services.py)."""
    from reports import services

    services.sweep_stuck_jobs()


@shared_task(name="reports.tasks.remove_expired_jobs", ignore_result=True)
def remove_expired_jobs() -> int:
    """Periodic (tbproject/periodic.py): finished report jobs past REPORTS_JOBS_TTL_DAYS are deleted (jobs.py)."""
    from reports import jobs

    return jobs.remove_expired_jobs()
