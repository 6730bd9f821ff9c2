"""What reporting tells the apps above it (it never calls up: tbproject/tests/test_layers.py).

``report_ready`` is sent (``send_robust``) once a report job that names notification ``targets`` has
COMPLETED, with ``job`` (the ReportJob), ``report`` (its Report) and ``params``: the notification template
parameters of the report (``reportName``, ``reportLink``, ``reportId``, ``reportTemplateName``, ``userEmail``).
A receiver (notifications/report_delivery.py) sends the job's notification and answers
``{"requests": [NotificationRequest JSON...], "errors": ["...", ...]}``; reports/jobs.py records both on the job.

Whether a request's ``targets`` and ``notificationTemplateId`` are the tenant's is asked of the notification
center too, at request time: it sets the answer with :func:`answer_missing_refs` (its AppConfig.ready), and
:func:`missing_ref` asks it (None: all there, or no notification center installed to ask).
"""

from django.dispatch import Signal

__all__ = ["report_ready", "answer_missing_refs", "missing_ref"]

report_ready = Signal()

_missing_ref = None


def answer_missing_refs(checker) -> None:
    """``checker(tenant_id, target_ids, template_id) -> str | None``: the "... is not found" message of the first
    id that is not one of the tenant's notification targets (or, for ``template_id``, templates)."""
    global _missing_ref
    _missing_ref = checker


def missing_ref(tenant_id, target_ids: list[str], template_id: str | None) -> str | None:
    return None if _missing_ref is None else _missing_ref(tenant_id, target_ids, template_id)
