"""What the Pulsar and Pub/Sub listeners share: the batcher, the connection task started by
``start()`` (which waits briefly for the first attempt, see attempts.py), the handlers of received
messages in flight, and a ``stop()`` that queues and acknowledges what it can before it closes."""

import asyncio
import logging

from integrations.listeners.attempts import FirstAttempt
from integrations.listeners.batching import UplinkBatcher

__all__ = ["ClientListener"]

log = logging.getLogger(__name__)


class ClientListener:
    """Subclasses implement ``_run(first)`` (connect, consume, reconnect; report the first attempt to
    ``first``) and ``_closed()`` (release what ``_run`` left open once it was cancelled)."""

    #: the thread name prefix of the connection task
    name = "client"

    def __init__(self, config, sink, *, metadata: dict[str, str], integration_id: str, address: str,
                 **batching):
        self.config, self.sink, self.address = config, sink, address
        self.integration_id, self.metadata = integration_id, dict(metadata)
        self.batcher = UplinkBatcher(sink, on_error=lambda error: sink.report(error=error, method="queue"),
                                     **batching)
        self.connected = asyncio.Event()
        self.acknowledged = 0
        self.stop_timeout = 5.0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._inflight: set[asyncio.Task] = set()

    async def start(self) -> None:
        """Start consuming; raise IntegrationError when the first attempt is refused for good."""
        self._loop = asyncio.get_running_loop()
        first = FirstAttempt()
        self.batcher.start()
        self._task = self._loop.create_task(self._run(first), name=f"{self.name}-{self.integration_id}")
        refused = await first.wait()
        if refused is not None:
            await self.stop()
            raise refused

    async def stop(self) -> None:
        """Queue and acknowledge what was received (the rest is redelivered), then close. Idempotent."""
        if self._task is None:
            return
        task, self._task = self._task, None
        await self.batcher.close(self.stop_timeout)
        if self._inflight:  # let the handlers send their acknowledgements
            await asyncio.wait(list(self._inflight), timeout=2.0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await self._closed()
        self.connected.clear()

    def _handle(self, coroutine) -> None:
        """Run the handler of one received message; stop() waits for those in flight."""
        task = self._loop.create_task(coroutine)
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    def _up(self) -> None:
        if not self.connected.is_set():
            self.connected.set()
            self.sink.report(connected=True, error="")

    def _down(self, message: str) -> None:
        self.connected.clear()
        self.sink.report(connected=False, error=message)

    def _attempt_failed(self, first: FirstAttempt, message: str, permanent: bool) -> None:
        log.warning("%s (retrying)", message)
        first.failed(message, permanent)
        self._down(message)

    async def _run(self, first: FirstAttempt) -> None:
        raise NotImplementedError

    async def _closed(self) -> None:
        pass
