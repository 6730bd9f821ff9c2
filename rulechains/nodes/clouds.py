"""Cloud publish nodes: AWS SNS, AWS SQS and Google Cloud Pub/Sub (ThingsBoard's
``aws.sns.TbSnsNode``, ``aws.sqs.TbSqsNode`` and ``gcp.pubsub.TbPubSubNode``).

Each batch opens one client, publishes every message of the batch and closes it, as the broker
nodes do (rulechains/nodes/brokers.py). A message the cloud took leaves by Success with the
response fields ThingsBoard adds to the metadata; one it did not leaves by Failure with ``error``
in the metadata, saying why; the other messages of the batch are unaffected.

Local endpoints: ThingsBoard's configurations name no endpoint (its SDKs talk to the region's
or Google's). Ours: an AWS node also reads an optional ``endpointUrl`` (an SNS/SQS-compatible
service such as LocalStack or moto, or a VPC endpoint), as the AWS integrations do; without it,
botocore honours ``AWS_ENDPOINT_URL`` / ``AWS_ENDPOINT_URL_SNS`` / ``AWS_ENDPOINT_URL_SQS`` in the
environment. Google's client honours ``PUBSUB_EMULATOR_HOST`` (the emulator, or Google's pstest
fake), with no credentials.
"""

import asyncio
import uuid

from google.api_core import exceptions as google_errors
from google.api_core import retry as google_retry
from google.cloud import pubsub_v1
from google.pubsub_v1 import PubsubMessage
from pydantic import ValidationError

from integrations.listeners import aws
from integrations.types.aws import AwsAccess
from integrations.types.base import MASK
from integrations.types.pubsub import load_key
from rulechains.messages import FAILURE, SUCCESS, changed
from rulechains.nodes.base import BaseNode, ConfigError, Out, field, substitute
from rulechains.nodes.brokers import _run, payload_of

__all__ = ["SnsNode", "SqsNode", "PubSubNode"]

PUBLISH_TIMEOUT = 10.0
#: requests in flight at once per batch (one client)
WINDOW = 16
_AWS_FIELDS = (field("accessKeyId", "text", "AWS Access Key ID"),
               field("secretAccessKey", "secret", "AWS Secret Access Key"), field("region", "text", "AWS Region"))


class _CloudNode(BaseNode):
    """Subclasses implement ``publish(msgs)``: per message ``(None, metadata to add)`` when the cloud
    took it, ``(error text, {})`` when it did not. An exception from ``publish`` fails the batch."""

    group = "EXTERNAL"
    side_effects = True
    savepoint = False

    def process_batch(self, ctx, msgs):
        try:
            results = self.publish(msgs)
        except Exception as exc:  # no client at all: every message fails with the reason
            results = [(self.describe(exc), {}) for _ in msgs]
        outs = []
        for msg, (error, extra) in zip(msgs, results, strict=True):
            if error is None:
                outs.append([Out(SUCCESS, changed(msg, metadata={**msg.metadata, **extra}))])
            else:
                outs.append([Out(FAILURE, changed(msg, metadata={**msg.metadata, "error": error}), error)])
        return outs

    def publish(self, msgs) -> list:
        raise NotImplementedError

    def describe(self, exc: BaseException) -> str:
        return f"{type(exc).__name__}: {exc}"[:1024]


def _pattern(configuration: dict, key: str) -> str:
    value = configuration.get(key)
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key} must be a non-empty name or pattern")
    return value


def _attributes(configuration: dict) -> dict[str, str]:
    """``messageAttributes``: name pattern -> value pattern, both may use ``${}``/``$[]`` (null: none)."""
    value = configuration.get("messageAttributes")
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError("messageAttributes must be an object of attribute name -> value patterns")
    out = {}
    for name, text in value.items():
        if isinstance(text, bool):
            text = "true" if text else "false"
        if not isinstance(text, (str, int, float)):
            raise ConfigError(f"messageAttributes.{name} must be a text value or pattern")
        out[str(name)] = str(text)
    return out


def _access(configuration: dict) -> AwsAccess:
    """Region and keys, as the AWS integrations take them (integrations/types/aws.py)."""
    values = {"region": configuration.get("region") or "us-east-1",
              "accessKeyId": configuration.get("accessKeyId") or "",
              "secretAccessKey": configuration.get("secretAccessKey") or "",
              "endpointUrl": configuration.get("endpointUrl") or ""}
    try:
        return AwsAccess(**values)
    except ValidationError as e:
        raise ConfigError("; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" if err["loc"] else
                                    err["msg"].removeprefix("Value error, ") for err in e.errors())) from None


class _AwsNode(_CloudNode):
    service = ""
    secret_slots = ("accessKeyId",)

    def publish(self, msgs):
        return _run(lambda: self._publish(msgs))

    def describe(self, exc):
        return aws.describe(f"Failed to publish to AWS {self.service.upper()}", exc)[0]

    async def _publish(self, msgs):
        window = asyncio.Semaphore(WINDOW)
        async with aws.client(self.service, self.config["access"], read_timeout=PUBLISH_TIMEOUT) as client:

            async def one(msg):
                async with window:
                    return await self.send(client, msg)

            return await asyncio.gather(*(one(m) for m in msgs))

    async def send(self, client, msg) -> tuple:
        raise NotImplementedError


class SnsNode(_AwsNode):
    """Publishes each message's data to the SNS topic ``topicArnPattern`` (``${metadataKey}``,
    ``$[dataKey]``) in ``region`` with ``accessKeyId``/``secretAccessKey``. Success adds the
    response's ``messageId`` and ``requestId`` to the metadata."""

    label = "aws sns"
    service = "sns"
    defaults = {"topicArnPattern": "arn:aws:sns:us-east-1:123456789012:MyNewTopic", "accessKeyId": None,
                "secretAccessKey": None, "region": "us-east-1"}
    fields = (field("topicArnPattern", "text", "Topic ARN pattern"), *_AWS_FIELDS)
    secret_fields = ("secretAccessKey",)

    @classmethod
    def clean_config(cls, configuration):
        return {**configuration, "topicArnPattern": _pattern(configuration, "topicArnPattern"),
                "access": _access(configuration)}

    async def send(self, client, msg):
        arn = substitute(self.config["topicArnPattern"], msg)
        try:
            answer = await client.publish(TopicArn=arn, Message=payload_of(msg).decode())
        except Exception as exc:
            return aws.describe(f"Failed to publish to SNS topic {arn}", exc)[0], {}
        return None, {"messageId": answer["MessageId"], "requestId": answer["ResponseMetadata"]["RequestId"]}


QUEUE_TYPES = ("STANDARD", "FIFO")


class SqsNode(_AwsNode):
    """Sends each message's data to the SQS queue ``queueUrlPattern`` with ``messageAttributes``
    (String attributes; names and values may use patterns). A STANDARD queue gets
    ``delaySeconds``; a FIFO queue gets ThingsBoard's message group id (the originator's id) and a
    deduplication id unique per message. Success adds ``messageId``, ``requestId`` and, where SQS
    answers them, ``messageBodyMd5``, ``messageAttributesMd5`` and ``sequenceNumber``."""

    label = "aws sqs"
    service = "sqs"
    defaults = {"queueType": "STANDARD", "queueUrlPattern": "https://sqs.us-east-1.amazonaws.com/123456789012/"
                "my-queue-name", "delaySeconds": 0, "messageAttributes": {}, "accessKeyId": None,
                "secretAccessKey": None, "region": "us-east-1"}
    fields = (field("queueType", "select", "Queue type", choices=QUEUE_TYPES),
              field("queueUrlPattern", "text", "Queue URL pattern"), field("delaySeconds", "number", "Delay (seconds)"),
              field("messageAttributes", "json", "Message attributes"), *_AWS_FIELDS)
    secret_fields = ("secretAccessKey",)

    @classmethod
    def clean_config(cls, configuration):
        queue_type = configuration.get("queueType") or "STANDARD"
        if queue_type not in QUEUE_TYPES:
            raise ConfigError("queueType must be STANDARD or FIFO")
        delay = configuration.get("delaySeconds") or 0
        if isinstance(delay, bool) or not isinstance(delay, int) or not 0 <= delay <= 900:
            raise ConfigError("delaySeconds must be a whole number of seconds from 0 to 900")
        return {**configuration, "queueType": queue_type, "delaySeconds": delay,
                "queueUrlPattern": _pattern(configuration, "queueUrlPattern"),
                "messageAttributes": _attributes(configuration), "access": _access(configuration)}

    def request(self, msg) -> dict:
        attributes = {substitute(k, msg): {"DataType": "String", "StringValue": substitute(v, msg)}
                      for k, v in self.config["messageAttributes"].items()}
        request = {"QueueUrl": substitute(self.config["queueUrlPattern"], msg),
                   "MessageBody": payload_of(msg).decode(), "MessageAttributes": attributes}
        if self.config["queueType"] == "STANDARD":
            request["DelaySeconds"] = self.config["delaySeconds"]
        else:  # ThingsBoard: the message's own id deduplicates, the originator orders
            request.update(MessageDeduplicationId=str(uuid.uuid4()), MessageGroupId=str(msg.originator_id))
        return request

    async def send(self, client, msg):
        request = self.request(msg)
        try:
            answer = await client.send_message(**request)
        except Exception as exc:
            return aws.describe(f"Failed to send to SQS queue {request['QueueUrl']}", exc)[0], {}
        extra = {"messageId": answer["MessageId"], "requestId": answer["ResponseMetadata"]["RequestId"]}
        for key, name in (("MD5OfMessageBody", "messageBodyMd5"), ("MD5OfMessageAttributes", "messageAttributesMd5"),
                          ("SequenceNumber", "sequenceNumber")):
            if answer.get(key):
                extra[name] = answer[key]
        return None, extra


#: ThingsBoard's publisher retry settings: 50 ms growing by 1.1 up to 2 s, 10 s in all
RETRY = google_retry.Retry(
    predicate=google_retry.if_exception_type(google_errors.ServiceUnavailable, google_errors.DeadlineExceeded,
                                             google_errors.Aborted, google_errors.InternalServerError,
                                             google_errors.ResourceExhausted, google_errors.Unknown),
    initial=0.05, multiplier=1.1, maximum=2.0, timeout=PUBLISH_TIMEOUT)
#: Pub/Sub's limits of one publish request and of one message's attributes
MAX_REQUEST_MESSAGES, MAX_REQUEST_BYTES = 1000, 9_000_000
MAX_NAME_BYTES, MAX_VALUE_BYTES = 256, 1024


class PubSubNode(_CloudNode):
    """Publishes each message's data to the topic ``topicName`` of ``projectId`` with
    ``messageAttributes`` (names and values may use patterns), as the service account of
    ``serviceAccountKey`` (the key file's JSON text; ``serviceAccountKeyFileName`` is its name, for
    display). Success adds the ``messageId`` Pub/Sub assigned. The batch goes in as few publish
    requests as Pub/Sub's limits allow; a message whose attributes Pub/Sub would refuse fails alone."""

    label = "gcp pubsub"
    defaults = {"projectId": "my-google-cloud-project-id", "topicName": "my-pubsub-topic-name",
                "messageAttributes": {}, "serviceAccountKey": None, "serviceAccountKeyFileName": None}
    fields = (field("projectId", "text", "GCP project ID"), field("topicName", "text", "Topic name"),
              field("serviceAccountKey", "secret", "GCP service account key file"),
              field("serviceAccountKeyFileName", "text", "Key file name"),
              field("messageAttributes", "json", "Message attributes"))
    secret_fields = ("serviceAccountKey",)

    @classmethod
    def clean_config(cls, configuration):
        key = configuration.get("serviceAccountKey")
        if not isinstance(key, str) or not key.strip():
            raise ConfigError("serviceAccountKey must be the service account's JSON key file")
        credentials = None  # the API's mask: checked before the stored key replaces it (rulechains/metadata.py)
        if key != MASK:
            try:
                credentials = load_key(key)
            except ValueError as e:
                raise ConfigError(f"serviceAccountKey: {e}") from None
        project, topic = _pattern(configuration, "projectId"), _pattern(configuration, "topicName")
        return {**configuration, "credentials": credentials, "messageAttributes": _attributes(configuration),
                "topic": f"projects/{project}/topics/{topic}"}

    def describe(self, exc):
        where = f"Failed to publish to Pub/Sub topic {self.config['topic']}"
        if isinstance(exc, google_errors.NotFound):
            return f"{where}: the topic was not found (check projectId and topicName)"
        if isinstance(exc, (google_errors.PermissionDenied, google_errors.Unauthenticated)):
            return f"{where}: the service account was refused: {exc.message}"
        if isinstance(exc, google_errors.GoogleAPICallError):
            return f"{where}: {exc.code.name if exc.code else type(exc).__name__}: {exc.message}"
        if isinstance(exc, google_errors.RetryError):
            return f"{where}: no answer within {PUBLISH_TIMEOUT:g} s ({exc.cause or exc.message})"
        return f"{where}: {exc}"[:1024]

    def message(self, msg):
        """The PubsubMessage for ``msg``, or the reason Pub/Sub would refuse it."""
        attributes = {substitute(k, msg): substitute(v, msg) for k, v in self.config["messageAttributes"].items()}
        for name, value in attributes.items():
            if not name or len(name.encode()) > MAX_NAME_BYTES or name.startswith("goog"):
                return f"Pub/Sub refuses the attribute name {name[:40]!r}: 1 to 256 bytes, not starting with goog"
            if len(value.encode()) > MAX_VALUE_BYTES:
                return f"Pub/Sub refuses the value of attribute {name[:40]!r}: more than 1024 bytes"
        return PubsubMessage(data=payload_of(msg), attributes=attributes)

    def publish(self, msgs):
        results: list = [None] * len(msgs)
        ready = []
        for i, msg in enumerate(msgs):
            built = self.message(msg)
            if isinstance(built, str):
                results[i] = (built, {})
            else:
                ready.append((i, built))
        if not ready:
            return results
        client = pubsub_v1.PublisherClient(credentials=self.config["credentials"])
        try:
            for chunk in _chunks(ready):
                try:  # one Publish request: the batching client would take attributes as keyword arguments
                    answer = client._gapic_publish(topic=self.config["topic"], messages=[m for _, m in chunk],
                                                   retry=RETRY, timeout=PUBLISH_TIMEOUT)
                    for (i, _), message_id in zip(chunk, answer.message_ids, strict=True):
                        results[i] = (None, {"messageId": message_id})
                except Exception as exc:
                    for i, _ in chunk:
                        results[i] = (self.describe(exc), {})
        finally:
            client.transport.close()
        return results


def _chunks(ready):
    chunk, size = [], 0
    for i, message in ready:
        length = message._pb.ByteSize()
        if chunk and (len(chunk) >= MAX_REQUEST_MESSAGES or size + length > MAX_REQUEST_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append((i, message))
        size += length
    if chunk:
        yield chunk
