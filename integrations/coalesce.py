"""A Celery task base that runs the queued uplink batches waiting in a worker as one batch.

A transport queues what arrived in a few milliseconds as one task (integrations/queue.py): under
load from many clients sending one message each, that is a handful of messages per task, and
the pipeline's cost per batch (a dozen database round trips, the converter call) then exceeds its
cost per message: a worker processed 470 msg/s in batches of 8 and 3,400 in batches of 500.
So the worker coalesces: while its pool processes are busy, the task messages it receives wait
in its buffer, and the next free process gets all of them at once (group commit). An idle worker
runs a message within ``flush_interval``; a busy one gets batches as large as the backlog,
up to ``flush_every`` task messages. A flush heavier than SPLIT_WEIGHT (a transport's full
batches: 32 of them are 16,000 uplinks) is handed to the pool as one batch per process, of about
equal weight: taken whole, one process drained the backlog while the other had finished its
own and waited (a Kafka load of 30,000 ran at 12,000-21,700 msg/s whole, 21,400-22,100 shared).

Built on celery-batches (a buffering task base that used to be ``celery.contrib.batches``):
its strategy buffers received messages; this class decides when to flush (only when a pool
process is free, or when the buffer is full) and how the messages are acknowledged:

- after the batch ran (acks_late): a worker that dies mid-batch leaves them unacknowledged, and
  the pool's "worker lost" error requeues them (reject_on_worker_lost), so nothing is lost;
- the task itself re-queues what it could not process (a retry), before it returns.

``run`` receives a list of ``celery_batches.SimpleRequest``; ``request.args`` are the arguments
the message was sent with. Eagerly (embedded mode, tests) a call is a batch of one.
"""

from time import monotonic

from celery_batches import Batches, SimpleRequest
from celery_batches.trace import apply_batches_task

from integrations import queue

__all__ = ["CoalescingTask"]


class CoalescingTask(Batches):
    abstract = True
    #: Most task messages in one batch (each holds up to UPLINK_BATCH_SIZE uplinks).
    flush_every = 32
    #: Seconds an idle worker waits for more messages before it runs what it has.
    flush_interval = 0.005

    #: Seconds received messages wait at most for a process to be free: then they are handed over
    #: anyway. A batch whose end was never reported (a callback lost with the pool, the broker
    #: connection or a bug) would otherwise count as running for good, and the last messages of a
    #: quiet moment would wait for more traffic (the fault suite found uplinks held for minutes).
    max_hold = 1.0

    def __init__(self) -> None:
        super().__init__()
        self._running = 0  # batches handed to the pool and not finished
        self._held_since: float | None = None

    def Strategy(self, task, app, consumer):
        """Built at every start of the worker's consumer, again after a lost broker connection."""
        self._consumer_started()
        return super().Strategy(task, app, consumer)

    def _consumer_started(self) -> None:
        """A restarted consumer cleared its timer, and with it the buffer's flush timer, which
        celery-batches re-arms only when it believes none is set: without this, after a Redis
        outage, fewer than ``flush_every`` messages waited for the next ones (the fault suite
        found the last uplinks of a stream held for good). What the buffer still holds came on
        the lost connection: dropped, as Celery drops its own queues then; the broker hands those
        messages out again (Redis: after the visibility timeout), and running them here too would
        run them twice."""
        if self._tref is not None:
            self._tref.cancel()
            self._tref = None
        for waiting in (self._buffer, self._pending):
            while not waiting.empty():
                waiting.get_nowait()

    def _do_flush(self) -> None:
        pool = self._pool
        if pool is not None and self._running >= max(1, pool.num_processes) \
                and self._buffer.qsize() < self.flush_every:
            # every process is busy: keep collecting; the next to finish flushes
            now = monotonic()
            if self._held_since is None:
                self._held_since = now
            if now - self._held_since < self.max_hold:
                return
        self._held_since = None
        super()._do_flush()

    def flush(self, requests):
        pool = self._pool
        processes = max(1, getattr(pool, "num_processes", 1) or 1)
        weights = [_weight(r) for r in requests] if processes > 1 and len(requests) > 1 else ()
        if sum(weights) > SPLIT_WEIGHT:
            for part in _split(requests, weights, processes):
                self._dispatch(part)
            return None
        return self._dispatch(requests)

    def _dispatch(self, requests):
        self._running += 1
        args = ([SimpleRequest.from_request(r) for r in requests],)

        def finished(result=None) -> None:
            self._running -= 1
            for request in requests:
                request.acknowledge()
            if not self._buffer.empty():
                self._do_flush()

        def lost(exc) -> None:
            # The pool process died (killed, out of memory): put the messages back in the queue.
            self._running -= 1
            for request in requests:
                request.reject(requeue=True)

        try:
            return self._pool.apply_async(apply_batches_task, (self, args, 0, None),
                                          callback=finished, error_callback=lost)
        except BaseException:
            self._running -= 1  # never handed over: not running
            raise


#: Work past which a flush is shared among the pool's processes: characters of the uplink batches'
#: rows (queue.encode's "u"; about 2,000 uplinks of a small JSON payload). Other tasks' messages
#: weigh nothing: their flushes stay whole.
SPLIT_WEIGHT = 256 * 1024


def _weight(request) -> int:
    args = getattr(request, "args", None) or ()
    return queue.weight(args[0]) if args else 0


def _split(requests, weights, parts: int) -> list[list]:
    """``requests`` (of these ``weights``) in at most ``parts`` runs of about equal weight, in order."""
    share, out, current, held = sum(weights) / parts, [], [], 0
    for request, weight in zip(requests, weights, strict=True):
        current.append(request)
        held += weight
        if held >= share and len(out) < parts - 1:
            out.append(current)
            current, held = [], 0
    if current:
        out.append(current)
    return out
