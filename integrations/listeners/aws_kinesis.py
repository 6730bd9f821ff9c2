"""The consumer behind the AWS_KINESIS integration: aiobotocore, one reader per shard, checkpoints
in our database.

- Each shard of ``streamName`` gets a reader: ``GetShardIterator`` (after the shard's checkpoint,
  else at ``initialPositionInStream``), then ``GetRecords`` of up to ``maxRecords`` in a loop,
  pausing ``idleTimeBetweenReadsInMillis`` after a read that returned nothing. The shard list is
  read again every ``SHARD_RESCAN`` seconds, so shards made by resharding are read too; a
  closed shard's reader ends when its records are read.
- Checkpoints: after the records of a read were durably queued in our pipeline, the sequence
  number of the last one is saved per shard in the database (integrations/checkpoints.py). A
  listener that stops, or dies, resumes after its last checkpoint: at least once, no gap.
  Checkpoints belong to the stream's incarnation (its name and creation time): a stream deleted
  and made again is read from ``initialPositionInStream``, as is a shard whose checkpoint the
  stream refuses.
- Starting checks the stream first: refused credentials or a missing stream fail the start (a
  FAILED lifecycle event with the reason); an unreachable endpoint is retried with back-off and
  jitter, reported in the status, as every later failure is.
- Downlinks are put (``PutRecord``) to the encoder's ``metadata.streamName`` with
  ``metadata.partitionKey`` (else the device name), as ThingsBoard's Kinesis integration does.
- ``useConsumersWithEnhancedFanOut`` is accepted and reads by polling all the same;
  ``applicationName`` is accepted (checkpoints are kept per integration and stream).
"""

import asyncio
import datetime
import logging

from botocore.exceptions import ClientError

from integrations.checkpoints import Checkpoints
from integrations.listeners.aws import PROBE_TIMEOUT, AwsListener, client, describe, error_code
from integrations.listeners.mqtt import _content_type
from integrations.messages import Downlink, RawUplink
from integrations.types.base import IntegrationError
from tbproject.clock import now_ms

__all__ = ["KinesisListener", "probe"]

log = logging.getLogger(__name__)

SHARD_RESCAN = 30.0
PUBLISH_TIMEOUT = 10.0


def _what(cc) -> str:
    return f"AWS Kinesis stream {cc.streamName}"


async def probe(config) -> None:
    """Describe the stream with ``config``; IntegrationError (permanent when retrying cannot
    help: refused credentials, no such stream) if that fails."""
    cc = config.clientConfiguration
    try:
        async with client("kinesis", cc, read_timeout=PROBE_TIMEOUT) as kinesis:
            await asyncio.wait_for(kinesis.describe_stream_summary(StreamName=cc.streamName), PROBE_TIMEOUT)
    except Exception as exc:
        message, permanent = describe(f"Failed to connect to {_what(cc)}", exc)
        raise IntegrationError(message, permanent=permanent) from None


class KinesisListener(AwsListener):
    """One integration's shard readers. ``sink`` is the host's UplinkSink (types/base.py);
    ``checkpoints`` defaults to the database store of this integration and stream."""

    service, verb = "kinesis", "read"

    def __init__(self, config, sink, *, metadata: dict[str, str], integration_id: str, checkpoints=None):
        cc = config.clientConfiguration
        super().__init__(config, cc, sink, metadata=metadata, integration_id=integration_id,
                         read_timeout=cc.requestTimeout)
        self.checkpoints = checkpoints or Checkpoints(integration_id)
        self.stream_key = cc.streamName  # name@creation ms, once connected
        self.positions: dict[str, str] = {}  # shard -> last checkpointed sequence number
        self.checkpointed = 0  # records covered by saved checkpoints
        self._saving: set[str] = set()  # shards whose reader is queueing a read and will save it
        self._shard_list: list[str] = []

    def what(self) -> str:
        return _what(self.cc)

    async def probe(self, config) -> None:
        await probe(config)

    async def connect(self, kinesis) -> None:
        summary = (await kinesis.describe_stream_summary(StreamName=self.cc.streamName))["StreamDescriptionSummary"]
        self.stream_key = f"{self.cc.streamName}@{int(summary['StreamCreationTimestamp'].timestamp() * 1000)}"
        self._shard_list = await self._shards(kinesis)
        self.positions = await self.checkpoints.load(self.stream_key)

    async def consume(self, kinesis) -> None:
        await self._read_all(kinesis, self._shard_list)

    async def drain(self) -> None:
        for _ in range(40):  # let the readers save what was queued
            if not self._saving:
                return
            await asyncio.sleep(0.05)

    async def _shards(self, kinesis) -> list[str]:
        shards, token = [], None
        while True:
            page = await (kinesis.list_shards(NextToken=token) if token else
                          kinesis.list_shards(StreamName=self.cc.streamName))
            shards += [shard["ShardId"] for shard in page.get("Shards", [])]
            token = page.get("NextToken")
            if not token:
                return shards

    async def _read_all(self, kinesis, shards: list[str]) -> None:
        readers: dict[str, asyncio.Task] = {}
        try:
            while not self._stopping:
                for shard in shards:
                    if shard not in readers:
                        readers[shard] = asyncio.get_running_loop().create_task(self._read_shard(kinesis, shard))
                reading = [task for task in readers.values() if not task.done()]
                if reading:  # wakes early only when a reader failed
                    await asyncio.wait(reading, timeout=SHARD_RESCAN, return_when=asyncio.FIRST_EXCEPTION)
                else:  # every shard was closed and read: wait for new ones
                    await asyncio.sleep(SHARD_RESCAN)
                for task in readers.values():
                    if task.done() and not task.cancelled() and task.exception() is not None:
                        raise task.exception()
                if not self._stopping:
                    shards = await self._shards(kinesis)
        finally:
            for task in readers.values():
                task.cancel()
            await asyncio.gather(*readers.values(), return_exceptions=True)

    async def _read_shard(self, kinesis, shard: str) -> None:
        iterator = await self._iterator(kinesis, shard)
        idle = self.cc.idleTimeBetweenReadsInMillis / 1000
        while iterator and not self._stopping:
            try:
                answer = await kinesis.get_records(ShardIterator=iterator, Limit=self.cc.maxRecords)
            except ClientError as exc:
                if error_code(exc) != "ExpiredIteratorException":
                    raise
                iterator = await self._iterator(kinesis, shard)
                continue
            records = answer.get("Records") or []
            if records and not await self._hand_on(shard, records):
                return  # stopping: the rest is read again after the checkpoint
            iterator = answer.get("NextShardIterator")
            if not records:
                await asyncio.sleep(idle)

    async def _iterator(self, kinesis, shard: str) -> str:
        position = self.positions.get(shard)
        if position:
            try:
                answer = await kinesis.get_shard_iterator(StreamName=self.cc.streamName, ShardId=shard,
                                                          ShardIteratorType="AFTER_SEQUENCE_NUMBER",
                                                          StartingSequenceNumber=position)
                return answer["ShardIterator"]
            except ClientError as exc:
                if error_code(exc) != "InvalidArgumentException":
                    raise
                log.warning("%s shard %s does not know checkpoint %s; starting at %s", _what(self.cc), shard,
                            position, self.cc.initialPositionInStream)
        start = {"ShardIteratorType": self.cc.initialPositionInStream}
        if self.cc.initialPositionInStream == "AT_TIMESTAMP":
            start["Timestamp"] = datetime.datetime.fromtimestamp(self.cc.initialTimestamp / 1000, datetime.UTC)
        answer = await kinesis.get_shard_iterator(StreamName=self.cc.streamName, ShardId=shard, **start)
        return answer["ShardIterator"]

    async def _hand_on(self, shard: str, records: list[dict]) -> bool:
        """Queue one read's records, then checkpoint the last of those queued in order."""
        self._saving.add(shard)
        try:
            outcomes = await asyncio.gather(*(self._add(shard, record) for record in records),
                                            return_exceptions=True)
            queued = 0
            for ok in outcomes:
                if ok is not True:
                    break
                queued += 1
            if queued:
                position = records[queued - 1]["SequenceNumber"]
                await self.checkpoints.save(self.stream_key, shard, position)
                self.positions[shard] = position
                self.checkpointed += queued
            return queued == len(records)
        finally:
            self._saving.discard(shard)

    def _add(self, shard: str, record: dict):
        payload = bytes(record.get("Data") or b"")
        metadata = {**self.metadata, "streamName": self.cc.streamName, "shardId": shard,
                    "partitionKey": record.get("PartitionKey", ""), "sequenceNumber": record["SequenceNumber"]}
        uplink = RawUplink(self.integration_id, payload, metadata, now_ms(), _content_type(payload))
        return self.batcher.add_and_wait(uplink)

    async def publish(self, downlink: Downlink) -> None:
        stream = downlink.metadata.get("streamName")
        if not stream:
            raise IntegrationError("AWS Kinesis downlink has no stream: the encoder must return metadata.streamName "
                                   "(and metadata.partitionKey)", permanent=True)
        kinesis = self.connection()
        key = downlink.metadata.get("partitionKey") or downlink.device_name or "default"
        try:
            await asyncio.wait_for(kinesis.put_record(StreamName=stream, Data=downlink.payload, PartitionKey=key),
                                   PUBLISH_TIMEOUT)
        except Exception as exc:
            message, permanent = describe(f"Putting the downlink to AWS Kinesis stream {stream} failed", exc)
            raise IntegrationError(message, permanent=permanent) from None

