"""What the Pulsar and Pub/Sub listeners share beyond reconnecting.py: the address, the connection
task started by ``start()`` (which waits briefly for the first attempt, see attempts.py), the
handlers of received messages in flight, and a ``stop()`` that queues and acknowledges what it can
before it closes."""

import asyncio
import logging

from integrations.listeners.attempts import FIRST_ATTEMPT_WAIT, FirstAttempt
from integrations.listeners.reconnecting import ReconnectingListener

__all__ = ["ClientListener"]

log = logging.getLogger(__name__)


class ClientListener(ReconnectingListener):
    """Subclasses implement ``_run(first)`` (connect, consume, reconnect; report the first attempt to
    ``first``) and ``_closed()`` (release what ``_run`` left open once it was cancelled)."""

    #: the thread name prefix of the connection task
    name = "client"
    first_attempt_wait = FIRST_ATTEMPT_WAIT

    def __init__(self, config, sink, *, metadata: dict[str, str], integration_id: str, address: str,
                 **batching):
        super().__init__(config, sink, metadata=metadata, integration_id=integration_id, **batching)
        self.address = address
        self.acknowledged = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._inflight: set[asyncio.Task] = set()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await super().start()

    async def _wind_down(self, task: asyncio.Task) -> None:
        if self._inflight:  # let the handlers send their acknowledgements
            await asyncio.wait(list(self._inflight), timeout=2.0)

    def _handle(self, coroutine) -> None:
        """Run the handler of one received message; stop() waits for those in flight."""
        task = self._loop.create_task(coroutine)
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)

    def _attempt_failed(self, first: FirstAttempt, message: str, permanent: bool) -> None:
        log.warning("%s (retrying)", message)
        first.failed(message, permanent)
        self._down(message)
