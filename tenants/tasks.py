"""Celery tasks of the tenants app: thin wrappers around tenants/deletion.py."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from tbproject import backoff
from tenants import deletion

__all__ = ["delete_tenant", "resume_tenant_deletions", "SLICE_SECONDS"]

#: A worker deletes for about this long, then queues the rest: a task stays well under the broker's
#: visibility timeout (after which Redis would hand its message to a second worker).
SLICE_SECONDS = 60


@shared_task(name="tenants.tasks.delete_tenant", bind=True, ignore_result=True, acks_late=True,
             reject_on_worker_lost=True, max_retries=None)
def delete_tenant(self, tenant_id: str) -> bool:
    """Delete a tenant marked by DELETE /api/tenant/{id}, in batches (idempotent: a redelivered or
    retried message deletes what is left). Embedded (eager) mode runs it to the end at once."""
    try:
        done = deletion.run(tenant_id, seconds=None if self.request.is_eager else SLICE_SECONDS)
    except (OperationalError, InterfaceError) as exc:
        if self.request.is_eager:
            raise
        raise self.retry(exc=exc, countdown=backoff.countdown(self.request.retries, 300)) from exc
    if not done:
        delete_tenant.delay(tenant_id)
    return done


@shared_task(name="tenants.tasks.resume_tenant_deletions", ignore_result=True)
def resume_tenant_deletions() -> int:
    """Periodic: queue again the tenant deletions that stopped (a worker died, a message was lost)."""
    return deletion.resume_stale()
