"""Periodic: the audit log's retention (tbproject/periodic.py)."""

from celery import shared_task

from audit import services


@shared_task(name="audit.tasks.prune_audit_logs", ignore_result=True)
def prune_audit_logs() -> int:
    """Delete audit rows older than AUDIT_LOG_TTL_DAYS."""
    return services.prune()
