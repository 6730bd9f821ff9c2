"""How a client listener (Pulsar, Pub/Sub) reports its connection attempts.

- ``FirstAttempt``: ``start()`` waits briefly for the outcome of the first connection attempt.
  A permanent refusal (unknown subscription, refused credentials) makes ``start()`` raise, so the
  host records it as a FAILED lifecycle event with the reason and tries again later; a transient
  one (the broker is down) or no answer yet lets the integration start, and the listener keeps
  retrying in the background, reporting each new error to the status and as an ERROR event.
- ``Backoff``: exponential delays with jitter, longer after a permanent refusal.
"""

import asyncio
import random

from integrations.types.base import IntegrationError

__all__ = ["FirstAttempt", "Backoff", "FIRST_ATTEMPT_WAIT"]

#: seconds start() waits for the first attempt (the host gives start() 10 s in all)
FIRST_ATTEMPT_WAIT = 6.0


class FirstAttempt:
    """The outcome of a listener's first connection attempt."""

    def __init__(self):
        self._outcome: asyncio.Future = asyncio.get_running_loop().create_future()

    def connected(self) -> None:
        if not self._outcome.done():
            self._outcome.set_result(None)

    def failed(self, message: str, permanent: bool) -> None:
        if not self._outcome.done():
            self._outcome.set_result(IntegrationError(message, permanent=True) if permanent else None)

    async def wait(self, timeout: float = FIRST_ATTEMPT_WAIT) -> IntegrationError | None:
        """The permanent refusal of the first attempt, or None (connected, transient, no answer yet)."""
        try:
            return await asyncio.wait_for(asyncio.shield(self._outcome), timeout)
        except TimeoutError:
            return None


class Backoff:
    """Delays between connection attempts: ``low`` doubling to ``high`` (x4 after a permanent error)."""

    def __init__(self, low: float = 1.0, high: float = 30.0):
        self.low, self.high, self.delay = low, high, low

    def reset(self) -> None:
        self.delay = self.low

    async def sleep(self, permanent: bool = False) -> None:
        await asyncio.sleep(self.delay * random.uniform(0.8, 1.2))
        self.delay = min(self.delay * 2, self.high * (4 if permanent else 1))
