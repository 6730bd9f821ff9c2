"""Stream checkpoints in the database: how far a stream listener (AWS Kinesis) has read, per shard.

    store = Checkpoints(integration_id)
    positions = await store.load("my-stream@1796501205000")   # {"shardId-000000000000": "4968...", ...}
    await store.save("my-stream@1796501205000", "shardId-000000000000", "4968...")

A listener saves a shard's position only after every record up to it was durably queued, so a
listener that dies re-reads at most what came after its last save (at least once, no gap). The
stream key names the stream and when it was created (``name@ms``): a stream deleted and made
again under the same name starts afresh instead of skipping records its new sequence numbers
share with the old checkpoint; loading a key drops the rows of the stream's older incarnations.
The calls run in a thread with the host's database connection (never on the event loop).
"""

import asyncio

from django.db import IntegrityError, transaction

from integrations.models import StreamCheckpoint
from integrations.sink import with_connection
from tbproject.clock import now_ms

__all__ = ["Checkpoints", "load", "save"]


def load(integration_id, stream: str) -> dict[str, str]:
    name, at, _ = stream.partition("@")
    if at:  # the same name made again: the old incarnation's positions mean nothing now
        StreamCheckpoint.objects.filter(integration_id=integration_id, stream__startswith=f"{name}@").exclude(
            stream=stream).delete()
    rows = StreamCheckpoint.objects.filter(integration_id=integration_id, stream=stream)
    return dict(rows.values_list("shard", "position"))


def save(integration_id, stream: str, shard: str, position: str) -> None:
    """Upsert one shard's position (an UPDATE first: after the first save that is all it takes)."""
    rows = StreamCheckpoint.objects.filter(integration_id=integration_id, stream=stream, shard=shard)
    if rows.update(position=position, updated_ts=now_ms()):
        return
    try:
        with transaction.atomic():
            StreamCheckpoint.objects.create(integration_id=integration_id, stream=stream, shard=shard,
                                            position=position)
    except IntegrityError:  # another host's listener saved first (a lease handover): ours is newer
        rows.update(position=position, updated_ts=now_ms())


class Checkpoints:
    """The checkpoints of one integration, for a listener on an event loop."""

    def __init__(self, integration_id):
        self.integration_id = integration_id

    async def load(self, stream: str) -> dict[str, str]:
        return await asyncio.to_thread(with_connection, load, self.integration_id, stream)

    async def save(self, stream: str, shard: str, position: str) -> None:
        await asyncio.to_thread(with_connection, save, self.integration_id, stream, shard, position)
