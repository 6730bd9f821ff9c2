"""Kafka integration: a consumer-group member reading ``topics`` from an outside Kafka cluster.

Configuration keys are ThingsBoard's (``configuration.clientConfiguration``): ``groupId``,
``clientId``, ``topics`` (comma-separated), ``bootstrapServers`` (comma-separated host:port),
``pollInterval`` (ms: how long one poll waits for records), ``autoCreateTopics`` and
``otherProperties`` (extra consumer properties). ``autoCreateTopics`` is accepted and has no
effect of its own: aiokafka has no such consumer option, so whether a missing topic is created
is the broker's ``auto.create.topics.enable``. ``downlinkTopic`` (ours) is the downlink topic
when the encoder names none. Of ``otherProperties`` the keys in
``OTHER_PROPERTIES`` map onto the client (aiokafka); others are accepted and ignored, except the
``sasl.*``/``ssl.*`` keys and a non-PLAINTEXT ``security.protocol``, which are refused: this
version connects without authentication or TLS, and silently connecting without them would be
worse than saying so.

At-least-once: offsets are committed by hand (auto-commit off), and only once every record of
the poll was durably queued in our pipeline; a listener that stops or dies before that leaves
them uncommitted, and the group's next member reads them again (duplicates are possible, losses
are not).

Uplink metadata is minimal, as ThingsBoard's: ``integrationName``, ``topic``, and ``key`` (the
record key as UTF-8) when the record has one. Downlinks are published to the encoder's
``metadata.topic`` or else ``downlinkTopic``, keyed with the encoder's ``metadata.key`` when set.
The connection lives in integrations/listeners/kafka.py, run by runintegrations.
"""

from pydantic import BaseModel, ConfigDict, Field, field_validator

from integrations.types.base import ClientListenerIntegration, TypeConfig

__all__ = ["KafkaConfig", "KafkaIntegration", "OTHER_PROPERTIES"]

#: Kafka consumer property -> (aiokafka keyword, type)
OTHER_PROPERTIES = {
    "auto.offset.reset": ("auto_offset_reset", str),
    "session.timeout.ms": ("session_timeout_ms", int),
    "heartbeat.interval.ms": ("heartbeat_interval_ms", int),
    "max.poll.interval.ms": ("max_poll_interval_ms", int),
    "max.poll.records": ("max_records", int),
    "request.timeout.ms": ("request_timeout_ms", int),
    "fetch.max.wait.ms": ("fetch_max_wait_ms", int),
    "fetch.min.bytes": ("fetch_min_bytes", int),
    "fetch.max.bytes": ("fetch_max_bytes", int),
    "max.partition.fetch.bytes": ("max_partition_fetch_bytes", int),
    "metadata.max.age.ms": ("metadata_max_age_ms", int),
    "retry.backoff.ms": ("retry_backoff_ms", int),
    "isolation.level": ("isolation_level", str),
}
_REFUSED_PREFIXES = ("sasl.", "ssl.")


class ClientConfiguration(BaseModel):
    model_config = ConfigDict(extra="allow")
    groupId: str = Field("group_id_1", min_length=1)
    clientId: str = Field("client_id_1", min_length=1)
    topics: str = Field("my-topic-output", min_length=1)
    bootstrapServers: str = Field("localhost:9092", min_length=1)
    pollInterval: int = Field(5000, ge=0, le=600_000)
    autoCreateTopics: bool = False
    downlinkTopic: str = ""
    otherProperties: dict[str, str | int | float | bool | None] = {}

    @field_validator("topics")
    @classmethod
    def _some_topic(cls, value: str) -> str:
        if not [t for t in value.split(",") if t.strip()]:
            raise ValueError("name at least one topic (comma-separated)")
        return value

    @field_validator("bootstrapServers")
    @classmethod
    def _servers(cls, value: str) -> str:
        for server in (s.strip() for s in value.split(",") if s.strip()):
            host, _, port = server.rpartition(":")
            if not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"{server!r} is not host:port")
        return value

    @field_validator("otherProperties", mode="before")
    @classmethod
    def _properties(cls, value):
        value = value or {}
        for key, item in value.items() if isinstance(value, dict) else ():
            if key.startswith(_REFUSED_PREFIXES) or (
                    key == "security.protocol" and str(item).upper() not in ("", "PLAINTEXT")):
                raise ValueError(f"{key!r}: SASL and TLS connections to Kafka are not supported yet")
            if key in OTHER_PROPERTIES and OTHER_PROPERTIES[key][1] is int:
                try:
                    int(item)
                except (TypeError, ValueError):
                    raise ValueError(f"{key!r} must be a whole number") from None
        return value

    @property
    def topic_names(self) -> list[str]:
        return list(dict.fromkeys(t.strip() for t in self.topics.split(",") if t.strip()))

    @property
    def servers(self) -> list[str]:
        return [s.strip() for s in self.bootstrapServers.split(",") if s.strip()]

    def consumer_options(self) -> dict:
        """aiokafka keyword arguments from ``otherProperties`` (the mapped ones)."""
        options = {}
        for key, item in self.otherProperties.items():
            if key in OTHER_PROPERTIES and item not in (None, ""):
                keyword, kind = OTHER_PROPERTIES[key]
                options[keyword] = kind(item)
        return options


class KafkaConfig(TypeConfig):
    clientConfiguration: ClientConfiguration


class KafkaIntegration(ClientListenerIntegration):
    kind, label = "KAFKA", "Kafka"
    config_model = KafkaConfig

    listener_class = "integrations.listeners.kafka.KafkaListener"
    probe_function = "integrations.listeners.kafka.probe"
