"""The Azure SDK side of AZURE_EVENT_HUB and AZURE_SERVICE_BUS: message sources and the Service
Bus sender over azure-eventhub / azure-servicebus (asyncio), for ``sb://`` namespaces.

- Event Hub: ``EventHubConsumerClient.receive_batch`` with a checkpoint store kept in this
  project's database (``DbCheckpointStore``): the client resumes each partition after its last
  checkpoint, and a batch is checkpointed only once all of it was queued. Ownership is claimed
  in memory: the listener host runs each integration exactly once (integrations/leases.py).
- Service Bus: a peek-lock subscription receiver; a batch is completed once queued, abandoned
  when the listener stops first.
- Credentials are checked before receiving (Event Hub: the partition ids; Service Bus: the
  first receive), so a refused key is a clear, permanent error in the integration's status.

The client classes are looked up through ``CLIENTS`` so that tests can put a recorded-message
fake in their place (a mocked cloud: no Azure service can run here).
"""

import asyncio
import datetime
import logging

from azure.eventhub.aio import CheckpointStore

from integrations.listeners.sources import Received, amqp_metadata, as_bytes
from integrations.sink import with_connection
from integrations.types.base import IntegrationError

__all__ = ["CLIENTS", "DbCheckpointStore", "EventHubSdkSource", "ServiceBusSdkSource", "ServiceBusSdkSender"]

log = logging.getLogger(__name__)

MAX_BATCH = 300
POLL_SECONDS = 1.0
CHECK_SECONDS = 8.0
RETRIES = 2
#: "eventhub" / "servicebus" -> client class; None: the SDK's (tests set a fake here)
CLIENTS: dict[str, type | None] = {"eventhub": None, "servicebus": None}
_PERMANENT = ("Authentication", "Authorization", "Unauthorized", "NotFound", "EntityNotFound")


def _client(kind: str):
    if CLIENTS.get(kind) is not None:
        return CLIENTS[kind]
    if kind == "eventhub":
        from azure.eventhub.aio import EventHubConsumerClient

        return EventHubConsumerClient
    from azure.servicebus.aio import ServiceBusClient

    return ServiceBusClient


def _failure(what: str, exc: BaseException, doing: str = "connect to") -> IntegrationError:
    if isinstance(exc, IntegrationError):
        return exc
    name = type(exc).__name__
    text = "timed out" if isinstance(exc, TimeoutError) else (str(exc) or name).splitlines()[0][:500]
    permanent = any(marker in name for marker in _PERMANENT)
    if "Authentication" in name or "Authorization" in name or "Unauthorized" in name:
        text = f"authentication refused (check the connection string's key): {text}"
    return IntegrationError(f"Failed to {doing} {what}: {text}", permanent=permanent)


def _ms(value) -> str | None:
    if isinstance(value, datetime.datetime):
        return str(int(value.timestamp() * 1000))
    return None if value is None else str(value)


# --- Event Hub ----------------------------------------------------------------------------------

class DbCheckpointStore(CheckpointStore):
    """An azure-eventhub CheckpointStore (same four coroutines) over EventHubCheckpoint rows."""

    def __init__(self, integration_id: str):
        self.integration_id = integration_id
        self._owned: dict[tuple, dict] = {}

    async def list_ownership(self, fully_qualified_namespace, eventhub_name, consumer_group, **kwargs):
        return [dict(o) for key, o in self._owned.items() if key[:3] == (fully_qualified_namespace, eventhub_name,
                                                                         consumer_group)]

    async def claim_ownership(self, ownership_list, **kwargs):
        claimed = []
        for ownership in ownership_list:
            item = {**ownership, "last_modified_time": datetime.datetime.now(datetime.UTC), "etag": "local"}
            key = (item["fully_qualified_namespace"], item["eventhub_name"], item["consumer_group"],
                   item["partition_id"])
            self._owned[key] = item
            claimed.append(dict(item))
        return claimed

    async def update_checkpoint(self, checkpoint, **kwargs) -> None:
        await asyncio.to_thread(with_connection, self._write, dict(checkpoint))

    async def list_checkpoints(self, fully_qualified_namespace, eventhub_name, consumer_group, **kwargs):
        return await asyncio.to_thread(with_connection, self._read, fully_qualified_namespace, eventhub_name,
                                       consumer_group)

    def _write(self, checkpoint: dict) -> None:
        from integrations.models import EventHubCheckpoint
        from tbproject.clock import now_ms

        EventHubCheckpoint.objects.update_or_create(
            integration_id=self.integration_id, namespace=checkpoint["fully_qualified_namespace"],
            eventhub=checkpoint["eventhub_name"], consumer_group=checkpoint["consumer_group"],
            partition_id=str(checkpoint["partition_id"]),
            defaults={"offset": str(checkpoint.get("offset") or ""), "sequence_number": checkpoint.get(
                "sequence_number"), "updated_ts": now_ms()})

    def _read(self, namespace: str, eventhub: str, consumer_group: str) -> list[dict]:
        from integrations.models import EventHubCheckpoint

        rows = EventHubCheckpoint.objects.filter(integration_id=self.integration_id, namespace=namespace,
                                                 eventhub=eventhub, consumer_group=consumer_group)
        return [{"fully_qualified_namespace": namespace, "eventhub_name": eventhub, "consumer_group": consumer_group,
                 "partition_id": row.partition_id, "offset": row.offset or None,
                 "sequence_number": row.sequence_number} for row in rows]


def event_metadata(event, partition_id: str) -> dict[str, str]:
    """Uplink metadata of one EventData (see types/azure_event_hub.py)."""
    raw = event.raw_amqp_message
    props = raw.properties
    return amqp_metadata(event.properties, raw.annotations, partitionId=partition_id,
                         messageId=getattr(props, "message_id", None),
                         correlationId=getattr(props, "correlation_id", None),
                         contentType=getattr(props, "content_type", None))


class EventHubSdkSource:
    def __init__(self, cc, cs, integration_id: str, *, what: str):
        self.cc, self.cs, self.integration_id, self.what = cc, cs, integration_id, what
        self._client = None
        self._error: BaseException | None = None

    def _make(self):
        return _client("eventhub").from_connection_string(
            self.cc.connectionString, consumer_group=self.cc.consumerGroup,
            checkpoint_store=DbCheckpointStore(self.integration_id), retry_total=RETRIES)

    async def check(self) -> None:
        self._client = self._make()
        try:
            await asyncio.wait_for(self._client.get_partition_ids(), self.cc.connectTimeoutSec + 5)
        except Exception as exc:
            raise _failure(self.what, exc) from None

    async def run(self, handle, connected) -> None:
        await self.check()
        connected()

        async def on_batch(context, events) -> None:
            if not events or self._error is not None:
                return
            batch = [Received(as_bytes(e.body), event_metadata(e, context.partition_id), e.content_type or "")
                     for e in events]
            if await handle(batch):
                await context.update_checkpoint(events[-1])
            else:  # stopping: no checkpoint, the next reader starts before these
                self._error = _Stopped()
                await self._client.close()

        async def on_error(context, error) -> None:
            log.warning("%s (partition %s): %s", self.what, getattr(context, "partition_id", "-"), error)
            if self._error is None:
                self._error = error
                await self._client.close()

        await self._client.receive_batch(on_batch, on_error=on_error, max_batch_size=MAX_BATCH,
                                         max_wait_time=None)
        if self._error is not None and not isinstance(self._error, _Stopped):
            raise _failure(self.what, self._error, "receive from")

    async def close(self) -> None:
        if self._client is not None:
            await self._client.close()


class _Stopped(Exception):
    pass


# --- Service Bus --------------------------------------------------------------------------------

def service_bus_metadata(message, topic: str, subscription: str) -> dict[str, str]:
    return amqp_metadata(message.application_properties, None, topicName=topic, subscriptionName=subscription,
                         sequenceNumber=message.sequence_number, enqueuedTime=_ms(message.enqueued_time_utc),
                         deliveryCount=message.delivery_count, messageId=message.message_id,
                         correlationId=message.correlation_id, contentType=message.content_type,
                         subject=message.subject)


class ServiceBusSdkSource:
    def __init__(self, cc, cs, *, what: str):
        self.cc, self.cs, self.what = cc, cs, what
        self._client = self._receiver = None
        self._closed = False

    async def _open(self) -> None:
        from azure.servicebus import ServiceBusReceiveMode

        self._client = _client("servicebus").from_connection_string(self.cc.connectionString, retry_total=RETRIES)
        self._receiver = self._client.get_subscription_receiver(
            topic_name=self.cc.topicName, subscription_name=self.cc.subName,
            receive_mode=ServiceBusReceiveMode.PEEK_LOCK, prefetch_count=MAX_BATCH)

    async def _receive(self, wait: float) -> list:
        try:
            return await self._receiver.receive_messages(max_message_count=MAX_BATCH, max_wait_time=wait)
        except Exception as exc:
            raise _failure(self.what, exc, "receive from") from None

    async def check(self) -> None:
        """Peek (no lock, no delivery count): the key and the subscription are checked, nothing moves."""
        await self._open()
        try:
            await asyncio.wait_for(self._receiver.peek_messages(max_message_count=1), CHECK_SECONDS)
        except Exception as exc:
            raise _failure(self.what, exc, "receive from") from None

    async def run(self, handle, connected) -> None:
        await self._open()
        messages = await self._receive(POLL_SECONDS)
        connected()
        while not self._closed:
            if messages:
                ok = await handle([Received(as_bytes(m.body), service_bus_metadata(m, self.cc.topicName,
                                                                                   self.cc.subName),
                                            m.content_type or "") for m in messages])
                for message in messages:
                    await (self._receiver.complete_message if ok else self._receiver.abandon_message)(message)
                if not ok:
                    return
            messages = await self._receive(POLL_SECONDS)

    async def close(self) -> None:
        self._closed = True
        for closable in (self._receiver, self._client):
            if closable is not None:
                await closable.close()


class ServiceBusSdkSender:
    def __init__(self, cs, connection_string: str, topic: str, *, what: str):
        self.connection_string, self.topic, self.what = connection_string, topic, what
        self._client = self._sender = None

    async def send(self, downlink) -> None:
        from azure.servicebus import ServiceBusMessage

        content_type = {"JSON": "application/json", "TEXT": "text/plain"}.get(downlink.content_type,
                                                                              "application/octet-stream")
        message = ServiceBusMessage(downlink.payload, content_type=content_type, application_properties={
            str(k): str(v) for k, v in (downlink.metadata or {}).items()})
        try:
            if self._sender is None:
                self._client = _client("servicebus").from_connection_string(self.connection_string,
                                                                            retry_total=RETRIES)
                self._sender = self._client.get_topic_sender(topic_name=self.topic)
            await self._sender.send_messages(message)
        except Exception as exc:
            await self.close()
            raise _failure(self.what, exc, "send to") from None

    async def close(self) -> None:
        sender, client, self._sender, self._client = self._sender, self._client, None, None
        for closable in (sender, client):
            if closable is not None:
                try:
                    await closable.close()
                except Exception as exc:
                    log.debug("closing Service Bus client: %s", exc)
