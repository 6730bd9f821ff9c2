"""Celery tasks of the integrations app: thin wrappers around pipeline.py, stats.py and dead_letters.py."""

import logging
import time

import psycopg
from celery import shared_task
from django.conf import settings
from django.db import InterfaceError, OperationalError, close_old_connections, connection

from converters.engine import EngineError
from integrations import dead_letters, dedup, expiry, overlap, pipeline, queue, stats
from integrations.coalesce import CoalescingTask

# The downlink tasks live beside their code; imported here so that every worker registers them
# (under their old converters.downlink names too).
from integrations.downlinks import tasks as downlink_tasks  # noqa: F401
from tbproject import backoff

__all__ = ["process_uplinks", "persist_stats", "prune_dead_letters", "deliver_api_downlinks"]

log = logging.getLogger(__name__)

#: Failures of the machinery, not of a message: the batch is retried (every write is idempotent).
#: psycopg's own errors too: the telemetry writer's latest-value thread uses a psycopg connection
#: of its own (devices/telemetry/parallel.py), whose errors Django does not wrap.
RETRYABLE = (OperationalError, InterfaceError, EngineError, psycopg.OperationalError, psycopg.InterfaceError)


@shared_task(name="integrations.tasks.process_uplinks", base=CoalescingTask, ignore_result=True,
             acks_late=True, reject_on_worker_lost=True)
def process_uplinks(requests) -> None:
    """Run queued batches of uplinks (queue.encode's JSON) through the pipeline.

    A worker hands this task every batch message waiting for it at once (integrations/coalesce.py),
    and it runs them in pipeline batches of up to PIPELINE_BATCH_SIZE uplinks (or 4 MB of payload).
    The messages are acknowledged after it returns (acks_late), and put back in the queue if the worker dies
    mid-batch, so a killed worker loses nothing. Only machinery failures (database unreachable or
    deadlocked, converter workers that cannot start) are retried: what was not processed is queued
    again, backing off 5 s, 10 s, ... up to every 10 minutes (at most half BROKER_VISIBILITY_TIMEOUT:
    tbproject/backoff.py), without limit: giving up would lose
    accepted uplinks, and a failure of one message never gets here (it becomes a dead letter).
    Any other error (a bug) makes the batch's uplinks dead letters (stage ``pipeline``), to be
    replayed once it is fixed: the task returns normally, its messages are acknowledged, and an
    error that escaped would drop them.
    Eagerly (embedded mode) the error propagates instead, to the transport that accepted the
    batch, which then answers "not accepted" (HTTP 503, no MQTT acknowledgement)."""
    batches = [request.args[0] for request in requests]
    uplinks = [uplink for batch in batches for uplink in queue.decode(batch)]
    eager = any(request.delivery_info.get("is_eager") for request in requests)
    chunks = _chunks(uplinks)
    if not eager and len(chunks) > 1 and overlap.available():
        _overlapped(uplinks, chunks, batches)
        return
    for start, end in chunks:
        try:
            _process(uplinks[start:end], eager=eager)
        except RETRYABLE as exc:
            if eager:
                raise
            _requeue(uplinks, start, batches, exc)
            return


def _overlapped(uplinks, chunks, batches) -> None:
    """The pipeline batches with the next one begun (converted) in a helper thread while this one
    is stored (integrations/overlap.py). Failure semantics as the serial loop's: a RETRYABLE error
    queues again the batch it hit and every later one (the one begun ahead has its claims
    released), any other keeps the batch's uplinks as dead letters and goes on."""
    ahead = overlap.begin(uplinks[slice(*chunks[0])], first=True)
    try:
        for index, (start, end) in enumerate(chunks):
            part = uplinks[start:end]
            try:
                begun = _begun(ahead, part)
                ahead = overlap.begin(uplinks[slice(*chunks[index + 1])]) if index + 1 < len(chunks) else None
                if begun is not None:
                    _complete(begun, part)
            except RETRYABLE as exc:  # (from the pipeline, or from keeping dead letters)
                overlap.abandon(ahead)
                ahead = None
                _requeue(uplinks, start, batches, exc)
                return
    finally:
        overlap.abandon(ahead)  # (an error that escapes: the task's messages are delivered again)


def _begun(ahead, part):
    """The begun batch, or None when an unexpected error made its uplinks dead letters."""
    try:
        return ahead.result()
    except RETRYABLE:
        raise
    except Exception as exc:
        _keep(part, exc)
        return None


def _complete(begun, part) -> None:
    try:
        outcomes = pipeline.complete(begun)
    except RETRYABLE:
        raise
    except Exception as exc:
        _keep(part, exc)
        return
    _requeue_deferred(part, outcomes)


def _requeue(uplinks, start: int, batches, exc: Exception) -> None:
    """Queue ``uplinks[start:]`` again after a RETRYABLE error, backing off."""
    if not connection.in_atomic_block:  # (a test's transaction)
        close_old_connections()  # a connection the error broke: the next batch gets a new one
    retries = max(queue.retries_of(batch) for batch in batches)
    countdown = backoff.countdown(retries, 600)
    log.warning("uplink pipeline failed (%s): %d uplinks queued again in %d s", exc, len(uplinks) - start, countdown)
    queue.requeue(uplinks[start:], retries=retries + 1, countdown=countdown)


def _keep(uplinks, exc: Exception) -> None:
    """A batch an unexpected error (a bug) stopped: its uplinks become dead letters (stage pipeline)."""
    log.error("uplink pipeline failed: %d uplinks kept as dead letters", len(uplinks), exc_info=exc)
    dead_letters.keep(uplinks, f"{type(exc).__name__}: {exc}")


def _requeue_deferred(uplinks, outcomes) -> None:
    """Queue the uplinks the converter rate limit deferred again, after the longest wait."""
    deferred = [(u, o.retry_ms) for u, o in zip(uplinks, outcomes, strict=True) if o.status == pipeline.DEFERRED]
    if deferred:
        queue.requeue([u for u, _ in deferred], retries=0, countdown=max(ms for _, ms in deferred) / 1000)


#: Payload bytes after which a pipeline batch closes before PIPELINE_BATCH_SIZE uplinks: 2,000
#: POSTs of 100 readings each would be 200,000 entity updates held at once.
PIPELINE_BATCH_BYTES = 4 * 1024 * 1024


def _chunks(uplinks) -> list[tuple[int, int]]:
    """(start, end) of the pipeline batches: PIPELINE_BATCH_SIZE uplinks, or fewer whose
    payloads reach PIPELINE_BATCH_BYTES (at least one uplink each)."""
    size, chunks, start, held = settings.PIPELINE_BATCH_SIZE, [], 0, 0
    for index, uplink in enumerate(uplinks):
        held += len(uplink.payload)
        if index + 1 - start >= size or held >= PIPELINE_BATCH_BYTES:
            chunks.append((start, index + 1))
            start, held = index + 1, 0
    if start < len(uplinks):
        chunks.append((start, len(uplinks)))
    return chunks


def _process(uplinks, *, eager: bool) -> None:
    """Run a batch; what the converter rate limit deferred runs later: queued again with a
    countdown, or (eagerly, embedded mode) after a wait in this thread, which holds the
    transport's answer back as a listener's pause does. RETRYABLE errors propagate, any other
    keeps the uplinks as dead letters."""
    while uplinks:
        try:
            outcomes = pipeline.process(uplinks)
        except RETRYABLE:
            raise
        except Exception as exc:
            if eager:
                raise
            _keep(uplinks, exc)
            return
        if not eager:
            _requeue_deferred(uplinks, outcomes)
            return
        deferred = [(u, o.retry_ms) for u, o in zip(uplinks, outcomes, strict=True) if o.status == pipeline.DEFERRED]
        if not deferred:
            return
        uplinks = [u for u, _ in deferred]
        time.sleep(min(max(ms for _, ms in deferred) / 1000, 5.0))


@shared_task(name="integrations.tasks.persist_stats", ignore_result=True)
def persist_stats() -> int:
    """Periodic: write STATS events for the finished hours of every integration."""
    return stats.persist()


@shared_task(name="integrations.tasks.prune_dead_letters", ignore_result=True)
def prune_dead_letters() -> int:
    """Periodic: delete dead letters older than DEAD_LETTERS_TTL_DAYS."""
    return dead_letters.prune()


@shared_task(name="integrations.tasks.deliver_api_downlinks", bind=True, ignore_result=True,
             max_retries=None, default_retry_delay=5)
def deliver_api_downlinks(self) -> int:
    """Send due downlinks of API-downlink push types (integrations/api_downlinks.py); then, outside
    eager mode, one more task for the first waiting retry (the periodic sweep is the fallback)."""
    from integrations import api_downlinks

    try:
        done = api_downlinks.run_due()
        api_downlinks.clear_flag()
        done += api_downlinks.run_due()  # stored between the last batch and clearing the flag
    except (OperationalError, InterfaceError) as exc:
        api_downlinks.clear_flag()
        if self.request.is_eager:
            raise
        raise self.retry(exc=exc, countdown=backoff.countdown(self.request.retries, 300)) from exc
    if not self.request.is_eager:
        api_downlinks.schedule_retry()
    return done


@shared_task(name="integrations.tasks.prune_dedup_keys", ignore_result=True)
def prune_dedup_keys() -> int:
    """Periodic: delete deduplication keys past their window (database mode; Redis expires its own)."""
    return dedup.prune()


@shared_task(name="integrations.tasks.check_credential_expiry", ignore_result=True)
def check_credential_expiry() -> int:
    """Periodic: warn (LC_EVENT) about credentials 30 and 7 days before they expire, and once expired."""
    return expiry.check_all()
