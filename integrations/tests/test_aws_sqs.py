"""The AWS_SQS integration against a real local peer: moto in server mode (aws_peers.py), a separate
HTTP server on a free port speaking SQS with SigV4 (a reimplementation of AWS, not AWS itself).

Messages with their metadata, deletion only after queueing, a stuck queue and a stopped listener
losing nothing, a listener SIGKILLed mid-stream losing nothing (the visibility timeout hands its
messages to the next one), reconnection after the peer restarts, downlinks read back, refused
credentials (moto with IAM authentication on), and the whole path from ``POST /api/integration``
through the listener host to stored telemetry. Every test uses its own queues (random names).
"""

import asyncio
import json
import subprocess
import sys
import uuid

import pytest

from integrations.listeners.aws_sqs import SqsListener, probe
from integrations.messages import Downlink
from integrations.tests.aws_peers import MotoServer, aws_client, running
from integrations.tests.brokers import RecordingSink, free_port, wait_until
from integrations.tests.processes import ROOT
from integrations.types.aws import AwsSqsIntegration, SqsConfig
from integrations.types.base import ConfigError, IntegrationError


def run(coroutine, timeout: float = 60):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def name(prefix: str = "tbsqs") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def config(server: MotoServer, queue_url: str, **extra) -> dict:
    return {"sqsConfiguration": {"queueUrl": queue_url, "pollingPeriodSeconds": 1, "region": "us-east-1",
                                 "accessKeyId": server.key[0], "secretAccessKey": server.key[1],
                                 "endpointUrl": server.url, **extra}}


async def make_queue(server: MotoServer, *, visibility: int = 30) -> str:
    async with aws_client("sqs", server.url, server.key) as sqs:
        answer = await sqs.create_queue(QueueName=name(), Attributes={"VisibilityTimeout": str(visibility)})
        return answer["QueueUrl"]


async def send(server: MotoServer, queue_url: str, bodies, **attributes) -> None:
    bodies = list(bodies)
    entries = [{"Id": str(n), "MessageBody": body, "MessageAttributes": {
        key: {"DataType": "String", "StringValue": value} for key, value in attributes.items()}}
        for n, body in enumerate(bodies)]
    async with aws_client("sqs", server.url, server.key) as sqs:
        for start in range(0, len(entries), 10):  # SQS takes 10 a call
            answer = await sqs.send_message_batch(QueueUrl=queue_url, Entries=entries[start:start + 10])
            assert not answer.get("Failed"), answer["Failed"]


async def left(server: MotoServer, queue_url: str) -> int:
    """Messages still in the queue, visible or not (not deleted)."""
    async with aws_client("sqs", server.url, server.key) as sqs:
        found = (await sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"]))["Attributes"]
        return int(found["ApproximateNumberOfMessages"]) + int(found["ApproximateNumberOfMessagesNotVisible"])


async def receive_all(server: MotoServer, queue_url: str) -> list[dict]:
    async with aws_client("sqs", server.url, server.key) as sqs:
        answer = await sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=2,
                                           MessageAttributeNames=["All"])
        return answer.get("Messages") or []


async def until(predicate, timeout: float = 15.0, message: str = "condition") -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await _value(predicate):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        await asyncio.sleep(0.05)


async def _value(predicate):
    value = predicate()
    return await value if asyncio.iscoroutine(value) else value


def listening(configuration: dict, sink, *, stop_timeout: float = 5.0):
    listener = SqsListener(SqsConfig.model_validate(configuration), sink, metadata={"integrationName": "sqs-test"},
                           integration_id="i-1")
    return running(listener, stop_timeout=stop_timeout)


def test_it_hands_on_messages_with_metadata_and_deletes_them_only_after_queueing(moto):
    sink = RecordingSink()

    async def scenario():
        queue = await make_queue(moto)
        await send(moto, queue, ['{"t": 1}'], device="meter-1")
        await send(moto, queue, ["plain", "second"])
        async with listening(config(moto, queue), sink) as listener:
            await sink.wait_for(3)
            await until(lambda: listener.deleted == 3, message="the deletes")
        return await left(moto, queue)

    assert run(scenario()) == 0
    first = next(u for u in sink.uplinks if u.payload == b'{"t": 1}')
    assert first.content_type == "JSON" and first.integration_id == "i-1"
    assert set(first.metadata) == {"integrationName", "device", "messageId"}
    assert first.metadata["integrationName"] == "sqs-test" and first.metadata["device"] == "meter-1"
    assert sorted(u.payload for u in sink.uplinks) == sorted([b'{"t": 1}', b"plain", b"second"])
    assert {"connected": True, "error": ""} in sink.reports


def test_nothing_is_deleted_while_the_queue_refuses_and_a_stopped_listener_loses_nothing(moto):
    """The pipeline's queue never answers: the listener stops with the message undeleted and made
    visible again at once, and the next listener gets it."""
    stuck, second = RecordingSink(), RecordingSink()

    async def scenario():
        queue = await make_queue(moto, visibility=600)  # only our release can make it visible soon
        await send(moto, queue, ["precious"])
        stuck.block = asyncio.Event()
        async with listening(config(moto, queue), stuck, stop_timeout=0.3) as listener:
            await until(lambda: stuck.calls >= 1, message="the hand-over")
            assert await left(moto, queue) == 1
        async with listening(config(moto, queue), second) as listener:
            await second.wait_for(1)
            await until(lambda: listener.deleted == 1, message="the delete")
        return await left(moto, queue)

    assert run(scenario()) == 0
    assert stuck.uplinks == [] and [u.payload for u in second.uplinks] == [b"precious"]


def test_messages_waiting_for_a_slow_queue_are_kept_invisible_and_handed_on_once(moto):
    """Queueing takes 3 s while the queue's visibility timeout is 1 s: the listener extends the
    visibility meanwhile, so SQS does not hand the message out again (no duplicate)."""
    slow = RecordingSink()

    async def scenario():
        queue = await make_queue(moto, visibility=1)
        await send(moto, queue, ["slow"])
        slow.block = asyncio.Event()
        async with listening(config(moto, queue), slow) as listener:
            await until(lambda: slow.calls >= 1, message="the hand-over")
            await asyncio.sleep(3)
            assert await left(moto, queue) == 1
            slow.block.set()
            await until(lambda: listener.deleted == 1, message="the delete")
            await asyncio.sleep(1.5)  # a redelivery would be received and handed on by now
        return await left(moto, queue)

    assert run(scenario()) == 0
    assert [u.payload for u in slow.uplinks] == [b"slow"] and slow.calls == 1


def test_a_listener_killed_mid_stream_loses_nothing(moto, tmp_path):
    """The first listener runs in a process of its own and is SIGKILLed mid-stream: what it
    received and had not yet queued and deleted comes back when the visibility timeout (5 s)
    ends, and the second listener hands on everything the first did not."""
    total, out, log = 150, tmp_path / "killed.txt", tmp_path / "child.log"
    queue = run(make_queue(moto, visibility=5))
    run(send(moto, queue, [str(i) for i in range(total)]))
    configuration = config(moto, queue)
    child = subprocess.Popen([sys.executable, "-m", "integrations.tests.aws_child", "sqs", json.dumps(configuration),
                              str(out)], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    try:
        wait_until(lambda: out.exists() and len(out.read_bytes().split()) >= 20, 30,
                   message=f"the child's uplinks ({log})")
    finally:
        child.kill()  # SIGKILL: no drain, no delete, no release
        child.wait(5)
    killed = [int(line) for line in out.read_bytes().split()]
    second = RecordingSink()

    async def scenario():
        async with listening(configuration, second) as listener:
            await until(lambda: set(killed) | {int(u.payload) for u in second.uplinks} == set(range(total)), 40,
                        message="every message")
            await until(lambda: listener.deleted == len(second.uplinks), message="the deletes")
        return await left(moto, queue)

    assert run(scenario(), 90) == 0
    seen = killed + [int(u.payload) for u in second.uplinks]
    assert set(seen) == set(range(total)) and len(killed) < total
    assert len(seen) - total <= len(killed)  # duplicates: only what the killed one queued but had not deleted


def test_it_reconnects_after_the_peer_restarts_and_new_messages_flow(tmp_path):
    """moto keeps its queues in memory: after the restart the queue is made again (same URL), and
    the listener, which reported the outage, picks up the new messages."""
    server = MotoServer().start()
    sink = RecordingSink()
    try:
        async def scenario():
            queue = await make_queue(server)
            async with listening(config(server, queue), sink) as listener:
                await send(server, queue, ["before"])
                await sink.wait_for(1)
                server.kill()
                await until(lambda: not listener.connected.is_set(), message="the outage to be noticed")
                await until(lambda: any(r.get("error") for r in sink.reports), message="the outage report")
                await asyncio.to_thread(server.start)
                async with aws_client("sqs", server.url) as sqs:
                    assert (await sqs.create_queue(QueueName=queue.rsplit("/", 1)[1]))["QueueUrl"] == queue
                await until(lambda: listener.connected.is_set(), 40, message="the reconnection")
                await send(server, queue, ["after"])
                await sink.wait_for(2, timeout=20)

        run(scenario(), 120)
    finally:
        server.stop()
    assert [u.payload for u in sink.uplinks] == [b"before", b"after"]
    outage = next(r["error"] for r in sink.reports if r.get("error"))
    assert outage.startswith(f"Failed to poll AWS SQS queue http://127.0.0.1:{server.port}/")
    assert sink.reports[-1] == {"connected": True, "error": ""}


def test_a_downlink_is_sent_to_its_queue(moto):
    async def scenario():
        uplinks, target, fallback = await make_queue(moto), await make_queue(moto), await make_queue(moto)
        async with listening(config(moto, uplinks, downlinkQueueUrl=fallback), RecordingSink()) as listener:
            await listener.publish(Downlink("i-1", "meter-1", b'{"on": true}', "JSON", metadata={"queueUrl": target}))
            await listener.publish(Downlink("i-1", "meter-2", bytes([0, 255]), "BINARY"))
        with pytest.raises(IntegrationError) as no_queue:
            async with listening(config(moto, uplinks), RecordingSink()) as listener:
                await listener.publish(Downlink("i-1", "meter-1", b"x", "TEXT"))
        return await receive_all(moto, target), await receive_all(moto, fallback), no_queue.value

    to_target, to_fallback, no_queue = run(scenario())
    assert [m["Body"] for m in to_target] == ['{"on": true}']
    assert [m["Body"] for m in to_fallback] == ["AP8="]  # bytes that are no text go base64
    assert to_fallback[0]["MessageAttributes"]["contentEncoding"]["StringValue"] == "base64"
    assert no_queue.permanent and "no metadata.queueUrl" in no_queue.message


def test_a_missing_queue_or_an_unreachable_endpoint_is_named(moto):
    missing = config(moto, f"{moto.url}/123456789012/{name()}")
    with pytest.raises(IntegrationError) as absent:
        run(probe(SqsConfig.model_validate(missing)))
    assert absent.value.permanent and "queue does not exist" in absent.value.message
    with pytest.raises(IntegrationError) as refused:  # the listener does not start on a missing queue
        run(SqsListener(SqsConfig.model_validate(missing), RecordingSink(), metadata={}, integration_id="i").start())
    assert refused.value.message == absent.value.message
    port = free_port()
    dead = config(moto, f"http://127.0.0.1:{port}/123456789012/q", endpointUrl=f"http://127.0.0.1:{port}")
    with pytest.raises(IntegrationError) as unreachable:
        run(probe(SqsConfig.model_validate(dead)))
    assert not unreachable.value.permanent
    assert unreachable.value.message.startswith(f"Failed to connect to AWS SQS queue http://127.0.0.1:{port}/")
    assert "cannot reach" in unreachable.value.message




def test_a_wrong_secret_is_refused_clearly(moto_iam):
    queue = run(make_queue(moto_iam))
    run(probe(SqsConfig.model_validate(config(moto_iam, queue))))  # the right key passes
    wrong = config(moto_iam, queue, secretAccessKey="not-the-secret")
    with pytest.raises(IntegrationError) as refused:
        run(probe(SqsConfig.model_validate(wrong)))
    assert refused.value.permanent
    assert "AWS refused the credentials (SignatureDoesNotMatch" in refused.value.message
    assert "check accessKeyId, secretAccessKey" in refused.value.message
    with pytest.raises(IntegrationError, match="AWS refused the credentials"):
        run(SqsListener(SqsConfig.model_validate(wrong), RecordingSink(), metadata={}, integration_id="i").start())


def test_a_key_revoked_while_running_is_reported_in_the_status(moto_iam):
    """The integration runs with a second key of the user; the key is deleted meanwhile: the next
    poll is refused and the status says so, naming the credentials."""
    sink = RecordingSink()

    async def scenario():
        queue = await make_queue(moto_iam)
        async with aws_client("iam", moto_iam.url, moto_iam.key) as iam:
            key = (await iam.create_access_key(UserName="thingsboard"))["AccessKey"]
        configuration = config(moto_iam, queue, accessKeyId=key["AccessKeyId"], secretAccessKey=key["SecretAccessKey"])
        async with listening(configuration, sink) as listener:
            async with aws_client("iam", moto_iam.url, moto_iam.key) as iam:
                await iam.delete_access_key(UserName="thingsboard", AccessKeyId=key["AccessKeyId"])
            await until(lambda: not listener.connected.is_set(), 20, message="the refusal")
            await until(lambda: any(r.get("error") for r in sink.reports), message="the report")

    run(scenario())
    error = next(r["error"] for r in sink.reports if r.get("error"))
    assert "AWS refused the credentials (InvalidClientTokenId" in error and sink.reports[0]["connected"] is True


def test_the_configuration_has_thingsboards_keys_and_is_validated():
    parsed = SqsConfig.model_validate({"sqsConfiguration": {
        "queueUrl": "https://sqs.eu-west-1.amazonaws.com/1/q", "accessKeyId": "A", "secretAccessKey": "S"}})
    cc = parsed.sqsConfiguration
    assert (cc.pollingPeriodSeconds, cc.region, cc.endpointUrl, cc.downlinkQueueUrl) == (5, "us-east-1", "", "")
    with pytest.raises(ConfigError, match="configuration.sqsConfiguration: Field required"):
        AwsSqsIntegration.validate({})
    with pytest.raises(ConfigError, match="accessKeyId and secretAccessKey are required"):
        AwsSqsIntegration.validate({"sqsConfiguration": {"queueUrl": "https://sqs/1/q"}})
    with pytest.raises(ConfigError, match="configuration.sqsConfiguration.queueUrl"):
        AwsSqsIntegration.validate({"sqsConfiguration": {"queueUrl": "q", "accessKeyId": "A", "secretAccessKey": "S"}})
    with pytest.raises(ConfigError, match="configuration.sqsConfiguration.endpointUrl"):
        AwsSqsIntegration.validate({"sqsConfiguration": {"queueUrl": "https://sqs/1/q", "accessKeyId": "A",
                                                         "secretAccessKey": "S", "endpointUrl": "localhost:4566"}})
    assert AwsSqsIntegration.masked(config(MotoServer(1), "https://sqs/1/q"))["sqsConfiguration"][
        "secretAccessKey"] == "******"
