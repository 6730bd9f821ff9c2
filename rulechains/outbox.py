"""Rule-engine messages made by API requests, queued together: one task for many requests.

    queue(payload)   # from any thread; returns once the messages are in the broker (one task per batch)

An attribute save or an RPC through the API makes one rule-engine message. A task per message
(one kombu publish in the request's thread, each new thread building Celery's result backend
anew) cost a fifth of the web process per request. Here the callers of a process hand their
messages to one sender thread, which publishes whatever waits as ONE ``process_messages`` task
(group commit: no timer; under load a batch is what arrived while the previous one was being
published; when idle, a message goes at once). Each caller waits until its batch is published,
so "queued" keeps meaning in the broker, and learns of a failure to publish.

Eagerly (embedded mode, tests) the task runs inline in the caller, as before, unless BATCHED (below) is set.

A caller that serves many requests from one thread (devices/api/lean_batch.py) sets
``devices.services.BATCHED``: then ``queue`` leaves the messages to it, and it publishes all its
requests' messages with :func:`publish` (in that thread, no hand-off) before answering any of them.
"""

import os
import threading
from concurrent.futures import Future

from devices.services import BATCHED
from integrations import task_messages

__all__ = ["queue", "publish", "BATCH_SIZE", "PUBLISH_TIMEOUT"]

#: Most messages in one task.
BATCH_SIZE = 500
#: Seconds a caller waits for its batch to be published.
PUBLISH_TIMEOUT = 30.0


def queue(payload: list[dict]) -> None:
    """Queue encoded messages (rulechains.messages.encode) for the rule engine; raises if that failed."""
    from rulechains.tasks import process_messages  # imported late: tasks import the engine

    batched = BATCHED.get()
    if batched is not None:  # its owner publishes (eagerly too: after its transaction, not inside it)
        batched.setdefault(publish, []).extend(payload)
        return
    if process_messages.app.conf.task_always_eager:
        process_messages.delay(payload)
        return
    _sender().put(payload).result(PUBLISH_TIMEOUT)


def publish(items: list[dict]) -> None:
    """Publish encoded messages now, from this thread, as tasks of up to BATCH_SIZE; raises if that failed.

    With a plain Redis broker, one LPUSH of Celery's own task messages (integrations/task_messages.py):
    kombu's producer cost more than the rest of a batch of attribute saves (docs/performance.md)."""
    from rulechains.tasks import process_messages

    chunks = [items[start:start + BATCH_SIZE] for start in range(0, len(items), BATCH_SIZE)]
    if task_messages.usable(process_messages):
        task_messages.publish(process_messages, chunks, argsrepr=_chunk_repr)
        return
    for chunk in chunks:
        # argsrepr given: Celery's own (a safe repr of every message, for its logs) cost more than the publish
        process_messages.apply_async(args=[chunk], argsrepr=_chunk_repr(chunk))


def _chunk_repr(chunk: list) -> str:
    return f"[<{len(chunk)} messages>]"


class _Sender:
    """The thread of one process that publishes the waiting messages as one task."""

    def __init__(self):
        self.cond = threading.Condition()
        self.pending: list[tuple[list[dict], Future]] = []
        self.thread = threading.Thread(target=self._run, name="rules-outbox", daemon=True)
        self.thread.start()

    def put(self, payload: list[dict]) -> Future:
        future: Future = Future()
        with self.cond:
            self.pending.append((payload, future))
            self.cond.notify()
        return future

    def _run(self) -> None:
        while True:
            with self.cond:
                while not self.pending:
                    self.cond.wait()
                waiting, self.pending = self.pending, []
            self._publish(waiting)

    @staticmethod
    def _publish(waiting: list[tuple[list[dict], Future]]) -> None:
        try:
            publish([item for payload, _ in waiting for item in payload])
        except BaseException as exc:  # every caller must learn that its messages were not queued
            for _, future in waiting:
                future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        else:
            for _, future in waiting:
                future.set_result(None)


_senders: dict[int, _Sender] = {}
_lock = threading.Lock()


def _sender() -> _Sender:
    pid = os.getpid()  # a forked child (Celery's prefork pool) starts its own thread
    sender = _senders.get(pid)
    if sender is None:
        with _lock:
            sender = _senders.get(pid)
            if sender is None:
                _senders.clear()
                sender = _senders[pid] = _Sender()
    return sender
