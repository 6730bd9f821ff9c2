"""The AWS_KINESIS integration against real local peers (aws_peers.py): kinesalite (npm, an
independent Kinesis implementation; the primary peer) and moto in server mode (the second peer,
and the one that checks credentials). Neither is AWS itself.

Records of every shard with their metadata, checkpoints saved in the database only after
queueing, a listener stopped or SIGKILLed mid-stream resuming after its last checkpoint (no gap,
at least once), reconnection after the peer restarts, downlinks read back, a missing stream and
a wrong secret refused clearly, and the whole path from ``POST /api/integration`` through the
listener host to stored telemetry. Every test uses its own streams (random names).
"""

import asyncio
import json
import subprocess
import sys
import uuid

import pytest

from integrations.listeners.aws_kinesis import KinesisListener, probe
from integrations.messages import Downlink
from integrations.tests.aws_peers import Kinesalite, MotoServer, aws_client, kinesalite_module, running
from integrations.tests.brokers import RecordingSink, free_port, wait_until
from integrations.tests.processes import ROOT
from integrations.tests.test_aws_sqs import run, until
from integrations.types.aws import AwsKinesisIntegration, KinesisConfig
from integrations.types.base import ConfigError, IntegrationError


@pytest.fixture(params=["kinesalite", "moto"])
def peer(request):
    """Each peer in turn: kinesalite, then moto server."""
    return request.getfixturevalue(request.param)


def name(prefix: str = "tbk") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def config(server, stream: str, **extra) -> dict:
    key = getattr(server, "key", ("testing", "testing"))
    return {"clientConfiguration": {"streamName": stream, "region": "us-east-1", "accessKeyId": key[0],
                                    "secretAccessKey": key[1], "endpointUrl": server.url,
                                    "initialPositionInStream": "TRIM_HORIZON", "maxRecords": 50,
                                    "idleTimeBetweenReadsInMillis": 200, "useCredentialsFromInstanceMetadata": False,
                                    "useConsumersWithEnhancedFanOut": False, "requestTimeout": 10, **extra}}


async def make_stream(server, shards: int = 2, stream: str | None = None) -> str:
    stream = stream or name()
    async with aws_client("kinesis", server.url, getattr(server, "key", ("testing", "testing"))) as kinesis:
        await kinesis.create_stream(StreamName=stream, ShardCount=shards)
        for _ in range(100):
            if (await kinesis.describe_stream_summary(StreamName=stream))[
                    "StreamDescriptionSummary"]["StreamStatus"] == "ACTIVE":
                break
            await asyncio.sleep(0.05)
    return stream


async def put(server, stream: str, records) -> None:
    async with aws_client("kinesis", server.url, getattr(server, "key", ("testing", "testing"))) as kinesis:
        for key, data in records:
            await kinesis.put_record(StreamName=stream, Data=data, PartitionKey=key)


class MemoryCheckpoints:
    """The checkpoint store's interface in memory, for tests that are about reading, not storing;
    ``saved`` holds the positions of the stream key saved last."""

    def __init__(self):
        self.streams: dict[str, dict[str, str]] = {}
        self.saved: dict[str, str] = {}

    async def load(self, stream):
        return dict(self.streams.get(stream, {}))

    async def save(self, stream, shard, position):
        self.saved = self.streams.setdefault(stream, {})
        self.saved[shard] = position


def listening(configuration: dict, sink, *, checkpoints=None, integration_id: str = "i-1",
              stop_timeout: float = 5.0):
    """A running listener; ``checkpoints`` "database" is the real store, else a MemoryCheckpoints."""
    listener = KinesisListener(KinesisConfig.model_validate(configuration), sink, integration_id=integration_id,
                               metadata={"integrationName": "kinesis-test"},
                               checkpoints=None if checkpoints == "database" else checkpoints or MemoryCheckpoints())
    return running(listener, stop_timeout=stop_timeout)


def test_it_hands_on_the_records_of_every_shard_with_metadata_and_checkpoints_them(peer):
    sink, checkpoints = RecordingSink(), MemoryCheckpoints()

    async def scenario():
        stream = await make_stream(peer)
        await put(peer, stream, [(f"meter-{i}", b'{"t": %d}' % i) for i in range(20)])
        async with listening(config(peer, stream), sink, checkpoints=checkpoints) as listener:
            await sink.wait_for(20)
            await until(lambda: listener.checkpointed == 20, message="the checkpoints")
        return stream

    stream = run(scenario())
    assert sorted(u.payload for u in sink.uplinks) == sorted(b'{"t": %d}' % i for i in range(20))
    shards = {u.metadata["shardId"] for u in sink.uplinks}
    assert len(shards) == 2  # 20 partition keys spread over both shards
    first = next(u for u in sink.uplinks if u.payload == b'{"t": 0}')
    assert first.content_type == "JSON" and first.integration_id == "i-1"
    assert set(first.metadata) == {"integrationName", "streamName", "shardId", "partitionKey", "sequenceNumber"}
    assert (first.metadata["streamName"], first.metadata["partitionKey"]) == (stream, "meter-0")
    last = {shard: max((u for u in sink.uplinks if u.metadata["shardId"] == shard),
                       key=lambda u: int(u.metadata["sequenceNumber"])).metadata["sequenceNumber"] for u in sink.uplinks
            for shard in [u.metadata["shardId"]]}
    assert checkpoints.saved == last  # each shard checkpointed at its last queued record


def test_nothing_is_checkpointed_while_the_queue_refuses_and_the_next_listener_reads_it(kinesalite):
    stuck, second, checkpoints = RecordingSink(), RecordingSink(), MemoryCheckpoints()

    async def scenario():
        stream = await make_stream(kinesalite, shards=1)
        await put(kinesalite, stream, [("k", b"precious")])
        stuck.block = asyncio.Event()
        async with listening(config(kinesalite, stream), stuck, checkpoints=checkpoints, stop_timeout=0.3):
            await until(lambda: stuck.calls >= 1, message="the hand-over")
        assert checkpoints.saved == {}
        async with listening(config(kinesalite, stream), second, checkpoints=checkpoints) as listener:
            await second.wait_for(1)
            await until(lambda: listener.checkpointed == 1, message="the checkpoint")

    run(scenario())
    assert stuck.uplinks == [] and [u.payload for u in second.uplinks] == [b"precious"]


@pytest.mark.django_db(transaction=True)
def test_checkpoints_are_kept_in_the_database_and_a_restarted_listener_resumes_after_them(kinesalite, tenant):
    """The real store: a listener reads 30 records and stops; 20 more are put; a new listener of
    the same integration reads exactly those 20, none again, none skipped."""
    from integrations.tests.factories import make_integration

    stream = run(make_stream(kinesalite))
    integration = make_integration(tenant, "Kinesis", kind="AWS_KINESIS", configuration=config(kinesalite, stream))
    first, second = RecordingSink(), RecordingSink()
    configuration = config(kinesalite, stream)

    async def scenario():
        await put(kinesalite, stream, [(f"k{i}", b"%d" % i) for i in range(30)])
        async with listening(configuration, first, checkpoints="database", integration_id=str(integration.pk)) as one:
            await first.wait_for(30)
            await until(lambda: one.checkpointed == 30, message="the checkpoints")
        await put(kinesalite, stream, [(f"k{i}", b"%d" % i) for i in range(30, 50)])
        async with listening(configuration, second, checkpoints="database", integration_id=str(integration.pk)) as two:
            await second.wait_for(20)
            await until(lambda: two.checkpointed == 20, message="the checkpoints")
            await asyncio.sleep(0.5)  # nothing more comes

    run(scenario())
    assert sorted(int(u.payload) for u in first.uplinks) == list(range(30))
    assert sorted(int(u.payload) for u in second.uplinks) == list(range(30, 50))
    saved = positions(integration, stream)
    assert len(saved) == 2 and all(position.isdigit() for position in saved.values())


def positions(integration, stream: str) -> dict[str, str]:
    """The checkpoints saved for ``stream`` (keyed by its name and creation time)."""
    from integrations.models import StreamCheckpoint

    rows = StreamCheckpoint.objects.filter(integration=integration, stream__startswith=f"{stream}@")
    return dict(rows.values_list("shard", "position"))


@pytest.mark.django_db
def test_loading_a_streams_checkpoints_drops_those_of_its_older_incarnations(tenant):
    from integrations.checkpoints import load, save
    from integrations.tests.factories import make_integration

    integration = make_integration(tenant, "Kinesis", kind="AWS_KINESIS", configuration={})
    save(integration.pk, "s@1000", "shardId-0", "41")
    save(integration.pk, "s@1000", "shardId-0", "42")  # an update, not a second row
    save(integration.pk, "s-other@1000", "shardId-0", "7")
    assert load(integration.pk, "s@1000") == {"shardId-0": "42"}
    assert load(integration.pk, "s@2000") == {}  # made again: starts afresh
    assert load(integration.pk, "s@1000") == {} and load(integration.pk, "s-other@1000") == {"shardId-0": "7"}


@pytest.mark.django_db(transaction=True)
def test_a_listener_killed_mid_stream_resumes_after_its_last_checkpoint(kinesalite, tenant, tmp_path):
    """The first listener runs in a process of its own (checkpoints in this test's database) and
    is SIGKILLed mid-stream; the second resumes after the checkpoints it left: every record is
    handed on, and only records after a checkpoint are handed on twice."""
    from django.db import connection

    from integrations.tests.factories import make_integration

    total, out, log = 300, tmp_path / "killed.txt", tmp_path / "child.log"
    stream = run(make_stream(kinesalite))
    configuration = config(kinesalite, stream, maxRecords=10)
    integration = make_integration(tenant, "Kinesis", kind="AWS_KINESIS", configuration=configuration)
    run(put(kinesalite, stream, [(f"k{i}", b"%d" % i) for i in range(total)]))
    child = subprocess.Popen([sys.executable, "-m", "integrations.tests.aws_child", "kinesis",
                              json.dumps(configuration), str(out), connection.settings_dict["NAME"],
                              str(integration.pk)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    try:
        wait_until(lambda: out.exists() and len(out.read_bytes().split()) >= 60 and positions(integration, stream),
                   60, message=f"the child's uplinks and checkpoints ({log})")
    finally:
        child.kill()  # SIGKILL: whatever it queued after its last checkpoint is read again
        child.wait(5)
    killed = [int(line) for line in out.read_bytes().split()]
    left_at = positions(integration, stream)
    second = RecordingSink()

    async def scenario():
        async with listening(configuration, second, checkpoints="database", integration_id=str(integration.pk)) as two:
            await until(lambda: set(killed) | {int(u.payload) for u in second.uplinks} == set(range(total)), 40,
                        message="every record")
            await until(lambda: two.checkpointed == len(second.uplinks), message="the checkpoints")

    run(scenario(), 90)
    seen = killed + [int(u.payload) for u in second.uplinks]
    assert set(seen) == set(range(total)) and len(killed) < total
    for shard, position in left_at.items():  # resumed right after the checkpoint: no gap, nothing before it again
        resumed = [u for u in second.uplinks if u.metadata["shardId"] == shard]
        assert all(int(u.metadata["sequenceNumber"]) > int(position) for u in resumed)
    duplicates = len(seen) - total
    assert 0 <= duplicates <= 2 * 10  # at most one uncheckpointed read (maxRecords) per shard


@pytest.mark.parametrize("kind", ["kinesalite", "moto"])
def test_it_reconnects_after_the_peer_restarts_and_new_records_flow(kind):
    """Both peers keep their streams in memory: after the restart the stream is made again (a new
    incarnation: moto's sequence numbers start again at 1), the old checkpoints are left behind,
    and the listener reads the new stream from TRIM_HORIZON."""
    server = Kinesalite(kinesalite_module()).start() if kind == "kinesalite" else MotoServer().start()
    sink, checkpoints = RecordingSink(), MemoryCheckpoints()
    try:
        async def scenario():
            stream = await make_stream(server, shards=1)
            async with listening(config(server, stream), sink, checkpoints=checkpoints) as listener:
                await put(server, stream, [("k", b"before")])
                await sink.wait_for(1)
                await until(lambda: listener.checkpointed == 1, message="the checkpoint")
                server.kill()
                await until(lambda: any(r.get("error") for r in sink.reports), 30, message="the outage report")
                await asyncio.to_thread(server.start)
                await make_stream(server, shards=1, stream=stream)
                await put(server, stream, [("k", b"after")])
                await until(lambda: listener.connected.is_set(), 40, message="the reconnection")
                await sink.wait_for(2, timeout=20)

        run(scenario(), 120)
    finally:
        server.stop()
    assert [u.payload for u in sink.uplinks] == [b"before", b"after"]
    outage = next(r["error"] for r in sink.reports if r.get("error"))
    assert outage.startswith("Failed to read AWS Kinesis stream tbk-")
    assert sink.reports[-1] == {"connected": True, "error": ""}


def test_a_downlink_is_put_to_the_stream_its_encoder_names(peer):
    async def scenario():
        uplinks, downlinks = await make_stream(peer, shards=1), await make_stream(peer, shards=1)
        async with listening(config(peer, uplinks), RecordingSink()) as listener:
            await listener.publish(Downlink("i-1", "kitchen", b'{"version": "0.11"}', "JSON",
                                            metadata={"streamName": downlinks, "partitionKey": "1234"}))
            await listener.publish(Downlink("i-1", "kitchen", b"v2", "TEXT", metadata={"streamName": downlinks}))
            with pytest.raises(IntegrationError) as no_stream:
                await listener.publish(Downlink("i-1", "kitchen", b"x", "TEXT"))
        async with aws_client("kinesis", peer.url, getattr(peer, "key", ("testing", "testing"))) as kinesis:
            shard = (await kinesis.list_shards(StreamName=downlinks))["Shards"][0]["ShardId"]
            iterator = (await kinesis.get_shard_iterator(StreamName=downlinks, ShardId=shard,
                                                         ShardIteratorType="TRIM_HORIZON"))["ShardIterator"]
            return (await kinesis.get_records(ShardIterator=iterator))["Records"], no_stream.value

    records, no_stream = run(scenario())
    assert [(r["Data"], r["PartitionKey"]) for r in records] == [(b'{"version": "0.11"}', "1234"), (b"v2", "kitchen")]
    assert no_stream.permanent and "metadata.streamName" in no_stream.message


def test_a_missing_stream_and_an_unreachable_endpoint_are_named(kinesalite):
    missing = config(kinesalite, name())
    with pytest.raises(IntegrationError) as absent:
        run(probe(KinesisConfig.model_validate(missing)))
    assert absent.value.permanent and absent.value.message.startswith("Failed to connect to AWS Kinesis stream tbk-")
    assert "not found" in absent.value.message
    with pytest.raises(IntegrationError) as refused:
        run(KinesisListener(KinesisConfig.model_validate(missing), RecordingSink(), metadata={},
                            integration_id="i", checkpoints=MemoryCheckpoints()).start())
    assert refused.value.message == absent.value.message
    port = free_port()
    with pytest.raises(IntegrationError) as unreachable:
        run(probe(KinesisConfig.model_validate(config(kinesalite, "s", endpointUrl=f"http://127.0.0.1:{port}"))))
    assert not unreachable.value.permanent and "cannot reach" in unreachable.value.message




def test_a_wrong_secret_is_refused_clearly(moto_iam):
    stream = run(make_stream(moto_iam, shards=1))
    run(probe(KinesisConfig.model_validate(config(moto_iam, stream))))  # the right key passes
    wrong = config(moto_iam, stream, secretAccessKey="not-the-secret")
    with pytest.raises(IntegrationError) as refused:
        run(probe(KinesisConfig.model_validate(wrong)))
    assert refused.value.permanent and "AWS refused the credentials" in refused.value.message
    unknown = config(moto_iam, stream, accessKeyId="AKIAUNKNOWN")
    with pytest.raises(IntegrationError, match=r"AWS refused the credentials \(InvalidClientTokenId"):
        run(probe(KinesisConfig.model_validate(unknown)))


def test_the_configuration_has_thingsboards_keys_and_is_validated():
    cc = KinesisConfig.model_validate({"clientConfiguration": {
        "streamName": "s", "accessKeyId": "A", "secretAccessKey": "S"}}).clientConfiguration
    assert (cc.region, cc.initialPositionInStream, cc.maxRecords, cc.requestTimeout, cc.applicationName,
            cc.useCredentialsFromInstanceMetadata, cc.useConsumersWithEnhancedFanOut) == (
        "us-east-1", "LATEST", 10000, 30, "", False, False)
    assert KinesisConfig.model_validate({"clientConfiguration": {  # no keys: the instance's role
        "streamName": "s", "useCredentialsFromInstanceMetadata": True}})
    with pytest.raises(ConfigError, match="accessKeyId and secretAccessKey are required"):
        AwsKinesisIntegration.validate({"clientConfiguration": {"streamName": "s"}})
    with pytest.raises(ConfigError, match="AT_TIMESTAMP needs initialTimestamp"):
        AwsKinesisIntegration.validate({"clientConfiguration": {"streamName": "s", "accessKeyId": "A",
                                                                "secretAccessKey": "S",
                                                                "initialPositionInStream": "AT_TIMESTAMP"}})
    with pytest.raises(ConfigError, match="configuration.clientConfiguration.initialPositionInStream"):
        AwsKinesisIntegration.validate({"clientConfiguration": {"streamName": "s", "accessKeyId": "A",
                                                                "secretAccessKey": "S",
                                                                "initialPositionInStream": "OLDEST"}})
    with pytest.raises(ConfigError, match="configuration.clientConfiguration.maxRecords"):
        AwsKinesisIntegration.validate({"clientConfiguration": {"streamName": "s", "accessKeyId": "A",
                                                                "secretAccessKey": "S", "maxRecords": 0}})
