"""Apache Pulsar integration: a consumer of ``topics`` on an outside Pulsar cluster.

Configuration keys and defaults are ThingsBoard's (``configuration.clientConfiguration``):
``serviceUrl`` (``pulsar://`` or ``pulsar+ssl://``, several hosts comma-separated), ``topics``
(comma-separated), ``subscriptionName``, ``maxNumMessages``, ``maxNumBytes`` and ``timeoutInMs``
(ThingsBoard's batch-receive policy: here a batch is handed to the pipeline once it holds
``maxNumMessages`` messages or ``timeoutInMs`` after its first one, and at most
``maxNumMessages`` messages or ``maxNumBytes`` bytes are in flight, received but not yet
acknowledged), and ``credentials`` ``{type: anonymous}`` or ``{type: token, token}`` (a JWT,
write-only). ``downlinkTopic`` (ours) is the downlink topic when the encoder names none.

The subscription is Shared and, when new, starts at the latest message (the client's default):
a replacement listener (another host took the lease) attaches at once, and what the old one had
not acknowledged is redelivered to it. A message is acknowledged only once it is durably queued
in our pipeline; one that is not is negatively acknowledged, or redelivered by the broker when
the consumer goes away (at least once; duplicates are possible, losses are not).

Uplink metadata: ``integrationName``, the configuration's ``metadata``, ``topic`` (the full topic
name) and ``key`` (the message key) when the message has one; ThingsBoard documents only the
first two. Downlinks are published to the encoder's ``metadata.topic`` or else ``downlinkTopic``,
keyed with ``metadata.key``; the encoder's other metadata become message properties. The
connection (the official ``pulsar-client``) lives in integrations/listeners/pulsar.py.
"""

from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from integrations.types.base import ClientListenerIntegration, TypeConfig

__all__ = ["PulsarConfig", "ApachePulsarIntegration"]

SCHEMES = {"pulsar": 6650, "pulsar+ssl": 6651}


class Credentials(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["anonymous", "token"] = "anonymous"
    token: str = ""

    @model_validator(mode="after")
    def _token_given(self):
        if self.type == "token" and not self.token.strip():
            raise ValueError("credentials of type token need the token")
        return self


class ClientConfiguration(BaseModel):
    model_config = ConfigDict(extra="allow")
    serviceUrl: str = Field("pulsar://localhost:6650", min_length=1,
                            description="pulsar://host:6650 or pulsar+ssl://host:6651; several hosts comma-separated")
    topics: str = Field("my-topic", min_length=1, description="Comma-separated; short names are in public/default")
    subscriptionName: str = Field("my-subscription", min_length=1)
    maxNumMessages: int = Field(1000, ge=1, le=100_000, description="Most messages received and not yet queued")
    maxNumBytes: int = Field(10_485_760, ge=1024, le=1 << 30, description="Most bytes received and not yet queued")
    timeoutInMs: int = Field(100, ge=0, le=60_000, description="How long a batch waits for more messages")
    credentials: Credentials = Credentials()
    downlinkTopic: str = Field("", description="Downlink topic when the encoder's metadata names no topic")

    @field_validator("serviceUrl")
    @classmethod
    def _service_url(cls, value: str) -> str:
        endpoints(value)
        return value

    @field_validator("topics")
    @classmethod
    def _some_topic(cls, value: str) -> str:
        if not [t for t in value.split(",") if t.strip()]:
            raise ValueError("name at least one topic (comma-separated)")
        return value

    @property
    def topic_names(self) -> list[str]:
        return list(dict.fromkeys(t.strip() for t in self.topics.split(",") if t.strip()))


def endpoints(service_url: str) -> list[tuple[str, int]]:
    """``[(host, port), ...]`` of a Pulsar service URL; ValueError saying what is wrong."""
    scheme, _, rest = service_url.strip().partition("://")
    if scheme not in SCHEMES or not rest:
        raise ValueError("the service URL must look like pulsar://host:6650 or pulsar+ssl://host:6651")
    out = []
    for host in rest.rstrip("/").split(","):
        try:
            parts = urlsplit(f"//{host.strip()}")
            port = parts.port or SCHEMES[scheme]
        except ValueError:
            parts, port = None, 0
        if parts is None or not parts.hostname or parts.path:
            raise ValueError(f"{host.strip()!r} in the service URL is not host:port")
        out.append((parts.hostname, port))
    return out


class PulsarConfig(TypeConfig):
    clientConfiguration: ClientConfiguration


class ApachePulsarIntegration(ClientListenerIntegration):
    kind, label = "APACHE_PULSAR", "Apache Pulsar"
    config_model = PulsarConfig
    secret_fields = ("clientConfiguration.credentials.token",)

    listener_class = "integrations.listeners.pulsar.PulsarListener"
    probe_function = "integrations.listeners.pulsar.probe"
