"""Where transports hand uplinks over: batches to Celery, never one task per message.

    await accept(uplink)        # async callers (the HTTP ingress): returns once queued
    accept_many([uplink, ...])  # sync callers that already hold a batch

"Queued" means durable: the batch is one ``integrations.tasks.process_uplinks`` task in the
broker (Redis), so a transport may answer 2xx or acknowledge a QoS 1 message as soon as
``accept`` returns. In embedded mode (CELERY_TASK_ALWAYS_EAGER) the task runs inline and
``accept`` returns once the batch has been through the pipeline (stored or dead-lettered).

``accept`` batches concurrent callers of one event loop (the HTTP ingress's; the listeners
batch in integrations/listeners/batching.py). At a low rate, group commit: an uplink that finds
no batch being sent goes as soon as the callers of the current loop turn are in, and what
arrives while a batch is being sent goes when that send completes. From a rate at which
UPLINK_BATCH_MS would gather LINGER_FROM uplinks (2: 400/s at 5 ms), a batch lingers: it is sent
UPLINK_BATCH_MS after the previous one (after its own first message while one is being sent),
so that tasks stay large; the worker's CPU per message grows fast as tasks shrink (grouping at a
paced 1,000/s made 1.2-2 uplinks a task and 2.3 times the worker's CPU per message,
docs/performance.md, "The accept side, again"). A batch reaching UPLINK_BATCH_SIZE goes at once.
Sending runs in a small thread pool, off the event loop (publishing to Redis: one LPUSH of
Celery's own task messages, integrations/task_messages.py; or the whole pipeline when eager). If
sending fails (broker down, database down when eager), every caller of that batch gets the
exception: nothing was accepted, so the transport must say so.

The task payload is JSON: ``{"v": 2, "u": "<JSON text>"}``, the text being
``[[integration_id, base64 payload, metadata index, received_ts, content_type(, conversion)], ...]``
(``conversion`` only on an uplink a remote runner converted, RawUplink.conversion) followed
by the batch's distinct metadata objects (``{"v": 2, "u": ..., "m": "<JSON text of the list>"}``).
The uplinks are one string rather than a JSON structure because the Celery worker's consumer
process decodes every task message with kombu's JSON decoder, whose object hook runs for every
object: a batch of 500 uplinks was 500 metadata objects, and decoding them was 12% of the
worker's CPU (docs/performance.md, issue 18). As one string it is a single token to the
consumer, and the pool process parses it with the plain C decoder. Metadata objects repeat
(one topic, one integration), so each distinct one is sent once. Version 1 payloads (a list
per uplink, metadata inline) are still decoded: batches queued before an upgrade.
"""

import asyncio
import base64
import json
import threading
import weakref
from binascii import b2a_base64
from collections import deque
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import close_old_connections, connections

from integrations import task_messages
from integrations.messages import RawUplink, raw_uplink
from tbproject import metrics
from tbproject.clock import now_ms
from tbproject.jsontext import compact

__all__ = ["accept", "accept_many", "requeue", "encode", "decode", "retries_of", "weight", "SENDER_THREADS"]

#: Below a rate at which UPLINK_BATCH_MS would gather this many uplinks, batches do not linger
#: (group commit); at or above it they do, and tasks stay large for the worker.
LINGER_FROM = 2
#: Seconds over which the rate of uplinks is counted.
RATE_WINDOW = 0.1

#: Threads that send batches (publish, or run the pipeline when eager). Two keep publishing
#: going while one batch is slow; more would only compete for the cores the converter pool uses.
SENDER_THREADS = 4

_VERSION = 2


def encode(uplinks: list[RawUplink], now: int | None = None, *, retries: int = 0) -> dict:
    """The JSON-serialisable task payload of a batch; a missing received_ts becomes ``now``.
    ``retries``: how often the worker already failed to process these (for its back-off)."""
    now = now_ms() if now is None else now
    metadata: dict[str, int] = {}  # JSON text of each distinct metadata object -> its index
    seen: dict[int, int] = {}  # id() of a metadata dict already written -> its index (listeners share them)
    rows = []
    for u in uplinks:
        index = seen.get(id(u.metadata))
        if index is None:
            index = seen[id(u.metadata)] = metadata.setdefault(compact(u.metadata), len(metadata))
        rows.append([str(u.integration_id), b2a_base64(u.payload, newline=False).decode("ascii"), index,
                     u.received_ts or now, u.content_type, *((u.conversion,) if u.conversion is not None else ())])
    batch = {"v": _VERSION, "u": compact(rows), "m": f"[{','.join(metadata)}]"}
    if retries:
        batch["r"] = retries
    return batch


def retries_of(batch: dict) -> int:
    return int(batch.get("r", 0))


def weight(batch) -> int:
    """The work a queued batch holds, in characters of its rows (0 for anything else)."""
    return len(batch.get("u") or "") if isinstance(batch, dict) else 0


def decode(batch: dict) -> list[RawUplink]:
    version, b64 = batch.get("v"), base64.b64decode
    if version == 1:
        return [RawUplink(i, b64(p), m, ts, ct) for i, p, m, ts, ct in batch["u"]]
    if version != _VERSION:
        raise ValueError(f"unknown uplink batch version {version!r}")
    metadata = json.loads(batch["m"])
    # Each uplink gets its own copy: the pipeline's steps may add keys to an uplink's metadata.
    return [raw_uplink(i, b64(p), dict(metadata[m]), ts, ct, conversion[0] if conversion else None)
            for i, p, m, ts, ct, *conversion in json.loads(batch["u"])]


def accept_many(uplinks: list[RawUplink]) -> None:
    """Queue ``uplinks`` as tasks of at most UPLINK_BATCH_SIZE messages; returns once queued."""
    _queue(uplinks, now_ms())
    counts: dict = {}
    for u in uplinks:
        counts[u.integration_id] = counts.get(u.integration_id, 0) + 1
    metrics.inc_many("tb_uplinks_accepted_total", "integration", counts)


def requeue(uplinks: list[RawUplink], *, retries: int, countdown: float) -> None:
    """Queue uplinks the worker could not process again, to run after ``countdown`` seconds."""
    _queue(uplinks, None, retries=retries, countdown=countdown)


def _queue(uplinks: list[RawUplink], now: int | None, *, retries: int = 0, **options) -> None:
    from integrations.tasks import process_uplinks  # tasks imports this module

    size = settings.UPLINK_BATCH_SIZE
    batches = [encode(uplinks[start:start + size], now, retries=retries) for start in range(0, len(uplinks), size)]
    if not options and not retries and task_messages.usable(process_uplinks):
        task_messages.publish(process_uplinks, batches)  # one LPUSH of Celery's own task message
        return
    for batch in batches:
        process_uplinks.apply_async(args=[batch], **options)


async def accept(uplink: RawUplink) -> None:
    """Queue one uplink with the others arriving on this event loop; returns once it is queued."""
    await _batcher().submit(uplink)


_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()
_batchers: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Batcher]" = weakref.WeakKeyDictionary()


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(SENDER_THREADS, thread_name_prefix="uplink-queue")
        return _executor


def _send(uplinks: list[RawUplink]) -> None:
    from integrations.tasks import process_uplinks

    eager = process_uplinks.app.conf.task_always_eager
    close_old_connections()
    try:
        accept_many(uplinks)
    finally:
        if eager:
            # The pipeline ran in this pool thread: close its connections rather than leave them
            # open in an idle thread (SQLite reconnects in microseconds, and eager mode is embedded).
            connections.close_all()


def _batcher() -> "_Batcher":
    loop = asyncio.get_running_loop()
    batcher = _batchers.get(loop)
    if batcher is None:
        batcher = _batchers[loop] = _Batcher(loop)
    return batcher


class _Batcher:
    """Collects the uplinks of one event loop into batches and sends each batch from a thread.

    Below the rate at which UPLINK_BATCH_MS would gather LINGER_FROM uplinks (counted over the
    last RATE_WINDOW), group commit: an uplink that finds no batch being sent goes once the callers of
    the current loop turn are in; what arrives while one is being sent goes when that send
    completes. At or above it, a batch lingers UPLINK_BATCH_MS (from the previous batch, or
    from its first uplink while one is being sent) so that tasks stay large. A batch reaching
    UPLINK_BATCH_SIZE goes at once in either case.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop):
        self.loop = loop
        self.pending: list[tuple[RawUplink, asyncio.Future]] = []
        self.timer: asyncio.TimerHandle | asyncio.Handle | None = None
        self.sending: set[asyncio.Task] = set()
        self.last_flush = float("-inf")
        #: (loop time, uplinks) of the batches sent within the last RATE_WINDOW, and their sum
        self.recent: deque[tuple[float, int]] = deque()
        self.recent_total = 0

    async def submit(self, uplink: RawUplink) -> None:
        future = self.loop.create_future()
        self.pending.append((uplink, future))
        if len(self.pending) >= settings.UPLINK_BATCH_SIZE:
            self.flush()
        elif self.timer is None:
            self._schedule()
        # A caller that gives up (client gone) cancels only its own future, not the batch.
        await future

    def _schedule(self) -> None:
        """Arm the flush of the pending batch (none armed yet)."""
        linger = settings.UPLINK_BATCH_MS / 1000
        now = self.loop.time()
        if linger and self._lingering(linger, now):
            wait = linger if self.sending else self.last_flush + linger - now
            if wait > 0:
                self.timer = self.loop.call_later(wait, self.flush)
                return
        elif self.sending:
            return  # group commit: the send in progress flushes what arrived when it completes
        self.timer = self.loop.call_soon(self.flush)

    def _lingering(self, linger: float, now: float) -> bool:
        """High rate: the rate of the last RATE_WINDOW fills LINGER_FROM uplinks within the linger,
        and a batch went or is going within it (after a pause, the first uplink waits for nothing)."""
        if not self.sending and now - self.last_flush >= linger:
            return False
        self._forget(now)
        return self.recent_total / RATE_WINDOW * linger >= LINGER_FROM

    def _forget(self, now: float) -> None:
        recent = self.recent
        while recent and recent[0][0] <= now - RATE_WINDOW:
            self.recent_total -= recent.popleft()[1]

    def flush(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None
        batch, self.pending = self.pending, []
        if batch:
            self.last_flush = self.loop.time()
            self._forget(self.last_flush)
            self.recent.append((self.last_flush, len(batch)))
            self.recent_total += len(batch)
            task = self.loop.create_task(self._send(batch))
            self.sending.add(task)
            task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task) -> None:
        self.sending.discard(task)
        if self.pending and self.timer is None:
            self._schedule()  # what arrived during the send (group commit), or its linger

    async def _send(self, batch: list[tuple[RawUplink, asyncio.Future]]) -> None:
        try:
            await self.loop.run_in_executor(_pool(), _send, [uplink for uplink, _ in batch])
        except BaseException as exc:  # every caller must learn that nothing was queued
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        else:
            for _, future in batch:
                if not future.done():
                    future.set_result(None)
