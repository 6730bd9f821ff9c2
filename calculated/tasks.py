"""Celery tasks of calculated fields; the logic is in calculated/compute.py and debug.py."""

from celery import shared_task

from calculated import compute as computing
from calculated import debug

__all__ = ["compute", "prune_events", "reprocess"]


@shared_task(name="calculated.tasks.compute", ignore_result=True)
def compute(tenant_id, changes, depth: int = 1) -> None:
    """Compute the fields one written batch triggers (queued after the write committed)."""
    computing.run(tenant_id, [tuple(change) for change in changes], depth)


@shared_task(name="calculated.tasks.prune_events", ignore_result=True)
def prune_events() -> int:
    """Debug events past DEBUG_EVENTS_TTL_DAYS."""
    return debug.prune()


@shared_task(name="calculated.tasks.reprocess", ignore_result=True, bind=True)
def reprocess(self, job_id, only=None) -> None:
    """Run a reprocessing job (calculated/reprocess.py); ``only``: the failed entities of a re-run.
    Run eagerly (embedded mode: inside the request), it has the request's time budget."""
    from calculated import reprocess as reprocessing
    from calculated.models import Job

    job = Job.objects.filter(pk=job_id).first()
    if job is not None:
        reprocessing.run(job, only, budget_s=reprocessing.request_budget() if self.request.is_eager else 0)
