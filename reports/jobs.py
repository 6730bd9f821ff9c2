"""Report jobs (ThingsBoard's Job of type REPORT): run, cancel, delete, run again, and notify.

    notify_options(data, error)   -> {"targets": [...], "notificationTemplateId": ...} of a ReportRequest
    run_job(job_id)               # the task: a QUEUED job, claimed once -> COMPLETED with its report, or FAILED
    run_now(template, user, tz, make_public, options, origin) -> ReportJob   # the rule node: made and run here
    cancel(job); delete(job); retry(job)   # JobError (a 400) when the job's status does not allow it
    sweep_stuck_jobs()            # RUNNING too long -> FAILED
    remove_expired_jobs(now)      # finished jobs older than REPORTS_JOBS_TTL_DAYS deleted (their reports stay)

A job cancelled while it renders stays CANCELLED: the file made meanwhile is dropped and nobody is notified;
one deleted meanwhile stays deleted (the runner answers None).
A COMPLETED job that names notification ``targets`` sends ``reports.signals.report_ready`` (the notification
center above answers it, notifications/report_delivery.py); the requests sent are kept in its configuration
(``notificationRequests``) and what went wrong in ``notification_errors``: never does notifying fail the job.
"""

import logging
import uuid

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework.exceptions import APIException, Throttled

from reports import conf, rendering, services
from reports.choices import ACTIVE_JOB_STATUSES, JobStatus
from reports.models import ReportJob
from reports.signals import report_ready
from tbproject.clock import now_ms
from tenants.system import admin_settings

__all__ = ["JobError", "notify_options", "run_job", "run_now", "cancel", "delete", "retry", "sweep_stuck_jobs",
           "remove_expired_jobs", "check_capacity", "MAX_TARGETS", "MAX_ERRORS_KEPT", "FINISHED", "BATCH"]

log = logging.getLogger(__name__)

MAX_TARGETS = 100  # targets one report notifies (the notification center's limit of one request)
MAX_ERRORS_KEPT = 100
#: the statuses of a job that is done: what the cleanup may delete
FINISHED = (JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED)
BATCH = 5000  # rows one DELETE of the cleanup takes


class JobError(ValueError):
    """A job request that cannot be done (a 400); the message says why."""


def _uuid_text(raw, what: str, error) -> str:
    raw = raw.get("id") if isinstance(raw, dict) else raw
    try:
        return str(uuid.UUID(str(raw)))
    except (TypeError, ValueError, AttributeError):
        raise error(f"{what} is not a valid id: {str(raw)[:64]}") from None


def notify_options(data: dict, error) -> dict:
    """ReportRequest's ``targets`` (notification target ids) and ``notificationTemplateId``, checked for shape
    (``error``: the exception class to raise). Whether they exist is seen when the report is sent: a target
    deleted by then is logged on the job."""
    targets, template = data.get("targets"), data.get("notificationTemplateId")
    if targets in (None, []):
        targets = []
    elif not isinstance(targets, list):
        raise error("targets must be a list of notification target ids")
    elif len(targets) > MAX_TARGETS:
        raise error(f"A report notifies at most {MAX_TARGETS} targets")
    ids = list(dict.fromkeys(_uuid_text(t, "targets", error) for t in targets))
    if template in (None, "") or (isinstance(template, dict) and not template.get("id")):
        template = None
    else:
        template = _uuid_text(template, "notificationTemplateId", error)
    return {"targets": ids, "notificationTemplateId": template}


def check_capacity(tenant_id) -> None:
    """429 when the tenant has REPORTS_MAX_JOBS_PER_TENANT jobs queued or running."""
    cap = int(getattr(settings, "REPORTS_MAX_JOBS_PER_TENANT", 10))
    if ReportJob.objects.filter(tenant_id=tenant_id, status__in=(JobStatus.QUEUED, JobStatus.RUNNING)
                                ).count() >= cap:
        raise Throttled(detail=f"Too many report jobs queued or running ({cap}); try again when they finish")


def _detail(e: APIException) -> str:
    detail = e.detail
    while isinstance(detail, (list, dict)) and detail:
        detail = detail[0] if isinstance(detail, list) else next(iter(detail.values()))
    return str(detail)


def _execute(job: ReportJob) -> ReportJob | None:
    """Generate the report of a job this runner holds RUNNING; every end is written only while it is still
    RUNNING (a cancel or the sweep meanwhile wins). None when the job was deleted meanwhile."""
    running = ReportJob.objects.filter(pk=job.pk, status=JobStatus.RUNNING)
    config = job.configuration
    user = get_user_model().objects.filter(pk=config.get("userId"), tenant_id=job.tenant_id, is_active=True).first()
    try:
        if job.template is None:
            raise rendering.ReportServerError("Report template is not found")
        if user is None:
            raise rendering.ReportServerError(f"User with id [{config.get('userId')}] is not found")
        report = services.generate(user, job.template, config.get("timezone") or "UTC", config.get("makePublic"))
    except rendering.ReportServerError as e:
        running.update(status=JobStatus.FAILED, error=e.message, finish_ts=now_ms())
    except APIException as e:  # the template's configuration went bad since it was saved
        running.update(status=JobStatus.FAILED, error=f"Failed to generate report: {_detail(e)}"[:1000],
                       finish_ts=now_ms())
    except Exception:
        log.exception("report job %s failed", job.pk)
        running.update(status=JobStatus.FAILED, error="Failed to generate report: internal error", finish_ts=now_ms())
    else:
        if running.update(status=JobStatus.COMPLETED, report=report, finish_ts=now_ms()) != 1:
            report.delete()  # cancelled (or swept) while it rendered: nothing to keep, nobody to tell
        else:
            _notify(job, report, user)
    return ReportJob.objects.select_related("template", "report").defer("report__data").filter(pk=job.pk).first()


def run_job(job_id) -> ReportJob | None:
    """Run a QUEUED job once (claimed by a conditional UPDATE); None when another runner has it, or it was
    cancelled or deleted."""
    rows = ReportJob.objects.filter(pk=job_id)
    if rows.filter(status=JobStatus.QUEUED).update(status=JobStatus.RUNNING, start_ts=now_ms()) != 1:
        return None
    job = rows.select_related("template").first()
    return None if job is None else _execute(job)


def run_now(template, user, tz: str, make_public: bool, options: dict,
            origin: dict | None = None) -> ReportJob | None:
    """A job made RUNNING and run here (the "generate report" rule node, already off any request thread); None
    when it was deleted while it ran."""
    configuration = {"type": "REPORT", "tasksKey": uuid.uuid4().hex, "reportTemplateId": str(template.pk),
                     "userId": str(user.pk), "timezone": tz, "makePublic": bool(make_public), **options,
                     **(origin or {})}
    job = ReportJob.objects.create(tenant_id=template.tenant_id, customer_id=user.customer_id, template=template,
                                   key=configuration["tasksKey"], configuration=configuration,
                                   status=JobStatus.RUNNING, start_ts=now_ms())
    return _execute(job)


# --- notifying the targets ------------------------------------------------------------------------
def _base() -> str:
    """The links' start without a request (a job runs in a task): the users' base URL (the general settings'
    ``baseUrl`` when ``prohibitDifferentUrl``, else PUBLIC_BASE_URL), else the general settings' ``baseUrl``
    whatever ``prohibitDifferentUrl`` says (ThingsBoard's default http://localhost:8080 when never saved)."""
    base = admin_settings.base_url()
    if base:
        return base
    general = admin_settings.get("general").get("jsonValue") or {}
    stored = general.get("baseUrl")
    return stored.rstrip("/") if isinstance(stored, str) else ""


def _link(report) -> str:
    if report.public:
        return f"{_base()}/api/v2/report/public/{report.public_key}/download"
    return f"{_base()}/api/v2/report/{report.pk}/download"


def _notify(job: ReportJob, report, user) -> None:
    if not job.configuration.get("targets"):
        return
    params = {"reportName": report.name, "reportLink": _link(report), "reportId": str(report.pk),
              "reportTemplateName": job.template.name if job.template else "", "userEmail": user.email}
    requests, errors = [], []
    try:
        answers = report_ready.send_robust(ReportJob, job=job, report=report, params=params)
    except Exception as e:  # send_robust catches the receivers'; this is the signal machinery itself
        answers = [(None, e)]
    if not answers:
        errors.append("Notifications are not available on this server")
    for _receiver, answer in answers:
        if isinstance(answer, Exception):
            log.warning("report job %s: notifying its targets failed: %s", job.pk, type(answer).__name__)
            errors.append(f"Failed to notify the targets: {type(answer).__name__}")
        elif isinstance(answer, dict):
            requests += answer.get("requests") or []
            errors += [str(e)[:500] for e in answer.get("errors") or []]
    if errors:
        log.info("report job %s: %d notification error(s): %s", job.pk, len(errors), errors[0])
    ReportJob.objects.filter(pk=job.pk).update(
        configuration={**job.configuration, "notificationRequests": requests},
        notification_errors=errors[:MAX_ERRORS_KEPT])


# --- the job API (calculated/all_jobs.py) -----------------------------------------------------------
def cancel(job: ReportJob) -> None:
    if ReportJob.objects.filter(pk=job.pk, status__in=ACTIVE_JOB_STATUSES).update(
            status=JobStatus.CANCELLED, cancellation_ts=now_ms()) != 1:
        raise JobError(f"Job is already {job.status.lower()}: it cannot be cancelled")


def delete(job: ReportJob) -> None:
    """Deleted unless it is queued or running (read again by the DELETE itself: a job re-run meanwhile stays);
    the report it made stays."""
    if not ReportJob.objects.filter(pk=job.pk).exclude(status__in=ACTIVE_JOB_STATUSES).delete()[0]:
        raise JobError("A queued or running job cannot be deleted: cancel it first")


def retry(job: ReportJob) -> None:
    """A FAILED job queued again (POST /api/job/{id}/reprocess: its one task, the report, is made again)."""
    if job.status != JobStatus.FAILED:
        raise JobError("Only a failed job's failed tasks can be reprocessed")
    check_capacity(job.tenant_id)
    if ReportJob.objects.filter(pk=job.pk, status=JobStatus.FAILED).update(
            status=JobStatus.QUEUED, error="", start_ts=None, finish_ts=None, cancellation_ts=None,
            notification_errors=[]) != 1:
        raise JobError("The job changed meanwhile: try again")
    from reports.tasks import generate_report

    transaction.on_commit(lambda: generate_report.delay(str(job.pk)))


def sweep_stuck_jobs() -> int:
    """Jobs RUNNING longer than a render may take (its timeout, a slot's wait and a margin) -> FAILED, as a
    worker that died leaves them; the number marked."""
    limit_ms = (int(getattr(settings, "REPORTS_RENDER_TIMEOUT_MS", 30_000))
                + int(float(getattr(settings, "REPORTS_SLOT_WAIT_SECONDS", 5)) * 1000) + 10 * 60_000)
    return ReportJob.objects.filter(status=JobStatus.RUNNING, start_ts__lt=now_ms() - limit_ms).update(
        status=JobStatus.FAILED, error="Failed to generate report: the job did not finish in time",
        finish_ts=now_ms())


def remove_expired_jobs(now: int | None = None) -> int:
    """Periodic (reports.tasks.remove_expired_jobs): finished jobs created more than REPORTS_JOBS_TTL_DAYS ago
    are deleted, BATCH rows a statement (a queued or running one stays whatever its age; the reports the jobs
    made stay); how many. 0 days keeps them all."""
    days = conf.jobs_ttl_days()
    if days <= 0:
        return 0
    cutoff = (now_ms() if now is None else now) - days * 86_400_000
    expired = ReportJob.objects.filter(created_time__lt=cutoff, status__in=FINISHED).order_by()
    removed = 0
    while ids := list(expired.values_list("pk", flat=True)[:BATCH]):
        deleted = ReportJob.objects.filter(pk__in=ids, status__in=FINISHED).delete()[1]
        removed += deleted.get(ReportJob._meta.label, 0)
    return removed
