"""Celery tasks of the rule engine: thin wrappers around engine.py."""

import logging

from celery import shared_task
from django.db import InterfaceError, OperationalError

from rulechains import engine, messages
from tbproject import backoff

__all__ = ["process_messages"]

log = logging.getLogger(__name__)


@shared_task(name="rulechains.tasks.process_messages", bind=True, ignore_result=True, max_retries=20,
             default_retry_delay=5)
def process_messages(self, payload: list[dict]) -> None:
    """Run one batch of queued rule-engine messages (messages.encode's JSON) through the root chains.

    Only a database failure while loading the chains (before any node ran) retries the batch,
    backing off to every 10 minutes: once nodes ran, a retry would repeat their effects
    (downlinks, REST calls), so failures inside nodes are Failure relations, never retries."""
    try:
        batch = [messages.decode(item) for item in payload]
    except (KeyError, TypeError, ValueError):
        log.exception("rule engine: unreadable batch of %d messages dropped", len(payload))
        return
    try:
        engine.process(batch)
    except (OperationalError, InterfaceError) as exc:
        if self.request.is_eager:
            raise
        raise self.retry(exc=exc, countdown=backoff.countdown(self.request.retries, 600)) from exc
