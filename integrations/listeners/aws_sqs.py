"""The poller behind the AWS_SQS integration: aiobotocore, long polling, delete after queueing.

- ``ReceiveMessage`` long-polls ``min(pollingPeriodSeconds, 20)`` seconds for up to 10
  messages; an empty answer that came sooner than ``pollingPeriodSeconds`` waits out the rest.
  ``POLLERS`` receive calls run at once, and the next poll does not wait for the last batch to
  be queued (at most ``MAX_IN_FLIGHT`` polls are held), so a busy queue is read as fast as the
  pipeline takes it.
- A message is deleted (``DeleteMessageBatch``) only after it was durably queued in our
  pipeline. One the listener could not queue (it stopped first) is made visible again at once;
  one received by a listener that died is made visible again by SQS when its visibility timeout
  ends. So nothing is lost, and a message may be handed on twice (at least once). While a
  batch waits for a slow queue, its messages' visibility is extended before it ends, so that
  SQS does not hand them out again meanwhile.
- Starting checks the queue first: refused credentials or a missing queue fail the start (a
  FAILED lifecycle event with the reason); an unreachable endpoint is retried with back-off and
  jitter, reported in the status, as every later failure is.
- Downlinks are sent with ``SendMessage`` to the encoder's ``metadata.queueUrl``, else
  ``downlinkQueueUrl``.
"""

import asyncio
import base64
import logging
import time
import uuid

from integrations.listeners.aws import PROBE_TIMEOUT, AwsListener, client, describe
from integrations.listeners.mqtt import _content_type
from integrations.messages import Downlink, RawUplink
from integrations.types.base import IntegrationError
from tbproject.clock import now_ms

__all__ = ["SqsListener", "probe"]

log = logging.getLogger(__name__)

MAX_MESSAGES = 10  # SQS's limit per ReceiveMessage
MAX_WAIT = 20  # SQS's limit on long polling, seconds
MAX_IN_FLIGHT = 50  # polls whose messages are being queued at once
POLLERS = 2  # receive calls at once: one call's round trip would cap a busy queue at 10 messages a trip
PUBLISH_TIMEOUT = 10.0


def _what(cc) -> str:
    return f"AWS SQS queue {cc.queueUrl}"


async def probe(config) -> None:
    """Read the queue's attributes with ``config``; IntegrationError (permanent when retrying
    cannot help: refused credentials, no such queue) if that fails."""
    cc = config.sqsConfiguration
    try:
        async with client("sqs", cc, read_timeout=PROBE_TIMEOUT) as sqs:
            await asyncio.wait_for(sqs.get_queue_attributes(QueueUrl=cc.queueUrl, AttributeNames=["QueueArn"]),
                                   PROBE_TIMEOUT)
    except Exception as exc:
        message, permanent = describe(f"Failed to connect to {_what(cc)}", exc)
        raise IntegrationError(message, permanent=permanent) from None


class SqsListener(AwsListener):
    """One integration's poller. ``sink`` is the host's UplinkSink (types/base.py)."""

    service, verb = "sqs", "poll"

    def __init__(self, config, sink, *, metadata: dict[str, str], integration_id: str):
        super().__init__(config, config.sqsConfiguration, sink, metadata=metadata, integration_id=integration_id,
                         read_timeout=MAX_WAIT + 10)
        self.deleted = 0  # messages deleted from the queue after queueing
        self.visibility = 30  # the queue's VisibilityTimeout, seconds (read at each connection)
        self._settling: set[asyncio.Task] = set()

    def what(self) -> str:
        return _what(self.cc)

    async def probe(self, config) -> None:
        await probe(config)

    async def connect(self, sqs) -> None:
        answer = await sqs.get_queue_attributes(QueueUrl=self.cc.queueUrl, AttributeNames=["VisibilityTimeout"])
        self.visibility = int(answer.get("Attributes", {}).get("VisibilityTimeout", 30))

    async def consume(self, sqs) -> None:
        slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        try:
            await asyncio.gather(*(self._poll(sqs, slots) for _ in range(POLLERS)))
        finally:  # deletes still on their way use this client
            await self._settled(self.stop_timeout)

    async def drain(self) -> None:
        await self._settled(2.0)

    async def _settled(self, timeout: float) -> None:
        if self._settling:
            await asyncio.wait(list(self._settling), timeout=timeout)

    async def _poll(self, sqs, slots: asyncio.Semaphore) -> None:
        period = self.cc.pollingPeriodSeconds
        while not self._stopping:
            started = time.monotonic()
            answer = await sqs.receive_message(
                QueueUrl=self.cc.queueUrl, MaxNumberOfMessages=MAX_MESSAGES, WaitTimeSeconds=min(period, MAX_WAIT),
                MessageAttributeNames=["All"], MessageSystemAttributeNames=["All"])
            messages = answer.get("Messages") or []
            if not messages:
                await asyncio.sleep(max(period - (time.monotonic() - started), 0.2))
                continue
            await slots.acquire()
            task = asyncio.get_running_loop().create_task(self._settle(sqs, messages))
            self._settling.add(task)
            task.add_done_callback(lambda done: (self._settling.discard(done), slots.release()))

    async def _settle(self, sqs, messages: list[dict]) -> None:
        """Queue the messages of one poll, then delete those that were queued."""
        keeper = asyncio.get_running_loop().create_task(self._keep_invisible(sqs, messages))
        try:
            outcomes = await asyncio.gather(*(self._hand_on(message) for message in messages))
        finally:
            keeper.cancel()
        queued = [m for m, ok in zip(messages, outcomes, strict=True) if ok]
        refused = [m for m, ok in zip(messages, outcomes, strict=True) if not ok]
        try:
            if queued:
                answer = await sqs.delete_message_batch(QueueUrl=self.cc.queueUrl, Entries=_entries(queued))
                for failure in answer.get("Failed") or []:
                    log.warning("%s did not delete a queued message (it will be read again): %s",
                                _what(self.cc), failure.get("Message") or failure.get("Code"))
                self.deleted += len(answer.get("Successful") or [])
            if refused:  # not queued: let the next poll (or another host) have them at once
                await sqs.change_message_visibility_batch(
                    QueueUrl=self.cc.queueUrl, Entries=[{**e, "VisibilityTimeout": 0} for e in _entries(refused)])
        except Exception as exc:  # they come back after the visibility timeout: duplicates, no loss
            log.warning("%s: settling %d message(s) failed; SQS will deliver them again: %s",
                        _what(self.cc), len(messages), exc)

    async def _keep_invisible(self, sqs, messages: list[dict]) -> None:
        """While queueing takes long (the pipeline's queue is slow or down), extend the messages'
        visibility timeout before it ends: otherwise SQS hands them out again meanwhile."""
        while True:
            await asyncio.sleep(max(self.visibility * 0.6, 0.5))
            try:
                await sqs.change_message_visibility_batch(QueueUrl=self.cc.queueUrl, Entries=[
                    {**e, "VisibilityTimeout": self.visibility} for e in _entries(messages)])
            except Exception as exc:  # they may be handed out again: duplicates, no loss
                log.warning("%s: extending the visibility of %d message(s) failed: %s", _what(self.cc),
                            len(messages), exc)
                return

    async def _hand_on(self, message: dict) -> bool:
        payload = (message.get("Body") or "").encode("utf-8")
        metadata = dict(self.metadata)
        for name, attribute in (message.get("MessageAttributes") or {}).items():
            if "StringValue" in attribute:  # String and Number attributes; binary ones are left out
                metadata.setdefault(name, attribute["StringValue"])
        metadata["messageId"] = message.get("MessageId", "")
        return await self.batcher.add_and_wait(RawUplink(self.integration_id, payload, metadata, now_ms(),
                                                   _content_type(payload)))

    async def publish(self, downlink: Downlink) -> None:
        queue_url = downlink.metadata.get("queueUrl") or self.cc.downlinkQueueUrl
        if not queue_url:
            raise IntegrationError("AWS SQS downlink has no queue: the encoder returned no metadata.queueUrl and "
                                   "the integration has no downlinkQueueUrl", permanent=True)
        sqs = self.connection()
        try:
            body, attributes = downlink.payload.decode("utf-8"), {}
        except UnicodeDecodeError:  # SQS bodies are text
            body = base64.b64encode(downlink.payload).decode()
            attributes = {"contentEncoding": {"DataType": "String", "StringValue": "base64"}}
        extra = {}
        if queue_url.endswith(".fifo"):
            extra = {"MessageGroupId": downlink.metadata.get("messageGroupId") or downlink.device_name or "default",
                     "MessageDeduplicationId": downlink.metadata.get("messageDeduplicationId") or uuid.uuid4().hex}
        try:
            await asyncio.wait_for(sqs.send_message(QueueUrl=queue_url, MessageBody=body, MessageAttributes=attributes,
                                                    **extra), PUBLISH_TIMEOUT)
        except Exception as exc:
            message, permanent = describe(f"Sending the downlink to AWS SQS queue {queue_url} failed", exc)
            raise IntegrationError(message, permanent=permanent) from None


def _entries(messages: list[dict]) -> list[dict]:
    return [{"Id": str(n), "ReceiptHandle": m["ReceiptHandle"]} for n, m in enumerate(messages)]
