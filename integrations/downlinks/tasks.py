"""Celery tasks of the downlink path: thin wrappers around encoder.py and delivery.py.

Encoding is one task for many downlinks: :func:`schedule` sends ``encode_downlinks`` only when
none is already scheduled (a short-lived cache flag), and the task works through every QUEUED
downlink in batches before it clears the flag and looks once more, so that a downlink stored
meanwhile is never left behind (the periodic sweep is the last resort).
"""

import logging

from celery import shared_task
from django.core.cache import cache
from django.db import InterfaceError, OperationalError

from converters.engine import EngineError
from integrations.downlinks import delivery, encoder
from tbproject import backoff

__all__ = ["encode_downlinks", "sweep_downlinks", "schedule", "SCHEDULED_KEY"]

log = logging.getLogger(__name__)

SCHEDULED_KEY = "downlinks:encode-scheduled"
#: Seconds the "a task is scheduled" flag lives at most (a lost task is replaced after this).
SCHEDULED_TTL = 30
RETRYABLE = (OperationalError, InterfaceError, EngineError)


def schedule() -> None:
    """Have the QUEUED downlinks encoded: inline when tasks run eagerly, else one task at a time."""
    if encode_downlinks.app.conf.task_always_eager:
        encode_downlinks.apply()
        return
    try:
        if not cache.add(SCHEDULED_KEY, 1, timeout=SCHEDULED_TTL):
            return
    except Exception as exc:  # the cache is down: send a task anyway, an extra one costs little
        log.warning("downlink scheduling flag unavailable: %s", exc)
    encode_downlinks.apply_async()


def _clear_flag() -> None:
    try:
        cache.delete(SCHEDULED_KEY)
    except Exception as exc:
        log.warning("downlink scheduling flag unavailable: %s", exc)


@shared_task(name="integrations.downlinks.tasks.encode_downlinks", bind=True, ignore_result=True,
             max_retries=None, default_retry_delay=5)
def encode_downlinks(self) -> int:
    """Encode every QUEUED downlink, in batches; retried (back-off) only when the machinery fails."""
    return _encode(self)


def _encode(task) -> int:
    try:
        done = encoder.run_queued()
        _clear_flag()
        return done + encoder.run_queued()  # stored between the last batch and clearing the flag
    except RETRYABLE as exc:
        _clear_flag()
        if task.request.is_eager:
            log.warning("encoding downlinks failed; the periodic sweep retries: %s", exc)
            return 0
        raise task.retry(exc=exc, countdown=backoff.countdown(task.request.retries, 300)) from exc


@shared_task(name="integrations.downlinks.tasks.sweep_downlinks", ignore_result=True)
def sweep_downlinks() -> dict:
    """Periodic: requeue downlinks whose worker or host died, encode what waits, prune old ones."""
    counts = delivery.sweep()
    if counts.get("queued"):
        schedule()
    from integrations import api_downlinks

    if api_downlinks.due():  # retries of push types that send through their cloud's API
        api_downlinks.schedule()
    return counts


# The names these tasks had in converters/downlink/ before issue 16 moved them here, still
# registered: messages an older deployment queued, and its beat rows, name them.
@shared_task(name="converters.downlink.tasks.encode_downlinks", bind=True, ignore_result=True,
             max_retries=None, default_retry_delay=5)
def legacy_encode_downlinks(self) -> int:
    return _encode(self)


@shared_task(name="converters.downlink.tasks.sweep_downlinks", ignore_result=True)
def legacy_sweep_downlinks() -> dict:
    return sweep_downlinks()

