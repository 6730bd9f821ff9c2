"""Celery tasks of the rule engine: thin wrappers around engine.py."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from integrations.coalesce import CoalescingTask
from rulechains import engine, messages
from tbproject import backoff

__all__ = ["process_messages", "requeue", "resume_delayed_task", "run_generators", "sweep_rpcs"]

log = logging.getLogger(__name__)

#: Most messages the engine runs at once: the waiting task messages are coalesced, and a batch
#: this size is done (its downlinks sent on their way) before the next one starts.
ENGINE_BATCH = 1000
#: Times a batch is queued again when the chains cannot be loaded (about three hours in all).
MAX_RETRIES = 20


@shared_task(name="rulechains.tasks.process_messages", base=CoalescingTask, ignore_result=True,
             acks_late=True, reject_on_worker_lost=True)
def process_messages(requests) -> None:
    """Run queued batches of rule-engine messages (messages.encode's JSON) through the root chains.

    Each task message is ``(payload)`` or ``(payload, retries)``. A worker hands this task every
    message waiting for it at once (integrations/coalesce.py), and the engine runs them in batches
    of up to ENGINE_BATCH: one API request makes one message, and a stream of them becomes a
    batch per node instead of a task each. The task messages are acknowledged after the batch ran (acks_late).

    Only a database failure while loading the chains (before any node ran) queues the batch again,
    backing off to every 10 minutes: once nodes ran, a retry would repeat their effects
    (downlinks, REST calls), so failures inside nodes are Failure relations, never retries.
    Eagerly (embedded mode) that failure propagates to the caller instead."""
    batch, raw, retries = [], [], 0
    for request in requests:
        payload = request.args[0]
        try:
            batch.extend([messages.decode(item) for item in payload])
        except (KeyError, TypeError, ValueError):
            log.exception("rule engine: unreadable batch of %d messages dropped", len(payload))
            continue
        raw.extend(payload)
        retries = max(retries, int(request.args[1]) if len(request.args) > 1 else 0)
    for start in range(0, len(batch), ENGINE_BATCH):
        try:
            engine.process(batch[start:start + ENGINE_BATCH])
        except (OperationalError, InterfaceError) as exc:
            if any(request.delivery_info.get("is_eager") for request in requests):
                raise
            left = len(batch) - start
            if retries >= MAX_RETRIES:
                log.error("rule engine: %d messages dropped, the chains could not be loaded %d times: %s",
                          left, retries + 1, exc)
                return
            countdown = backoff.countdown(retries, 600)
            log.warning("rule engine: loading the chains failed (%s): %d messages queued again in %d s",
                        exc, left, countdown)
            requeue(raw[start:], retries=retries + 1, countdown=countdown)
            return


def requeue(payload: list[dict], *, retries: int, countdown: float) -> None:
    process_messages.apply_async(args=[payload, retries], countdown=countdown)


@shared_task(name="rulechains.tasks.resume_delayed_task", ignore_result=True)
def resume_delayed_task(payload: dict) -> None:
    """A delay node's message, after its countdown: on by Success (rulechains/nodes/timers.py)."""
    from rulechains.nodes import timers

    timers.resume_delayed(payload)


@shared_task(name="rulechains.tasks.run_generators", ignore_result=True)
def run_generators() -> int:
    """Periodic: the generator nodes that are due make their next message."""
    from rulechains.nodes import timers
    from tbproject.clock import now_ms

    return timers.run_generators(now_ms())


@shared_task(name="rulechains.tasks.sweep_rpcs", ignore_result=True)
def sweep_rpcs() -> dict:
    """Periodic: expired RPC calls, and persistent ones past the tenant profile's rpcTtlDays."""
    from rulechains import rpc_calls

    return rpc_calls.sweep()
