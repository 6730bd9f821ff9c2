"""Hands received uplinks to the pipeline in batches and reports when each one is queued.

A listener adds each message it reads and, for messages that need an acknowledgement (MQTT
QoS 1/2), awaits the future it gets back: it resolves once the batch holding the message was
durably queued, and only then is the message acknowledged. One batch is handed on at a time;
what arrives meanwhile forms the next batch (group commit), so batches grow with the load.
Under load a batch also lingers, while uplinks keep arriving, until ``linger`` seconds
(LISTENER_BATCH_MS) after the previous one was handed on, unless it is full already (an idle
batcher hands a message on at once): each batch is one Celery task, whose fixed cost (loading
the integration, one write per table, the hand-offs between processes) would otherwise be paid
for a handful of messages. A batch stops lingering once no uplink arrived for QUIET: a source
that sends a window of messages and waits for their acknowledgements (a broker's in-flight
limit, a consumer prefetch, a receive call of ten messages) is not held for the whole linger.
A batch that cannot be queued is retried with back-off and is never
acknowledged in the meantime.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable

from integrations.messages import RawUplink
from tbproject.conf import setting

__all__ = ["UplinkBatcher", "NotAcknowledged"]

log = logging.getLogger(__name__)

RETRY_MIN, RETRY_MAX = 0.2, 5.0
#: Seconds without a new uplink after which a lingering batch is handed on.
QUIET = 0.005


class NotAcknowledged(Exception):
    """The message was not queued (the listener stopped first): it must not be acknowledged."""


class UplinkBatcher:
    """Batches uplinks for ``emit(list[RawUplink])``, an awaitable that returns once they are queued.

    ``max_pending`` bounds what is held while queueing fails: past it, messages that nobody waits
    for (QoS 0) are dropped and counted in ``dropped``; acknowledged ones are bounded by the
    broker's in-flight window anyway.
    """

    def __init__(self, emit: Callable[[list[RawUplink]], Awaitable[None]], *, max_batch: int = 500,
                 max_pending: int = 10_000, on_error: Callable[[str], None] | None = None,
                 linger: float | None = None):
        self.emit, self.max_batch, self.max_pending = emit, max_batch, max_pending
        self.linger = setting("LISTENER_BATCH_MS", 20) / 1000 if linger is None else linger
        self.on_error = on_error or (lambda message: None)
        #: the sink's rate-limit gate (integrations/sink.py), when ``emit`` is a sink
        self._admit: Callable[[int], Awaitable[int]] | None = getattr(emit, "admit", None)
        self._pending: list[tuple[RawUplink, asyncio.Future | None]] = []
        self._wakeup = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._closed = False
        self._task: asyncio.Task | None = None
        self._last = float("-inf")  # loop time the last batch was handed on
        self._arrived = 0  # uplinks added so far (a lingering batch watches it)
        self.queued = self.dropped = 0

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="uplink-batcher")

    def add(self, uplink: RawUplink) -> asyncio.Future:
        """Queue ``uplink``; the future resolves once it is durably queued (then acknowledge it)."""
        if self._closed:
            raise NotAcknowledged("the listener is stopping")
        future = asyncio.get_running_loop().create_future()
        self._append(uplink, future)
        return future

    def add_waiter(self, uplink: RawUplink, waiter) -> None:
        """Like :meth:`add`, with ``waiter`` told instead of a new future: an object with a
        future's ``done()``, ``set_result()``, ``set_exception()`` and ``exception()`` (the MQTT
        listener's PUBACK, without a future and a task per message)."""
        if self._closed:
            raise NotAcknowledged("the listener is stopping")
        self._append(uplink, waiter)

    async def add_and_wait(self, uplink: RawUplink) -> bool:
        """Add ``uplink`` and wait until it is queued: True, or False when the listener stopped first."""
        try:
            await self.add(uplink)
        except NotAcknowledged:
            return False
        return True

    def offer(self, uplink: RawUplink) -> bool:
        """Queue ``uplink`` that nobody acknowledges (MQTT QoS 0); False when it was dropped."""
        if self._closed or len(self._pending) >= self.max_pending:
            self.dropped += 1
            return False
        self._append(uplink, None)
        return True

    def _append(self, uplink: RawUplink, future: asyncio.Future | None) -> None:
        self._pending.append((uplink, future))
        self._arrived += 1
        self._idle.clear()
        self._wakeup.set()

    async def drain(self, timeout: float) -> bool:
        """Wait until everything added so far is queued (or ``timeout``); True when it was."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
            return True
        except TimeoutError:
            return False

    async def close(self, timeout: float = 5.0) -> None:
        """Queue what is pending (up to ``timeout``), then refuse the rest: it stays unacknowledged."""
        await self.drain(timeout)
        self._closed = True
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        pending, self._pending = self._pending, []
        for _, future in pending:
            if future is not None and not future.done():
                future.set_exception(NotAcknowledged("the listener stopped before the message was queued"))
                future.exception()  # retrieved: nobody may be awaiting it any more
        self._idle.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            if self.linger:
                await self._linger(loop)
            while self._pending:
                size = min(len(self._pending), self.max_batch)
                if self._admit is not None:  # over a rate limit this waits: nothing is queued or acknowledged
                    try:
                        size = await self._admit(size)
                    except Exception as exc:
                        # The limits could not be read (the database connection was just terminated):
                        # queue rather than let this task die, which stalled the listener for good
                        # (the fault suite lost every later MQTT uplink after pg_terminate_backend).
                        log.warning("rate limits not checked, queueing %d uplink(s) anyway: %s", size, exc)
                batch, self._pending = self._pending[:size], self._pending[size:]
                await self._hand_on(batch)
                self._last = loop.time()
            self._idle.set()

    async def _linger(self, loop: asyncio.AbstractEventLoop) -> None:
        """Only under load (a batch was handed on less than ``linger`` ago): wait for more uplinks
        until ``linger`` after that hand-on, until the batch is full, or until none arrived for QUIET."""
        deadline = self._last + self.linger
        while len(self._pending) < self.max_batch:
            wait = deadline - loop.time()
            if wait <= 0:
                return
            arrived = self._arrived
            await asyncio.sleep(min(wait, QUIET))
            if self._arrived == arrived:
                return

    async def _hand_on(self, batch: list[tuple[RawUplink, asyncio.Future | None]]) -> None:
        uplinks = [uplink for uplink, _ in batch]
        delay = RETRY_MIN
        while True:
            try:
                await self.emit(uplinks)
                break
            except asyncio.CancelledError:
                self._pending[:0] = batch  # close() fails them: not queued, so never acknowledged
                raise
            except Exception as exc:
                log.warning("queueing %d uplink(s) failed, retrying in %.1f s: %s", len(uplinks), delay, exc)
                self.on_error(f"Failed to queue uplinks: {exc}")
                await asyncio.sleep(delay)
                delay = min(delay * 2, RETRY_MAX)
        self.queued += len(uplinks)
        for _, future in batch:
            if future is not None and not future.done():
                future.set_result(None)
