"""Mocked cloud: Azure Event Hubs and Service Bus as the Azure SDK clients see them.

No Azure service can run here (the SDKs need Azure's claims-based security, which no local
broker offers: reference/messaging-peers.md section 4), so these fakes take the place of
``EventHubConsumerClient`` and ``ServiceBusClient`` at the adapter boundary
(integrations/listeners/azure_sdk.py ``CLIENTS``). They hand the listener the SDK's own
message classes, decoded by the SDK from recorded AMQP 1.0 messages
(integrations/tests/fixtures/azure_recorded.json), and the SDK's own PartitionContext, so that
checkpoints go through the SDK's code into this project's checkpoint store. Every call the
listener makes on a fake is first bound to the real SDK method's signature (``_as_sdk``), so a
keyword the SDK does not take fails here as it would against Azure.
"""

import asyncio
import base64
import inspect
import json
from pathlib import Path

from azure.eventhub import EventData
from azure.eventhub.aio import EventHubConsumerClient
from azure.eventhub.aio._eventprocessor.partition_context import PartitionContext
from azure.eventhub.exceptions import AuthenticationError, ConnectionLostError
from azure.servicebus import ServiceBusReceivedMessage
from azure.servicebus.aio import ServiceBusClient, ServiceBusReceiver, ServiceBusSender
from azure.servicebus.exceptions import (
    MessagingEntityNotFoundError,
    ServiceBusAuthenticationError,
    ServiceBusConnectionError,
)

from integrations.types.azure_bus import ConnectionString

__all__ = ["RECORDED", "EventHubCloud", "ServiceBusCloud", "recorded_events", "recorded_bus_messages"]

RECORDED = json.loads((Path(__file__).parent / "fixtures" / "azure_recorded.json").read_text())


def _as_sdk(method, *args, **kwargs) -> None:
    """Bind a call to the real SDK method's signature (TypeError, as the SDK would raise)."""
    inspect.signature(method).bind(*args, **kwargs)


def recorded_events(partition: str) -> list[EventData]:
    return [EventData.from_bytes(base64.b64decode(raw)) for raw in RECORDED["eventhub"]["partitions"][partition]]


def recorded_bus_messages() -> list[ServiceBusReceivedMessage]:
    return [ServiceBusReceivedMessage.from_bytes(base64.b64decode(raw)) for raw in RECORDED["servicebus"]["messages"]]


class EventHubCloud:
    """One Event Hub: ``partitions`` of events, the one valid ``key``; ``drop_after`` makes the
    next client lose its connection after that many batches (as a service restart does)."""

    def __init__(self, key: str):
        self.key = key
        self.partitions = {pid: recorded_events(pid) for pid in RECORDED["eventhub"]["partitions"]}
        self.clients: list = []
        self.drop_after: int | None = None

    def client_class(self):
        cloud = self

        class ConsumerClient:
            @classmethod
            def from_connection_string(cls, conn_str, consumer_group="$Default", checkpoint_store=None, **kwargs):
                _as_sdk(EventHubConsumerClient.from_connection_string, conn_str, consumer_group=consumer_group,
                        checkpoint_store=checkpoint_store, **kwargs)
                client = cls()
                client.cs, client.consumer_group, client.store, client.kwargs = (
                    ConnectionString.parse(conn_str), consumer_group, checkpoint_store, kwargs)
                client.closed = asyncio.Event()
                cloud.clients.append(client)
                return client

            async def get_partition_ids(self):
                if self.cs.key != cloud.key:
                    raise AuthenticationError("CBS token authentication failed: amqp:unauthorized-access")
                return list(cloud.partitions)

            async def receive_batch(self, on_event_batch, *, on_error=None, max_batch_size=300, **kwargs):
                _as_sdk(EventHubConsumerClient.receive_batch, self, on_event_batch, on_error=on_error,
                        max_batch_size=max_batch_size, **kwargs)
                namespace, hub = self.cs.host, self.cs.entity_path
                checkpoints = {c["partition_id"]: c for c in await self.store.list_checkpoints(
                    namespace, hub, self.consumer_group)}
                batches = 0
                for pid, events in cloud.partitions.items():
                    context = PartitionContext(namespace, hub, self.consumer_group, pid, self.store)
                    after = checkpoints.get(pid, {}).get("sequence_number")
                    todo = [e for e in events if after is None or e.sequence_number > after]
                    for start in range(0, len(todo), max_batch_size):
                        if self.closed.is_set():
                            return
                        if cloud.drop_after is not None and batches >= cloud.drop_after:
                            cloud.drop_after = None
                            await on_error(context, ConnectionLostError("the link was detached by the service"))
                            return
                        await on_event_batch(context, todo[start:start + max_batch_size])
                        batches += 1
                await self.closed.wait()

            async def close(self):
                self.closed.set()

        return ConsumerClient


class ServiceBusCloud:
    """One topic subscription with peek-lock semantics, and the topics downlinks go to."""

    def __init__(self, key: str, topic: str, subscription: str):
        self.key, self.topic, self.subscription = key, topic, subscription
        self.available = recorded_bus_messages()
        self.locked: list = []
        self.completed: list = []
        self.sent: dict[str, list] = {}
        self.drop_next = False  # the next receive fails as a dropped connection does

    def client_class(self):
        cloud = self

        class Receiver:
            def __init__(self, client, topic, subscription):
                self.client, self.topic, self.subscription = client, topic, subscription

            async def peek_messages(self, max_message_count=1, **kwargs):
                _as_sdk(ServiceBusReceiver.peek_messages, self, max_message_count, **kwargs)
                self._allowed()
                return cloud.available[:max_message_count]

            def _allowed(self):
                if self.client.cs.key != cloud.key:
                    raise ServiceBusAuthenticationError(message="Unauthorized access. 'Listen' claim(s) are required")
                if (self.topic, self.subscription) != (cloud.topic, cloud.subscription):
                    raise MessagingEntityNotFoundError(message=f"The messaging entity '{self.topic}/Subscriptions/"
                                                               f"{self.subscription}' could not be found")

            async def receive_messages(self, max_message_count=1, max_wait_time=None):
                _as_sdk(ServiceBusReceiver.receive_messages, self, max_message_count, max_wait_time)
                self._allowed()
                if cloud.drop_next:
                    cloud.drop_next = False
                    raise ServiceBusConnectionError(message="Connection to the service was lost")
                taken, cloud.available = cloud.available[:max_message_count], cloud.available[max_message_count:]
                cloud.locked += taken
                if not taken:
                    await asyncio.sleep(min(max_wait_time or 0.05, 0.05))
                return taken

            async def complete_message(self, message):
                cloud.locked.remove(message)
                cloud.completed.append(message)

            async def abandon_message(self, message):
                cloud.locked.remove(message)
                cloud.available = sorted([message, *cloud.available], key=lambda m: m.sequence_number)

            async def close(self):  # a closed link's locks are given up: the messages come back
                cloud.available = sorted(cloud.locked + cloud.available, key=lambda m: m.sequence_number)
                cloud.locked = []

        class Sender:
            def __init__(self, client, topic):
                self.client, self.topic = client, topic

            async def send_messages(self, message):
                _as_sdk(ServiceBusSender.send_messages, self, message)
                if self.client.cs.key != cloud.key:
                    raise ServiceBusAuthenticationError(message="Unauthorized access. 'Send' claim(s) are required")
                cloud.sent.setdefault(self.topic, []).append(message)

            async def close(self):
                pass

        class Client:
            @classmethod
            def from_connection_string(cls, conn_str, **kwargs):
                _as_sdk(ServiceBusClient.from_connection_string, conn_str, **kwargs)
                client = cls()
                client.cs = ConnectionString.parse(conn_str)
                return client

            def get_subscription_receiver(self, topic_name, subscription_name, **kwargs):
                _as_sdk(ServiceBusClient.get_subscription_receiver, self, topic_name, subscription_name, **kwargs)
                return Receiver(self, topic_name, subscription_name)

            def get_topic_sender(self, topic_name, **kwargs):
                _as_sdk(ServiceBusClient.get_topic_sender, self, topic_name=topic_name, **kwargs)
                return Sender(self, topic_name)

            async def close(self):
                pass

        return Client
