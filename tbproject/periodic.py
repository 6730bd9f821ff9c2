"""Periodic maintenance jobs: one table, run by Celery beat in production and in-process when embedded.

Each entry names a Celery task by dotted path (its registered name must equal that path, so
beat can send it) and how often it runs. Production: ``beat_schedule()`` feeds Celery beat.
Embedded mode (no REDIS_URL): ``serve`` starts a :class:`PeriodicRunner`, a daemon thread that
calls each job directly. A job whose module is not there yet is skipped with one warning, and
a job that raises is logged and tried again at its next interval.
"""

import logging
import threading
import time
from dataclasses import dataclass

from django.db import close_old_connections
from django.utils.module_loading import import_string

__all__ = ["PeriodicJob", "JOBS", "beat_schedule", "PeriodicRunner"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    path: str  # dotted path of a Celery task (or plain callable, embedded mode only)
    every: float  # seconds between runs
    expires: int | None = None  # seconds after which beat's message is dropped unrun (django-celery-beat's
    # ``expire_seconds``: its DatabaseScheduler sends it as Celery's ``expires``)


JOBS: tuple[PeriodicJob, ...] = (
    PeriodicJob("devices.tasks.telemetry_retention", 3600),
    PeriodicJob("converters.tasks.prune_debug_events", 3600),
    PeriodicJob("converters.tasks.prune_converter_health", 3600),
    PeriodicJob("converters.tasks.refresh_converters_library", 3600),
    PeriodicJob("integrations.tasks.persist_stats", 300),
    PeriodicJob("integrations.tasks.prune_dead_letters", 3600),
    PeriodicJob("audit.tasks.prune_audit_logs", 3600),
    PeriodicJob("integrations.tasks.prune_dedup_keys", 600),
    PeriodicJob("integrations.tasks.check_credential_expiry", 6 * 3600),
    PeriodicJob("integrations.downlinks.tasks.sweep_downlinks", 60),
    PeriodicJob("rulechains.tasks.run_generators", 1),  # generator nodes: periodInSeconds >= 1
    PeriodicJob("scheduler.tasks.fire_due_events", 1),  # scheduler events due (TIMER repeats by the second)
    PeriodicJob("notifications.tasks.send_scheduled", 5),  # delayed notification requests, alarm escalations
    PeriodicJob("notifications.tasks.remove_expired", 86400),  # notifications past their TTL (30 days)
    PeriodicJob("notifications.tasks.check_api_usage", 300),  # API_USAGE_LIMIT notifications
    PeriodicJob("notifications.tasks.check_resources", 60, expires=60),  # RESOURCES_SHORTAGE notifications
    PeriodicJob("calculated.tasks.prune_events", 3600),  # calculated fields' debug events past their TTL
    PeriodicJob("rulechains.tasks.sweep_rpcs", 300),  # expired RPC calls, persistent ones past rpcTtlDays
    PeriodicJob("tenants.tasks.resume_tenant_deletions", 300),  # tenant deletions whose worker stopped
    PeriodicJob("reports.tasks.sweep_stuck_jobs", 300),  # report jobs RUNNING past a render's time -> FAILED
    PeriodicJob("reports.tasks.remove_expired_jobs", 3600),  # finished report jobs past REPORTS_JOBS_TTL_DAYS
    PeriodicJob("edges.tasks.prune_events", 3600),  # edge events past EDGE_EVENTS_TTL_DAYS
)


def beat_schedule(jobs=JOBS) -> dict:
    """The CELERY beat_schedule for ``jobs``; django-celery-beat copies it into its tables."""
    return {job.path: {"task": job.path, "schedule": float(job.every),
                       **({"options": {"expire_seconds": int(job.expires)}} if job.expires else {})} for job in jobs}


class PeriodicRunner:
    """Calls due jobs from one daemon thread; ``run_due()`` is the unit that tests drive."""

    def __init__(self, jobs=JOBS, *, first_delay: float = 30.0, clock=time.monotonic):
        self.jobs = tuple(jobs)
        self.clock = clock
        start = clock()
        self.next_run = {job.path: start + min(first_delay, job.every) for job in self.jobs}
        self._missing: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def run_due(self) -> list[str]:
        """Run every job whose time has come; returns the paths that ran without raising."""
        done = []
        for job in self.jobs:
            now = self.clock()
            if now < self.next_run[job.path]:
                continue
            self.next_run[job.path] = now + job.every
            if self._run(job):
                done.append(job.path)
        return done

    def _run(self, job: PeriodicJob) -> bool:
        try:
            func = import_string(job.path)
        except ImportError:
            if job.path not in self._missing:
                self._missing.add(job.path)
                log.warning("periodic job %s is not available; skipping it", job.path)
            return False
        try:
            result = func()
        except Exception:
            log.exception("periodic job %s failed", job.path)
            return False
        log.info("periodic job %s done: %s", job.path, result)
        return True

    def start(self) -> threading.Thread:
        self._thread = threading.Thread(target=self._loop, name="periodic-jobs", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self) -> None:
        while not self._stop.is_set():
            # This thread has its own connections: drop broken or expired ones, as requests do.
            close_old_connections()
            try:
                self.run_due()
            finally:
                close_old_connections()
            wait = min(self.next_run.values(), default=self.clock() + 60) - self.clock()
            self._stop.wait(max(1.0, min(wait, 60.0)))
