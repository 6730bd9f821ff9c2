"""Jobs (ThingsBoard 4.1's JobController): a calculated field's reprocessing, queued, cancelled, re-run.

    job = start(field, start_ts, end_ts)   # JobError (400) when it cannot start; the task is queued on commit
    validate(field)                        # ThingsBoard's CfReprocessingValidationResult
    cancel(job); delete(job); retry(job)   # JobError (400) when the job's status does not allow it
    render(job)                            # ThingsBoard's Job JSON

At most one job per field is active (QUEUED, PENDING or RUNNING). The work runs in the
``calculated.tasks.reprocess`` Celery task (in process in embedded mode), calculated/reprocess.py.
"""

import uuid

from django.db import transaction

from calculated.choices import ACTIVE_JOB_STATUSES, ArgumentType, JobStatus
from calculated.config import spec_of
from calculated.models import CalculatedField, Job
from tbproject.api.ids import entity_id
from tbproject.clock import now_ms

__all__ = ["JobError", "start", "validate", "cancel", "delete", "retry", "render", "last_of"]

#: the widest window one reprocessing may cover (our limit: ThingsBoard's is the tenant profile's TTL)
MAX_WINDOW_MS = 366 * 86_400_000


class JobError(ValueError):
    """A job request that cannot be done (a 400); the message says why."""


def last_of(field: CalculatedField) -> Job | None:
    return Job.objects.filter(tenant_id=field.tenant_id, key=str(field.pk)).order_by("-created_time").first()


def _active(field_pk, tenant_id) -> bool:
    return Job.objects.filter(tenant_id=tenant_id, key=str(field_pk), status__in=ACTIVE_JOB_STATUSES).exists()


def _problem(field: CalculatedField) -> str | None:
    if _active(field.pk, field.tenant_id):  # any of its jobs, not only the newest
        return "Reprocessing of this calculated field is already in progress"
    try:
        spec = spec_of(field)
    except ValueError as e:
        return str(e)
    if not any(a.kind != ArgumentType.ATTRIBUTE for a in spec.arguments.values()):
        return "Only a calculated field with a telemetry argument can be reprocessed (attributes keep no history)"
    return None


def validate(field: CalculatedField) -> dict:
    """ThingsBoard's CfReprocessingValidationResult: {isValid, message, lastJobStatus}."""
    problem, last = _problem(field), last_of(field)
    return {"isValid": problem is None, "message": problem, "lastJobStatus": last.status if last else None}


def _window(start_ts, end_ts) -> tuple[int, int]:
    for name, value in (("startTs", start_ts), ("endTs", end_ts)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise JobError(f"'{name}' must be a time in milliseconds")
    if end_ts <= start_ts:
        raise JobError("'endTs' must be after 'startTs'")
    if end_ts - start_ts > MAX_WINDOW_MS:
        raise JobError(f"A reprocessing covers at most {MAX_WINDOW_MS // 86_400_000} days")
    return start_ts, end_ts


def _queue(job: Job, only=None) -> None:
    from calculated.tasks import reprocess

    transaction.on_commit(lambda: reprocess.delay(str(job.pk), only))


def start(field: CalculatedField, start_ts, end_ts, *, queue: bool = True) -> Job:
    """``queue`` False: the caller runs the job itself (reprocessAndWait), no task is queued."""
    start_ts, end_ts = _window(start_ts, end_ts)
    with transaction.atomic():
        CalculatedField.objects.select_for_update().filter(pk=field.pk).first()  # one job at a time per field
        problem = _problem(field)
        if problem is not None:
            raise JobError(problem)
        job = Job.objects.create(
            tenant_id=field.tenant_id, key=str(field.pk), entity_id=field.pk, entity_name=field.name,
            configuration={"type": "CF_REPROCESSING", "tasksKey": str(uuid.uuid4()), "toReprocess": None,
                           "calculatedFieldId": str(field.pk), "calculatedFieldName": field.name,
                           "startTs": start_ts, "endTs": end_ts},
            result={"jobType": "CF_REPROCESSING", "successfulCount": 0, "failedCount": 0, "discardedCount": 0,
                    "totalCount": None, "results": [], "generalError": None, "startTs": None, "finishTs": None,
                    "cancellationTs": None})
        if queue:
            _queue(job)
    return job


def cancel(job: Job) -> None:
    result = {**job.result, "cancellationTs": now_ms()}
    if Job.objects.filter(pk=job.pk, status__in=ACTIVE_JOB_STATUSES).update(
            status=JobStatus.CANCELLED, result=result) != 1:
        raise JobError(f"Job is already {job.status.lower()}: it cannot be cancelled")


def delete(job: Job) -> None:
    if job.status in ACTIVE_JOB_STATUSES:
        raise JobError("A queued or running job cannot be deleted: cancel it first")
    job.delete()


def retry(job: Job) -> None:
    """Run the failed entities of a finished job again (POST /api/job/{id}/reprocess)."""
    failed = [r.get("key") for r in job.result.get("results") or [] if not r.get("success")]
    if job.status != JobStatus.FAILED or not failed:
        raise JobError("Only a failed job's failed tasks can be reprocessed")
    config = {**job.configuration, "toReprocess": job.result.get("results")}
    with transaction.atomic():
        CalculatedField.objects.select_for_update().filter(pk=job.entity_id).first()  # as start(): one at a time
        if _active(job.entity_id, job.tenant_id):
            raise JobError("Reprocessing of this calculated field is already in progress")
        if Job.objects.filter(pk=job.pk, status=JobStatus.FAILED).update(status=JobStatus.QUEUED,
                                                                          configuration=config) != 1:
            raise JobError("The job changed meanwhile: try again")
        _queue(job, failed)


def render(job: Job) -> dict:
    config = dict(job.configuration)
    if config.get("calculatedFieldId"):
        config["calculatedFieldId"] = entity_id("CALCULATED_FIELD", config["calculatedFieldId"])
    return {
        "id": entity_id("JOB", job.pk),
        "createdTime": job.created_time,
        "tenantId": entity_id("TENANT", job.tenant_id),
        "customerId": None,
        "type": job.kind,
        "key": job.key,
        "entityId": entity_id(job.entity_type, job.entity_id),
        "entityName": job.entity_name,
        "status": job.status,
        "configuration": config,
        "result": job.result,
    }
