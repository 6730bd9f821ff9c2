"""AWS SQS and AWS Kinesis integrations: pollers of an AWS queue or stream, hosted by runintegrations.

Configuration keys are ThingsBoard's (reference section 1.2): AWS_SQS keeps them under
``sqsConfiguration`` (``queueUrl``, ``pollingPeriodSeconds``, ``region``, ``accessKeyId``,
``secretAccessKey``), AWS_KINESIS under ``clientConfiguration`` (``streamName``, ``region``,
``accessKeyId``, ``secretAccessKey``, ``useCredentialsFromInstanceMetadata``,
``applicationName``, ``initialPositionInStream``, ``useConsumersWithEnhancedFanOut``,
``maxRecords``, ``requestTimeout``). Ours, optional: ``endpointUrl`` (an SQS- or
Kinesis-compatible service, or a VPC endpoint, instead of AWS's regional one), SQS
``downlinkQueueUrl``, Kinesis ``initialTimestamp`` (ms, for AT_TIMESTAMP) and
``idleTimeBetweenReadsInMillis``. The secret access key is write-only.

The I/O lives in integrations/listeners/aws_sqs.py and aws_kinesis.py (aiobotocore).
"""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from integrations.types.base import ClientListenerIntegration, TypeConfig

__all__ = ["SqsConfig", "KinesisConfig", "AwsSqsIntegration", "AwsKinesisIntegration"]


def _queue_or_stream_first(schema: dict) -> None:
    """The guided form follows the schema's order: what to read first, as ThingsBoard's form does."""
    properties = schema.get("properties", {})
    first = {key: properties[key] for key in ("queueUrl", "streamName") if key in properties}
    schema["properties"] = {**first, **{k: v for k, v in properties.items() if k not in first}}


class AwsAccess(BaseModel):
    """Region, keys and endpoint: what every AWS client of these types is built from."""

    model_config = ConfigDict(extra="allow", json_schema_extra=_queue_or_stream_first)
    region: str = Field("us-east-1", min_length=1, pattern=r"^[a-z0-9-]+$")
    accessKeyId: str = ""
    secretAccessKey: str = ""
    endpointUrl: str = Field("", description="Optional: the URL of an SQS/Kinesis-compatible service or a VPC "
                                             "endpoint, used instead of AWS's regional endpoint")

    @field_validator("endpointUrl")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = (value or "").strip()
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    def needs_keys(self) -> bool:
        return True

    @model_validator(mode="after")
    def _keys(self):
        if self.needs_keys() and not (self.accessKeyId and self.secretAccessKey):
            raise ValueError("accessKeyId and secretAccessKey are required")
        return self


class SqsConfiguration(AwsAccess):
    queueUrl: str = Field(min_length=1)
    pollingPeriodSeconds: int = Field(5, ge=0, le=3600, description="How long one poll waits for messages "
                                      "(long polling, at most 20 s per request)")
    downlinkQueueUrl: str = Field("", description="Optional: where downlinks go when the encoder's metadata "
                                                  "names no queueUrl")

    @field_validator("queueUrl", "downlinkQueueUrl")
    @classmethod
    def _queue_url(cls, value: str) -> str:
        value = (value or "").strip()
        if value and not value.startswith(("http://", "https://")):
            raise ValueError("must be the queue's URL (https://sqs.<region>.amazonaws.com/<account>/<queue>)")
        return value


class KinesisConfiguration(AwsAccess):
    streamName: str = Field(min_length=1, max_length=128, pattern=r"^[a-zA-Z0-9_.-]+$")
    useCredentialsFromInstanceMetadata: bool = Field(False, description="Use this server's own AWS credentials "
                                                     "(instance role, environment) instead of the keys")
    applicationName: str = Field("", description="Accepted as ThingsBoard has it; checkpoints are kept per "
                                                 "integration and stream in this server's database")
    initialPositionInStream: Literal["LATEST", "TRIM_HORIZON", "AT_TIMESTAMP"] = "LATEST"
    initialTimestamp: int | None = Field(None, ge=0, description="AT_TIMESTAMP: where to start, ms since the epoch")
    useConsumersWithEnhancedFanOut: bool = Field(False, description="Accepted; records are read by polling "
                                                 "(GetRecords) either way")
    maxRecords: int = Field(10000, ge=1, le=10000)
    requestTimeout: int = Field(30, ge=1, le=600, description="Seconds one request to Kinesis may take")
    idleTimeBetweenReadsInMillis: int = Field(1000, ge=200, le=60_000, description="Pause after a read that "
                                              "returned no records (Kinesis allows 5 reads a second per shard)")

    def needs_keys(self) -> bool:
        return not self.useCredentialsFromInstanceMetadata

    @model_validator(mode="after")
    def _timestamp(self):
        if self.initialPositionInStream == "AT_TIMESTAMP" and self.initialTimestamp is None:
            raise ValueError("AT_TIMESTAMP needs initialTimestamp (ms since the epoch)")
        return self


class SqsConfig(TypeConfig):
    sqsConfiguration: SqsConfiguration


class KinesisConfig(TypeConfig):
    clientConfiguration: KinesisConfiguration


class AwsSqsIntegration(ClientListenerIntegration):
    kind, label = "AWS_SQS", "AWS SQS"
    config_model = SqsConfig
    secret_fields = ("sqsConfiguration.secretAccessKey",)

    listener_class = "integrations.listeners.aws_sqs.SqsListener"
    probe_function = "integrations.listeners.aws_sqs.probe"


class AwsKinesisIntegration(ClientListenerIntegration):
    kind, label = "AWS_KINESIS", "AWS Kinesis"
    config_model = KinesisConfig
    secret_fields = ("clientConfiguration.secretAccessKey",)

    listener_class = "integrations.listeners.aws_kinesis.KinesisListener"
    probe_function = "integrations.listeners.aws_kinesis.probe"
