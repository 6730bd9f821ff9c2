"""The base of the listeners that keep one connection open and reconnect (Kafka, the AWS pollers,
the cloud-queue sources, the Pulsar and Pub/Sub clients): their shared state, ``start()``,
``stop()``, the status reports and the back-off between attempts.

- ``start()`` starts the batcher and the connection task ``_run(first)``; where
  ``first_attempt_wait`` is set it waits that long for the first attempt (attempts.py), and a
  permanent refusal makes it stop and raise, so the host records a FAILED lifecycle event.
- ``stop()`` (idempotent): queue what was received (the batcher), let the subclass settle it
  (``_wind_down``: commit, acknowledge, delete), cancel the task, release what is left
  (``_closed``); what was not settled is delivered again by the peer.
- ``_failed(backoff, message)`` / ``_retry(backoff, message, permanent)``: a failed attempt is
  logged, reported to the integration's status, and followed by a back-off sleep with jitter
  (longer after a permanent error where the subclass says so).
"""

import asyncio
import logging

from integrations.listeners.attempts import Backoff, FirstAttempt
from integrations.listeners.batching import UplinkBatcher

__all__ = ["ReconnectingListener", "Backoff", "FirstAttempt", "STOP_TIMEOUT"]

log = logging.getLogger(__name__)

STOP_TIMEOUT = 5.0


class ReconnectingListener:
    """One integration's connection to its peer. Subclasses implement ``_run(first)`` (connect,
    consume, reconnect; report the first attempt's outcome to ``first``) and may override
    ``_wind_down(task)`` and ``_closed()``. ``sink`` is the host's UplinkSink (types/base.py)."""

    #: the connection task's name prefix
    name = "listener"
    #: seconds start() waits for the first attempt's outcome (0: it does not wait)
    first_attempt_wait = 0.0

    def __init__(self, config, sink, *, metadata: dict[str, str], integration_id: str, **batching):
        self.config, self.sink = config, sink
        self.integration_id, self.metadata = integration_id, dict(metadata)
        self.batcher = UplinkBatcher(sink, on_error=lambda error: sink.report(error=error, method="queue"),
                                     **batching)
        self.connected = asyncio.Event()
        self.stop_timeout = STOP_TIMEOUT
        self._task: asyncio.Task | None = None
        self._stopping = False

    async def start(self) -> None:
        """Start the connection task; raise IntegrationError when the first attempt is refused for good."""
        self._stopping = False
        first = FirstAttempt()
        self.batcher.start()
        self._task = asyncio.get_running_loop().create_task(self._run(first), name=f"{self.name}-{self.integration_id}")
        if self.first_attempt_wait:
            refused = await first.wait(self.first_attempt_wait)
            if refused is not None:
                await self.stop()
                raise refused

    async def stop(self) -> None:
        """Queue and settle what was received (the rest is delivered again), then close. Idempotent."""
        if self._task is None:
            return
        task, self._task = self._task, None
        self._stopping = True
        await self.batcher.close(self.stop_timeout)
        await self._wind_down(task)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await self._closed()
        self.connected.clear()

    async def _run(self, first: FirstAttempt) -> None:
        raise NotImplementedError

    async def _wind_down(self, task: asyncio.Task) -> None:
        """Let what was queued be settled at the peer before the task is cancelled."""

    async def _closed(self) -> None:
        """Release what ``_run`` left open once it was cancelled."""

    async def _finish(self, task: asyncio.Task, timeout: float = 2.0) -> None:
        """Give the connection task ``timeout`` seconds to end on its own (to settle what it holds)."""
        try:
            await asyncio.wait_for(asyncio.shield(task), timeout)
        except (TimeoutError, Exception):
            pass

    def _up(self) -> None:
        """Connected (again): reported once per change."""
        if not self.connected.is_set():
            self.connected.set()
            self.sink.report(connected=True, error="")

    def _down(self, message: str) -> None:
        self.connected.clear()
        self.sink.report(connected=False, error=message)

    def _failed(self, backoff: Backoff, message: str) -> None:
        """A failed attempt, logged with the coming delay and reported (then close, then sleep)."""
        log.warning("%s (retrying in %.0f s)", message, backoff.delay)
        self._down(message)

    async def _retry(self, backoff: Backoff, message: str, permanent: bool = False) -> None:
        """A failed attempt with nothing to close: logged, reported, then the back-off's sleep."""
        self._failed(backoff, message)
        await backoff.sleep(permanent)
