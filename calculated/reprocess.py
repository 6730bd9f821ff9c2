"""Reprocessing: a calculated field computed again over a window of stored history (ThingsBoard 4.1).

    run(job)   # job.configuration: {calculatedFieldId, startTs, endTs}; updates job.status and job.result

For every entity the field applies to (its device or asset, or every entity of its profile), each
timestamp in [startTs, endTs) at which one of its telemetry arguments has a stored value is a
computation, as if that value had just arrived: a latest-telemetry argument is its newest value at
or before that time (else its defaultValue), a rolling argument the values of its window ending at
that time, an attribute its current value (attributes keep no history). Each result is saved at
that timestamp (attributes: the last one wins), through devices/ like any other write. An entity
is one task of the job: it fails when a computation fails (the first error is kept). The history is
read in time order, READ_CHUNK values at a time, and the computations made and saved SCRIPT_BATCH at
a time: memory stays bounded whatever the window holds, and a cancelled (or deleted) job stops after
the batch under way. Our rule where ThingsBoard does not say: a run inside a request (embedded mode's
eager task, reprocessAndWait) stops after request_budget() seconds, the job FAILED with a generalError.
"""

import logging
import time
import uuid
from collections import deque
from itertools import islice

from django.conf import settings

from calculated import arguments as args_mod
from calculated import compute, debug, index, outputs, scripts
from calculated.choices import ArgumentType, FieldEntityType, FieldKind, JobStatus
from calculated.config import spec_of
from calculated.models import CalculatedField, Job
from devices.models import Asset, Device
from devices.telemetry import history, history_many
from tbproject.clock import now_ms

__all__ = ["run", "targets", "request_budget", "READ_CHUNK", "SCRIPT_BATCH"]

log = logging.getLogger(__name__)

#: values of one key read at a time, oldest first (keyset paging on ts: the whole window is read)
READ_CHUNK = 2_000
#: computations made, saved and sent to the script engine at once; cancellation is checked between them
SCRIPT_BATCH = 500
#: seconds a reprocessing run inside a request may take (embedded mode's eager task, reprocessAndWait)
DEFAULT_REQUEST_BUDGET_S = 60.0
CANCELLED = "cancelled"


def request_budget() -> float:
    """Setting CALCULATED_REPROCESS_REQUEST_BUDGET_S (seconds; 0: no limit)."""
    return float(getattr(settings, "CALCULATED_REPROCESS_REQUEST_BUDGET_S", DEFAULT_REQUEST_BUDGET_S))


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


def _read(entity_id, key: str, start: int, end: int):
    """(ts, value) of one key of one entity with start <= ts < end, oldest first, READ_CHUNK at a time."""
    while start < end:
        points = history(entity_id, [key], start, end, limit=READ_CHUNK, order="ASC").get(key, [])
        yield from points
        if len(points) < READ_CHUNK:
            return
        start = points[-1][0] + 1


class _Series:
    """One telemetry argument's points, oldest first; ``seen``: the ones consumed that still count
    (a latest argument keeps its newest, a rolling one at most its ``limit``)."""

    def __init__(self, points, seen: deque):
        self._points = points
        self._next = next(points, None)
        self.seen = seen

    def upcoming(self) -> int | None:
        return None if self._next is None else self._next[0]

    def take_until(self, ts: int) -> None:
        while self._next is not None and self._next[0] <= ts:
            self.seen.append(self._next)
            self._next = next(self._points, None)


def _computations(field, entity_id, start: int, end: int):
    """Yield (ts, {name: ArgValue}) of one entity, oldest first: a computation per stored telemetry
    timestamp in [start, end). History is read in chunks as the computations go (two pointers)."""
    arguments = list(field.spec.arguments.values())
    source = {a.name: a.ref_entity_id or entity_id for a in arguments}
    telemetry = [a for a in arguments if a.kind != ArgumentType.ATTRIBUTE]
    if not telemetry:
        return
    latest = [a for a in telemetry if a.kind == ArgumentType.TS_LATEST]
    before = history_many({source[a.name] for a in latest}, {a.key for a in latest}, 0, start, limit=1)
    series = {}
    for a in telemetry:
        if a.kind == ArgumentType.TS_ROLLING:
            series[a.name] = _Series(_read(source[a.name], a.key, start - a.time_window, end), deque(maxlen=a.limit))
            series[a.name].take_until(start - 1)  # the windows' points before the first computation
        else:
            series[a.name] = _Series(_read(source[a.name], a.key, start, end),
                                     deque(before.get((_uuid(source[a.name]), a.key), []), maxlen=1))
    current = args_mod.load(field, [entity_id], end).get(entity_id, {})  # attributes: their values now
    while True:
        upcoming = [ts for ts in (s.upcoming() for s in series.values()) if ts is not None]
        if not upcoming:
            return
        ts = min(upcoming)
        values = {}
        for a in arguments:
            if a.kind == ArgumentType.ATTRIBUTE:
                if a.name in current:
                    values[a.name] = current[a.name]
                continue
            seen = series[a.name].seen
            series[a.name].take_until(ts)
            if a.kind == ArgumentType.TS_ROLLING:
                while seen and seen[0][0] < ts - a.time_window:
                    seen.popleft()
                values[a.name] = args_mod.ArgValue(seen[-1][0] if seen else None, None, tuple(seen),
                                                   ts - a.time_window, ts, telemetry=True)
            elif seen:
                values[a.name] = args_mod.ArgValue(seen[-1][0], seen[-1][1], telemetry=True)
            elif a.default is not None:
                values[a.name] = args_mod.ArgValue(None, args_mod.default_of(a))
        if len(values) == len(arguments):
            yield ts, values


def _uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))


def _results(field, batch) -> list[tuple[object, str | None]]:
    if field.spec.kind == FieldKind.SIMPLE:
        return [compute.simple_result(field.spec, values) for _, values in batch]
    calls = [compute.script_calls(field.spec, values) for _, values in batch]
    return scripts.run(f"cf:{field.id}", field.version, list(field.spec.arguments), field.spec.expression, calls)


def reprocess_entity(field, entity_id, entity_type: str, start: int, end: int, recorder,
                     stop=lambda: None) -> tuple[int, str | None, str | None]:
    """Compute the field for one entity over the window, SCRIPT_BATCH computations at a time, each batch
    saved before the next is made; (computations, first error or None, why it stopped early or None).
    ``stop()`` is asked after every batch: a reason ends the entity there."""
    computations = _computations(field, entity_id, start, end)
    writes = outputs.Writes(field.tenant_id, keep_newer=True)
    first_error, count = None, 0
    while batch := list(islice(computations, SCRIPT_BATCH)):
        for (ts, values), (result, error) in zip(batch, _results(field, batch), strict=True):
            if error is None:
                try:
                    result = writes.add(field.spec, entity_id, result, values, ts)
                except outputs.OutputError as e:
                    error = str(e)
            first_error = first_error or error
            recorder.add(field, entity_id, entity_type, compute._shown_arguments(values), result, error)
        writes.flush()
        recorder.flush()
        count += len(batch)
        if (reason := stop()) is not None:
            return count, first_error, reason
    return count, first_error, None


def _task(entity_id, name: str, entity_type: str, error: str | None) -> dict:
    return {"key": str(entity_id), "success": error is None, "discarded": False, "finishTs": now_ms(),
            "error": error, "jobType": "CF_REPROCESSING",
            "failure": None if error is None else {
                "error": error, "entityInfo": {"id": {"entityType": entity_type, "id": str(entity_id)}, "name": name}}}


def run(job: Job, only=None, *, budget_s: float = 0) -> None:
    """Run a queued job (``only``: the entity ids to do again, for /api/job/{id}/reprocess). ``budget_s``
    (a run inside a request): past it the job stops, FAILED with a generalError saying so."""
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
    deadline, reason = (time.monotonic() + budget_s if budget_s else None), None

    def stop() -> str | None:
        if deadline is not None and time.monotonic() > deadline:
            return (f"Stopped after {budget_s:g} s: a reprocessing run inside a request (embedded mode or "
                    "reprocessAndWait) has this time budget; run it with a worker (REDIS_URL)")
        if not Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).exists():
            return CANCELLED  # cancelled (cancel() wrote the result's cancellationTs), or deleted
        return None

    with debug.Recorder() as recorder:
        for entity_id, (entity_type, name) in todo.items():
            if (reason := stop()) is not None:
                break
            try:
                _, error, reason = reprocess_entity(field, entity_id, entity_type, config["startTs"], config["endTs"],
                                                    recorder, stop)
            except Exception as e:  # one entity's failure must not stop the others
                log.exception("reprocessing %s for %s failed", field.id, entity_id)
                error = f"{type(e).__name__}: {e}"
            if error is None and reason is None:
                counts["successfulCount"] += 1
            elif error is not None or reason != CANCELLED:
                counts["failedCount"] += 1
                results.append(_task(entity_id, name, entity_type, error or reason))
            if reason is not None:
                break
    if reason == CANCELLED:
        return
    status = JobStatus.FAILED if counts["failedCount"] or reason else JobStatus.COMPLETED
    _finish(job, status, {**result, **counts, "results": results, "generalError": reason})


def _finish(job: Job, status: str, result: dict) -> None:
    result["finishTs"] = now_ms()
    Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(status=status, result=result)
