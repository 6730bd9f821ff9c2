"""The listener host's side of downlinks: send what is PENDING for the integrations it runs.

The encoder (integrations/downlinks/encoder.py) runs in a Celery worker; the connection to the
device's broker or socket lives in the runintegrations host that holds the integration's lease.
The table is the hand-over: the host claims the PENDING downlinks of the integrations it hosts
(integrations.downlinks.delivery.claim), calls ``await instance.downlink(Downlink)`` on its own
loop (concurrently; each type bounds itself, MQTT through its send window) and records the
outcomes in one go (delivery.finish: DELIVERED, retried with back-off, or FAILED).

It looks when woken (integrations.downlinks.notify: in-process at once; Redis pub/sub across
processes when REDIS_URL is set), when an integration (re)starts here, and every POLL_SECONDS.
"""

import asyncio
import json
import logging

from django.conf import settings

from integrations.downlinks import delivery, notify
from integrations.types.base import IntegrationError

__all__ = ["DownlinkOutbox", "POLL_SECONDS", "SEND_TIMEOUT"]

log = logging.getLogger(__name__)

POLL_SECONDS = 2.0
SEND_TIMEOUT = 30.0


class DownlinkOutbox:
    """Runs inside a Runner's loop (integrations/runner.py); ``wake`` may be called from any thread."""

    def __init__(self, runner, *, poll_seconds: float = POLL_SECONDS):
        self.runner, self.poll = runner, poll_seconds
        self._loop: asyncio.AbstractEventLoop | None = None
        self._event: asyncio.Event | None = None
        self._tasks: list[asyncio.Task] = []
        self.sent = self.failed = 0

    def start(self) -> None:
        self._loop, self._event = asyncio.get_running_loop(), asyncio.Event()
        self._tasks = [self._loop.create_task(self._run(), name="downlink-outbox")]
        if settings.REDIS_URL:
            self._tasks.append(self._loop.create_task(self._subscribe(), name="downlink-subscriber"))
        notify.register(self)

    async def stop(self) -> None:
        notify.unregister(self)
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []

    def wake(self, integration_ids=None) -> None:
        """Look now, if ``integration_ids`` (None: any) names an integration hosted here."""
        loop, event = self._loop, self._event
        if loop is None or event is None:
            return
        if integration_ids is not None:
            hosted = {str(pk) for pk in list(self.runner.hosted)}  # list(): hosted changes on the loop
            if not hosted.intersection(str(i) for i in integration_ids):
                return
        try:
            loop.call_soon_threadsafe(event.set)
        except RuntimeError:  # loop closed
            pass

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._event.wait(), self.poll)
            except TimeoutError:
                pass
            self._event.clear()
            try:
                await self.deliver_due()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database unreachable: the next look retries
                log.error("listener host %s could not send downlinks: %s", self.runner.holder, exc)

    async def deliver_due(self) -> int:
        """Send every due downlink of the hosted integrations; returns how many were tried.

        The database work overlaps the sending: while a batch is being sent, the next one is
        claimed, and the outcomes of a sent batch are recorded while the next one goes out, so
        that each integration's send window stays full between batches."""
        tried, finishing = 0, []
        claiming = self._claim()
        try:
            while True:
                hosted, rows = await claiming
                if not rows:
                    return tried
                full = len(rows) >= delivery.HOST_BATCH
                claiming = self._claim() if full else None
                outcomes = await self._send_all(hosted, rows)
                integrations = {pk: h.integration for pk, h in hosted.items()}
                finishing.append(asyncio.ensure_future(
                    self.runner._in_control(delivery.finish, integrations, list(outcomes))))
                tried += len(rows)
                if claiming is None:
                    return tried
        finally:
            if claiming is not None:  # stopped or failed with a claim on the way: hand its rows back
                left = await asyncio.gather(claiming, return_exceptions=True)
                if isinstance(left[0], tuple) and left[0][1]:
                    finishing.append(asyncio.ensure_future(self.runner._in_control(delivery.release, left[0][1])))
            await asyncio.gather(*finishing)  # every outcome is recorded before this returns (or raises)

    def _claim(self) -> asyncio.Future:
        """(hosted integrations, their due downlinks now SENDING under our claim), claimed in the control thread."""
        hosted = dict(self.runner.hosted)

        async def claim():
            if not hosted:
                return hosted, []
            return hosted, await self.runner._in_control(delivery.claim, list(hosted), self.runner.holder)

        return asyncio.ensure_future(claim())

    async def _send_all(self, hosted: dict, rows) -> list[tuple]:
        """Send ``rows`` concurrently, each through its integration's ``downlink``; (row, error,
        permanent) for each, in order. One deadline for the batch (SEND_TIMEOUT; they all start
        together): a ``wait_for`` per downlink cost a task, a future and a timer each, a fifth of
        the host's CPU per MQTT downlink (docs/performance.md, "The downlink host's timers")."""
        outcomes: list = [None] * len(rows)
        sending: dict[asyncio.Future, int] = {}
        for index, row in enumerate(rows):
            instance = hosted.get(row.integration_id)
            if instance is None:
                outcomes[index] = (row, "The integration stopped on this host before the downlink was sent", False)
                continue
            try:
                sending[asyncio.ensure_future(instance.instance.downlink(delivery.as_message(row)))] = index
            except Exception as exc:  # the row could not become a message: that downlink fails alone
                outcomes[index] = self._failed(row, exc)
        if sending:
            try:
                _, late = await asyncio.wait(sending, timeout=SEND_TIMEOUT)
            finally:
                for task in sending:  # past the deadline, or this host is stopping
                    task.cancel()
            for task, index in sending.items():
                row = rows[index]
                if task in late or task.cancelled():
                    self.failed += 1
                    outcomes[index] = (row, f"Sending took longer than {SEND_TIMEOUT:.0f} s", False)
                elif (exc := task.exception()) is not None:
                    outcomes[index] = self._failed(row, exc)
                else:
                    self.sent += 1
                    outcomes[index] = (row, None, False)
        return outcomes

    def _failed(self, row, exc: BaseException) -> tuple:
        self.failed += 1
        if isinstance(exc, IntegrationError):
            return row, exc.message, exc.permanent
        log.error("integration %s: downlink failed", row.integration_id, exc_info=exc)
        return row, str(exc) or type(exc).__name__, False

    async def _subscribe(self) -> None:
        """Wake on the integration ids that workers publish on notify.CHANNEL (Redis pub/sub)."""
        import redis.asyncio as aioredis

        delay = 1.0
        while True:
            client = aioredis.from_url(settings.REDIS_URL)
            try:
                pubsub = client.pubsub()
                await pubsub.subscribe(notify.CHANNEL)
                delay = 1.0
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        self.wake(json.loads(message["data"]))
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("downlink announcements from Redis unavailable (polling meanwhile): %s", exc)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 30.0)
            finally:
                await client.aclose()
