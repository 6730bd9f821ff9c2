"""Reprocessing: a calculated field computed again over a window of stored history (ThingsBoard 4.1).

    run(job)   # job.configuration: {calculatedFieldId, startTs, endTs}; updates job.status and job.result

For every entity the field applies to (its device or asset, or every entity of its profile), each
timestamp in [startTs, endTs) at which one of its telemetry arguments has a stored value is a
computation, as if that value had just arrived: a latest-telemetry argument is its newest value at
or before that time (else its defaultValue), a rolling argument the values of its window ending at
that time, an attribute its current value (attributes keep no history). Each result is saved at
that timestamp (attributes: the last one wins), through devices/ like any other write. An entity
is one task of the job: it fails when a computation fails (the first error is kept), and the job
stops before the next entity once cancelled. Our rules where ThingsBoard does not say: at most
MAX_POINTS values per argument and entity are read, newest first.
"""

import logging
import uuid

from calculated import arguments as args_mod
from calculated import compute, debug, index, outputs, scripts
from calculated.choices import ArgumentType, FieldEntityType, FieldKind, JobStatus
from calculated.config import spec_of
from calculated.models import CalculatedField, Job
from devices.models import Asset, Device
from devices.telemetry import history_many
from tbproject.clock import now_ms

__all__ = ["run", "targets", "MAX_POINTS"]

log = logging.getLogger(__name__)

#: values of one argument of one entity read for a reprocessing, newest first
MAX_POINTS = 10_000
#: computations sent to the script engine at once
SCRIPT_BATCH = 500


def targets(field: CalculatedField) -> dict:
    """{entity_id: (entity_type, name)} the field is computed for."""
    if field.entity_type in (FieldEntityType.DEVICE, FieldEntityType.ASSET):
        model = Device if field.entity_type == FieldEntityType.DEVICE else Asset
        rows = model.objects.filter(tenant_id=field.tenant_id, pk=field.entity_id)
        kind = field.entity_type
    else:
        model = Device if field.entity_type == FieldEntityType.DEVICE_PROFILE else Asset
        rows = model.objects.filter(tenant_id=field.tenant_id, profile_id=field.entity_id)[
            :compute.MAX_PROFILE_ENTITIES]
        kind = "DEVICE" if model is Device else "ASSET"
    return {pk: (kind, name) for pk, name in rows.values_list("pk", "name")}


def _indexed(row: CalculatedField) -> index.Field:
    return index.Field(row.pk, row.tenant_id, row.name, row.entity_type, row.entity_id, row.version, spec_of(row),
                       row.debug_failures_enabled, row.debug_all_enabled_until)


def _timeline(field, entity_id, start: int, end: int) -> list[tuple[int, dict]]:
    """[(ts, {name: ArgValue})] of one entity: a computation per stored telemetry timestamp in the window."""
    arguments = list(field.spec.arguments.values())
    source = {a.name: a.ref_entity_id or entity_id for a in arguments}
    telemetry = [a for a in arguments if a.kind != ArgumentType.ATTRIBUTE]
    if not telemetry:
        return []
    widest = max((a.time_window or 0) for a in telemetry)
    found = history_many({source[a.name] for a in telemetry}, {a.key for a in telemetry}, start - widest, end,
                         limit=MAX_POINTS)
    before = history_many({source[a.name] for a in telemetry if a.kind == ArgumentType.TS_LATEST},
                          {a.key for a in telemetry if a.kind == ArgumentType.TS_LATEST}, 0, start - widest, limit=1)
    series = {}
    for a in telemetry:
        pair = (_uuid(source[a.name]), a.key)
        series[a.name] = sorted(found.get(pair, []) + (before.get(pair, []) if a.kind == ArgumentType.TS_LATEST
                                                       else []))
    stamps = sorted({ts for points in series.values() for ts, _ in points if start <= ts < end})
    current = args_mod.load(field, [entity_id], end).get(entity_id, {})  # attributes: their values now
    timeline = []
    for ts in stamps:
        values = {}
        for a in arguments:
            if a.kind == ArgumentType.ATTRIBUTE:
                if a.name in current:
                    values[a.name] = current[a.name]
                continue
            points = series[a.name]
            if a.kind == ArgumentType.TS_ROLLING:
                window = [p for p in points if ts - a.time_window <= p[0] <= ts][-a.limit:]
                values[a.name] = args_mod.ArgValue(window[-1][0] if window else None, None, tuple(window),
                                                   ts - a.time_window, ts, telemetry=True)
                continue
            last = next((p for p in reversed(points) if p[0] <= ts), None)
            if last is not None:
                values[a.name] = args_mod.ArgValue(last[0], last[1], telemetry=True)
            elif a.default is not None:
                values[a.name] = args_mod.ArgValue(None, args_mod.default_of(a))
        if len(values) == len(arguments):
            timeline.append((ts, values))
    return timeline


def _uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _results(field, timeline) -> list[tuple[object, str | None]]:
    if field.spec.kind == FieldKind.SIMPLE:
        return [compute.simple_result(field.spec, values) for _, values in timeline]
    names = list(field.spec.arguments)
    answers = []
    for i in range(0, len(timeline), SCRIPT_BATCH):
        calls = [compute.script_calls(field.spec, values) for _, values in timeline[i:i + SCRIPT_BATCH]]
        answers += scripts.run(f"cf:{field.id}", field.version, names, field.spec.expression, calls)
    return answers


def reprocess_entity(field, entity_id, entity_type: str, start: int, end: int, recorder) -> tuple[int, str | None]:
    """Compute the field for one entity over the window; (computations, first error or None)."""
    timeline = _timeline(field, entity_id, start, end)
    writes = outputs.Writes(field.tenant_id)
    first_error = None
    for (ts, values), (result, error) in zip(timeline, _results(field, timeline), strict=True):
        if error is None:
            try:
                result = writes.add(field.spec, entity_id, result, values, ts)
            except outputs.OutputError as e:
                error = str(e)
        first_error = first_error or error
        recorder.add(field, entity_id, entity_type, compute._shown_arguments(values), result, error)
    writes.flush()
    return len(timeline), first_error


def _task(entity_id, name: str, entity_type: str, error: str | None) -> dict:
    return {"key": str(entity_id), "success": error is None, "discarded": False, "finishTs": now_ms(),
            "error": error, "jobType": "CF_REPROCESSING",
            "failure": None if error is None else {
                "error": error, "entityInfo": {"id": {"entityType": entity_type, "id": str(entity_id)}, "name": name}}}


def run(job: Job, only=None) -> None:
    """Run a queued job (``only``: the entity ids to do again, for /api/job/{id}/reprocess)."""
    claimed = Job.objects.filter(pk=job.pk, status__in=(JobStatus.QUEUED, JobStatus.PENDING)).update(
        status=JobStatus.RUNNING)
    if claimed != 1:
        return  # cancelled, or another worker has it
    config = job.configuration
    row = CalculatedField.objects.filter(tenant_id=job.tenant_id, pk=job.entity_id).first()
    result = {**job.result, "jobType": "CF_REPROCESSING", "startTs": now_ms(), "finishTs": None,
              "generalError": None}
    if row is None:
        _finish(job, JobStatus.FAILED, {**result, "generalError": "The calculated field was deleted"})
        return
    field = _indexed(row)
    todo = targets(row)
    if only is not None:
        todo = {pk: v for pk, v in todo.items() if str(pk) in only}
    again = only is not None  # the failed entities of a finished run: its successes stay counted
    counts = {"successfulCount": (result.get("successfulCount") or 0) if again else 0, "failedCount": 0,
              "discardedCount": 0, "totalCount": (result.get("totalCount") or len(todo)) if again else len(todo)}
    results = []
    with debug.Recorder() as recorder:
        for entity_id, (entity_type, name) in todo.items():
            if Job.objects.filter(pk=job.pk, status=JobStatus.CANCELLED).exists():
                return  # cancel() wrote the result's cancellationTs
            try:
                _, error = reprocess_entity(field, entity_id, entity_type, config["startTs"], config["endTs"],
                                            recorder)
            except Exception as e:  # one entity's failure must not stop the others
                log.exception("reprocessing %s for %s failed", field.id, entity_id)
                error = f"{type(e).__name__}: {e}"
            if error is None:
                counts["successfulCount"] += 1
            else:
                counts["failedCount"] += 1
                results.append(_task(entity_id, name, entity_type, error))
            recorder.flush()
    status = JobStatus.FAILED if counts["failedCount"] else JobStatus.COMPLETED
    _finish(job, status, {**result, **counts, "results": results})


def _finish(job: Job, status: str, result: dict) -> None:
    result["finishTs"] = now_ms()
    Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(status=status, result=result)
