"""AWS SNS, AWS SQS and Google Pub/Sub publish nodes against real local peers: moto in server mode
(a separate HTTP server speaking the SNS/SQS wire protocols with SigV4; with IAM it refuses a wrong
key) and Google's pstest fake (not the Pub/Sub service nor Google's emulator) reached through
``PUBSUB_EMULATOR_HOST``. Peers come from integrations/tests (aws_peers.py, peers.py,
test_pubsub.py); a test skips, saying why, where one cannot start. The AWS nodes reach moto through
the optional ``endpointUrl`` key; ThingsBoard's own keys are as its export writes them."""

import asyncio
import hashlib
import json
import socket
import uuid

import pytest

from integrations.tests.aws_peers import aws_client
from integrations.tests.conftest import moto, moto_iam  # noqa: F401  (module-scoped peer fixtures)
from rulechains import engine
from rulechains.models import RuleNode
from rulechains.nodes.base import ConfigError, NodeContext
from rulechains.tests.helpers import chain_json, events_of, install_root, make_node, msg, node
from tbproject.clock import now_ms
from tbproject.testing.factories import make_device

pubsub_v1 = pytest.importorskip("google.cloud.pubsub_v1", reason="google-cloud-pubsub (requirements.txt) is missing")

from integrations.tests.peers import Pstest  # noqa: E402
from integrations.tests.test_pubsub import KEY, PROJECT, create, pull  # noqa: E402
from rulechains import nodes  # noqa: E402

_TB = "org.thingsboard.rule.engine."
SNS, SQS, PUBSUB = _TB + "aws.sns.TbSnsNode", _TB + "aws.sqs.TbSqsNode", _TB + "gcp.pubsub.TbPubSubNode"


@pytest.fixture(scope="module")
def fake():
    """Google's pstest fake for the module; PUBSUB_EMULATOR_HOST points Google's clients at it."""
    server = Pstest().start()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("PUBSUB_EMULATOR_HOST", server.address)
        yield server
    server.stop()


@pytest.fixture
def device(tenant):
    return make_device(tenant, "pump-1")


def keys(server, **extra) -> dict:
    """ThingsBoard's AWS keys (region, key id, secret) plus our endpointUrl pointing at ``server``."""
    key_id, secret = server.key
    return {"accessKeyId": key_id, "secretAccessKey": secret, "region": "us-east-1", "endpointUrl": server.url, **extra}


def ctx(tenant):
    return NodeContext(tenant.pk, now_ms())


def run(tenant, kind, msgs, **configuration):
    return make_node(tenant, kind, **configuration).process_batch(ctx(tenant), msgs)


def publish_chain(tenant, node_type, **configuration):
    """switch -> publish node (debug) -> log on Failure, as a user would build it."""
    return install_root(tenant, [
        node(nodes.SWITCH, "switch"), node(node_type, "publish", True, **configuration), node(nodes.LOG, "failed"),
    ], [(0, 1, "Post telemetry"), (1, 2, "Failure")])


def outs(chain):
    return [(e["relationType"], json.loads(e["metadata"]), e.get("error"))
            for e in events_of(chain.nodes.get(index=1), "OUT")]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# --- AWS helpers (read back from the peer) ------------------------------------------------------

async def _queue(server, name, **attributes) -> str:
    async with aws_client("sqs", server.url, server.key) as sqs:
        return (await sqs.create_queue(QueueName=name, Attributes=attributes))["QueueUrl"]


async def _topic_to_queue(server, name) -> tuple[str, str]:
    """A topic and a queue subscribed to it with raw delivery: (topic ARN, queue URL)."""
    url = await _queue(server, f"{name}-q")
    async with aws_client("sns", server.url, server.key) as sns, aws_client("sqs", server.url, server.key) as sqs:
        arn = (await sns.create_topic(Name=name))["TopicArn"]
        queue_arn = (await sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"]))["Attributes"]
        await sns.subscribe(TopicArn=arn, Protocol="sqs", Endpoint=queue_arn["QueueArn"],
                            Attributes={"RawMessageDelivery": "true"})
    return arn, url


async def _receive(server, url, count) -> list[dict]:
    got = []
    async with aws_client("sqs", server.url, server.key) as sqs:
        for _ in range(20):
            answer = await sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                               MessageAttributeNames=["All"], AttributeNames=["All"])
            got += answer.get("Messages", [])
            if len(got) >= count:
                break
    return got


# --- SNS ----------------------------------------------------------------------------------------

def test_the_sns_node_publishes_to_the_topic_of_its_pattern_and_adds_thingsboards_metadata(tenant, device, moto):  # noqa: F811
    name = f"tb-{uuid.uuid4().hex[:8]}"
    arn, url = asyncio.run(_topic_to_queue(moto, name))
    chain = publish_chain(tenant, SNS, topicArnPattern=arn.rpartition(":")[0] + ":${topic}", **keys(moto))
    engine.process([msg(tenant, device, data={"t": i}, metadata={"topic": name}) for i in range(3)])
    got = asyncio.run(_receive(moto, url, 3))
    assert sorted(json.loads(m["Body"])["t"] for m in got) == [0, 1, 2]
    results = outs(chain)
    assert [r for r, _, _ in results] == ["Success"] * 3
    assert len({m["messageId"] for _, m, _ in results}) == 3 and "" not in {m["messageId"] for _, m, _ in results}
    assert all(m["topic"] == name and m["requestId"] and "error" not in m for _, m, _ in results)


def test_an_unknown_sns_topic_fails_only_its_message(tenant, device, moto):  # noqa: F811
    name = f"tb-{uuid.uuid4().hex[:8]}"
    arn, url = asyncio.run(_topic_to_queue(moto, name))
    prefix = arn.rpartition(":")[0]
    [[bad], [good]] = run(tenant, SNS, [msg(tenant, device, metadata={"topic": "nope"}),
                                        msg(tenant, device, metadata={"topic": name})],
                          topicArnPattern=prefix + ":${topic}", **keys(moto))
    assert bad.relation == "Failure" and f"Failed to publish to SNS topic {prefix}:nope" in bad.error
    assert bad.msg.metadata["error"] == bad.error and bad.msg.metadata["topic"] == "nope"
    assert good.relation == "Success" and good.msg.metadata["messageId"]
    assert len(asyncio.run(_receive(moto, url, 1))) == 1


def test_the_sns_node_fails_with_the_reason_when_aws_refuses_the_key(tenant, device, moto_iam):  # noqa: F811
    asyncio.run(_topic_to_queue(moto_iam, "refused"))
    configuration = keys(moto_iam, secretAccessKey="wrong")
    [[out], [other]] = run(tenant, SNS, [msg(tenant, device), msg(tenant, device)],
                           topicArnPattern="arn:aws:sns:us-east-1:123456789012:refused", **configuration)
    assert out.relation == other.relation == "Failure"
    assert "refused the credentials" in out.error and "wrong" not in out.error
    [[ok]] = run(tenant, SNS, [msg(tenant, device)], topicArnPattern="arn:aws:sns:us-east-1:123456789012:refused",
                 **keys(moto_iam))
    assert ok.relation == "Success", ok.error


def test_the_sns_node_fails_when_the_endpoint_cannot_be_reached(tenant, device):
    [[out]] = run(tenant, SNS, [msg(tenant, device)], topicArnPattern="arn:aws:sns:us-east-1:1:t",
                  accessKeyId="k", secretAccessKey="s", region="us-east-1",
                  endpointUrl=f"http://127.0.0.1:{closed_port()}")
    assert out.relation == "Failure" and "cannot reach" in out.error


def test_the_sns_node_refuses_configurations_it_cannot_run(tenant):
    cls = nodes.get_node(SNS)
    assert cls.defaults == {"topicArnPattern": "arn:aws:sns:us-east-1:123456789012:MyNewTopic", "accessKeyId": None,
                            "secretAccessKey": None, "region": "us-east-1"}
    with pytest.raises(ConfigError, match="accessKeyId and secretAccessKey are required"):
        cls.clean_config(dict(cls.defaults))
    with pytest.raises(ConfigError, match="topicArnPattern"):
        make_node(tenant, SNS, accessKeyId="k", secretAccessKey="s", region="us-east-1")
    with pytest.raises(ConfigError, match="region"):
        make_node(tenant, SNS, topicArnPattern="t", accessKeyId="k", secretAccessKey="s", region="US East!")


# --- SQS ----------------------------------------------------------------------------------------

def test_the_sqs_node_sends_with_attributes_and_adds_thingsboards_metadata(tenant, device, moto):  # noqa: F811
    url = asyncio.run(_queue(moto, f"tb-{uuid.uuid4().hex[:8]}"))
    outs_ = run(tenant, SQS, [msg(tenant, device, data={"t": i}, metadata={"deviceName": "pump-1", "q": url})
                              for i in range(2)],
                queueType="STANDARD", queueUrlPattern="${q}", delaySeconds=0,
                messageAttributes={"device": "${deviceName}", "$[t]": "value"}, **keys(moto))
    assert [o.relation for [o] in outs_] == ["Success", "Success"], outs_
    got = asyncio.run(_receive(moto, url, 2))
    assert sorted(m["Body"] for m in got) == ['{"t":0}', '{"t":1}']
    first = next(m for m in got if m["Body"] == '{"t":0}')
    assert first["MessageAttributes"]["device"] == {"StringValue": "pump-1", "DataType": "String"}
    assert first["MessageAttributes"]["0"]["StringValue"] == "value"
    [out] = outs_[0]
    metadata = out.msg.metadata
    assert metadata["messageBodyMd5"] == hashlib.md5(b'{"t":0}').hexdigest()
    assert metadata["messageId"] == first["MessageId"] and metadata["requestId"] and metadata["messageAttributesMd5"]
    assert "sequenceNumber" not in metadata and metadata["deviceName"] == "pump-1"


def test_a_fifo_queue_gets_the_originator_as_group_and_a_deduplication_id_per_message(tenant, device, moto):  # noqa: F811
    url = asyncio.run(_queue(moto, f"tb-{uuid.uuid4().hex[:8]}.fifo", FifoQueue="true"))
    same = {"t": 1}
    outs_ = run(tenant, SQS, [msg(tenant, device, data=same), msg(tenant, device, data=same)], queueType="FIFO",
                queueUrlPattern=url, delaySeconds=0, messageAttributes={}, **keys(moto))
    assert [o.relation for [o] in outs_] == ["Success", "Success"], outs_
    assert all(o.msg.metadata["sequenceNumber"] for [o] in outs_)
    got = asyncio.run(_receive(moto, url, 2))
    assert len(got) == 2  # equal messages are two messages: each has its own deduplication id
    assert {m["Attributes"]["MessageGroupId"] for m in got} == {str(device.pk)}
    assert len({m["Attributes"]["MessageDeduplicationId"] for m in got}) == 2


def test_a_missing_queue_or_a_refused_key_fails_only_those_messages(tenant, device, moto_iam):  # noqa: F811
    url = asyncio.run(_queue(moto_iam, f"tb-{uuid.uuid4().hex[:8]}"))
    missing = url.rpartition("/")[0] + "/no-such-queue"
    outs_ = run(tenant, SQS, [msg(tenant, device, metadata={"q": missing}), msg(tenant, device, metadata={"q": url})],
                queueType="STANDARD", queueUrlPattern="${q}", delaySeconds=0, messageAttributes={}, **keys(moto_iam))
    assert [o.relation for [o] in outs_] == ["Failure", "Success"]
    assert outs_[0][0].error.startswith(f"Failed to send to SQS queue {missing}:")
    [[refused]] = run(tenant, SQS, [msg(tenant, device)], queueType="STANDARD", queueUrlPattern=url,
                      **keys(moto_iam, accessKeyId="AKIAWRONG"))
    assert refused.relation == "Failure" and "refused the credentials" in refused.msg.metadata["error"]
    assert len(asyncio.run(_receive(moto_iam, url, 1))) == 1


def test_the_sqs_node_refuses_configurations_it_cannot_run(tenant):
    cls = nodes.get_node(SQS)
    assert cls.defaults["queueType"] == "STANDARD" and cls.defaults["delaySeconds"] == 0
    assert cls.defaults["queueUrlPattern"] == "https://sqs.us-east-1.amazonaws.com/123456789012/my-queue-name"
    good = {"queueUrlPattern": "u", "accessKeyId": "k", "secretAccessKey": "s"}
    with pytest.raises(ConfigError, match="queueType"):
        cls.clean_config({**good, "queueType": "fifo"})
    with pytest.raises(ConfigError, match="delaySeconds"):
        cls.clean_config({**good, "delaySeconds": 901})
    with pytest.raises(ConfigError, match="messageAttributes"):
        cls.clean_config({**good, "messageAttributes": ["a"]})
    assert cls.clean_config({**good, "queueType": None, "messageAttributes": None})["queueType"] == "STANDARD"


# --- Pub/Sub ------------------------------------------------------------------------------------

def pubsub_config(topic, **extra):
    return {"projectId": PROJECT, "topicName": topic, "serviceAccountKey": KEY,
            "serviceAccountKeyFileName": "key.json", "messageAttributes": {}, **extra}


def test_the_pubsub_node_publishes_the_data_with_its_attributes(tenant, device, fake):
    topic, subscription = f"tbn-{uuid.uuid4().hex[:8]}", f"tbs-{uuid.uuid4().hex[:8]}"
    create(topic, subscription)
    chain = publish_chain(tenant, PUBSUB, **pubsub_config(topic, messageAttributes={"device": "${deviceName}",
                                                                                     "kind": "$[kind]"}))
    engine.process([msg(tenant, device, data={"kind": "a", "t": i}, metadata={"deviceName": "pump-1"})
                    for i in range(3)])
    got = pull(subscription, 3)
    assert sorted(json.loads(m.data)["t"] for m in got) == [0, 1, 2]
    assert dict(got[0].attributes) == {"device": "pump-1", "kind": "a"}
    results = outs(chain)
    assert [r for r, _, _ in results] == ["Success"] * 3
    assert sorted(m["messageId"] for _, m, _ in results) == sorted(m.message_id for m in got)


def test_an_unknown_topic_or_a_refused_attribute_fails_with_the_reason(tenant, device, fake):
    [[out]] = run(tenant, PUBSUB, [msg(tenant, device)], **pubsub_config("no-such-topic"))
    assert out.relation == "Failure" and "the topic was not found" in out.error
    assert f"projects/{PROJECT}/topics/no-such-topic" in out.msg.metadata["error"]
    topic, subscription = f"tbn-{uuid.uuid4().hex[:8]}", f"tbs-{uuid.uuid4().hex[:8]}"
    create(topic, subscription)
    outs_ = run(tenant, PUBSUB, [msg(tenant, device, metadata={"name": "googx"}), msg(tenant, device, metadata={})],
                **pubsub_config(topic, messageAttributes={"${name}": "v"}))
    assert [o.relation for [o] in outs_] == ["Failure", "Success"] and "attribute name" in outs_[0][0].error
    assert [dict(m.attributes) for m in pull(subscription, 1)] == [{"${name}": "v"}]


def test_the_pubsub_node_fails_when_the_endpoint_cannot_be_reached(tenant, device, fake, monkeypatch):
    monkeypatch.setenv("PUBSUB_EMULATOR_HOST", f"127.0.0.1:{closed_port()}")
    outs_ = run(tenant, PUBSUB, [msg(tenant, device), msg(tenant, device)], **pubsub_config("t"))
    assert [o.relation for [o] in outs_] == ["Failure", "Failure"]
    assert "Failed to publish to Pub/Sub topic" in outs_[0][0].error


def test_the_pubsub_node_refuses_configurations_it_cannot_run(tenant):
    cls = nodes.get_node(PUBSUB)
    assert cls.defaults["projectId"] == "my-google-cloud-project-id" and cls.defaults["messageAttributes"] == {}
    with pytest.raises(ConfigError, match="serviceAccountKey"):
        cls.clean_config(dict(cls.defaults))
    with pytest.raises(ConfigError, match="serviceAccountKey: the service account key is not JSON"):
        cls.clean_config(pubsub_config("t", serviceAccountKey="{nope"))
    for not_json in ("9" * 5000, "[" * 100_000):  # json.loads' ValueError without a position, RecursionError
        with pytest.raises(ConfigError, match="serviceAccountKey: the service account key is not JSON$"):
            cls.clean_config(pubsub_config("t", serviceAccountKey=not_json))
    with pytest.raises(ConfigError, match="topicName"):
        cls.clean_config(pubsub_config(""))


# --- secrets ------------------------------------------------------------------------------------

def test_the_cloud_nodes_secrets_are_write_only_in_the_api(api, tenant):
    sns = node(SNS, "sns", topicArnPattern="arn:aws:sns:us-east-1:1:t", accessKeyId="AKIA1", region="us-east-1",
               secretAccessKey="s3cr3t-sns")
    sqs = node(SQS, "sqs", queueType="STANDARD", queueUrlPattern="http://q", delaySeconds=0, messageAttributes={},
               accessKeyId="AKIA2", secretAccessKey="s3cr3t-sqs", region="us-east-1")
    pubsub = node(PUBSUB, "pubsub", **pubsub_config("t"))
    res = api.post("/api/ruleChain/import", chain_json("Clouds", [sns, sqs, pubsub], []), format="json")
    assert res.status_code == 200, res.content
    chain_id = res.json()["ruleChain"]["id"]["id"]
    secret_key = json.loads(KEY)["private_key"][40:80]
    for url in (f"/api/ruleChain/{chain_id}/metadata", f"/api/ruleChain/{chain_id}/export"):
        body = api.get(url).content.decode()
        assert "s3cr3t" not in body and secret_key not in body and "******" in body and "AKIA2" in body, url
    metadata = api.get(f"/api/ruleChain/{chain_id}/metadata").json()
    saved = api.post("/api/ruleChain/metadata", metadata, format="json")
    assert saved.status_code == 200, saved.content
    stored = {n.name: n.configuration for n in RuleNode.objects.filter(rule_chain_id=chain_id)}
    assert stored["sns"]["secretAccessKey"] == "s3cr3t-sns" and stored["pubsub"]["serviceAccountKey"] == KEY
