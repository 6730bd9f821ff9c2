"""Kafka integration: a consumer-group member reading ``topics`` from an outside Kafka cluster.

Configuration keys are ThingsBoard's (``configuration.clientConfiguration``): ``groupId``,
``clientId``, ``topics`` (comma-separated), ``bootstrapServers`` (comma-separated host:port),
``pollInterval`` (ms: how long one poll waits for records), ``autoCreateTopics`` and
``otherProperties`` (extra consumer properties). ``autoCreateTopics`` is accepted and has no
effect of its own: aiokafka has no such consumer option, so whether a missing topic is created
is the broker's ``auto.create.topics.enable``. ``downlinkTopic`` (ours) is the downlink topic
when the encoder names none. Of ``otherProperties`` the keys in
``OTHER_PROPERTIES`` map onto the client (aiokafka), and so do the security keys a ThingsBoard user
sets there: ``security.protocol`` (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL), ``sasl.mechanism``
(PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) and ``sasl.jaas.config`` (the username and password of a
``PlainLoginModule``/``ScramLoginModule`` line; write-only, a secret); TLS trusts the system's CA
store (``ssl.endpoint.identification.algorithm`` empty turns host-name checks off). Java key and
trust stores (``ssl.keystore.*``, ``ssl.truststore.*``) and other mechanisms (GSSAPI, OAUTHBEARER)
are refused with a message: connecting without them would be worse than saying so. Others are
accepted and ignored.

At-least-once: offsets are committed by hand (auto-commit off), and only once every record of
the poll was durably queued in our pipeline; a listener that stops or dies before that leaves
them uncommitted, and the group's next member reads them again (duplicates are possible, losses
are not).

Uplink metadata is minimal, as ThingsBoard's: ``integrationName``, ``topic``, and ``key`` (the
record key as UTF-8) when the record has one. Downlinks are published to the encoder's
``metadata.topic`` or else ``downlinkTopic``, keyed with the encoder's ``metadata.key`` when set.
The connection lives in integrations/listeners/kafka.py, run by runintegrations.
"""

import re
import ssl

from pydantic import BaseModel, ConfigDict, Field, field_validator

from integrations.types.base import ClientListenerIntegration, TypeConfig

__all__ = ["KafkaConfig", "KafkaIntegration", "OTHER_PROPERTIES", "jaas_credentials"]

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
_REFUSED_PREFIXES = ("ssl.keystore.", "ssl.truststore.", "ssl.key.")
PROTOCOLS = ("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL")
MECHANISMS = ("PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512")
JAAS = "sasl.jaas.config"
_JAAS_OPTION = re.compile(r"""(\w+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|'((?:[^'\\]|\\.)*)'|([^\s;]+))""")


def jaas_credentials(text: str) -> tuple[str, str]:
    """``username`` and ``password`` of a JAAS login line, as Kafka clients write them."""
    options = {m.group(1): re.sub(r"\\(.)", r"\1", next(g for g in m.groups()[1:] if g is not None))
               for m in _JAAS_OPTION.finditer(text)}
    return options.get("username", ""), options.get("password", "")


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
            if key.startswith(_REFUSED_PREFIXES) and item not in (None, ""):
                raise ValueError(f"{key!r}: Java key and trust stores are not supported; TLS uses the system's "
                                 "CA store")
            if key == "security.protocol" and str(item or "PLAINTEXT").upper() not in PROTOCOLS:
                raise ValueError(f"{key!r} must be one of {', '.join(PROTOCOLS)}")
            if key == "sasl.mechanism" and str(item or "PLAIN").upper() not in MECHANISMS:
                raise ValueError(f"{key!r}: {item} is not supported; use one of {', '.join(MECHANISMS)}")
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
        return {**options, **self.security_options()}

    @property
    def uses_sasl(self) -> bool:
        return self.security_options().get("security_protocol", "").startswith("SASL")

    def security_options(self) -> dict:
        """aiokafka's security keywords (consumer and producer alike) from ThingsBoard's keys."""
        props = self.otherProperties
        protocol = str(props.get("security.protocol") or "PLAINTEXT").upper()
        if protocol == "PLAINTEXT":
            return {}
        options: dict = {"security_protocol": protocol}
        if protocol.endswith("SSL"):
            context = ssl.create_default_context()
            if props.get("ssl.endpoint.identification.algorithm", "https") in ("", None):
                context.check_hostname = False
            options["ssl_context"] = context
        if protocol.startswith("SASL"):
            username, password = jaas_credentials(str(props.get(JAAS) or ""))
            options.update(sasl_mechanism=str(props.get("sasl.mechanism") or "PLAIN").upper(),
                           sasl_plain_username=username, sasl_plain_password=password)
        return options


class KafkaConfig(TypeConfig):
    clientConfiguration: ClientConfiguration


class KafkaIntegration(ClientListenerIntegration):
    kind, label = "KAFKA", "Kafka"
    config_model = KafkaConfig
    secret_fields = (f"clientConfiguration.otherProperties[{JAAS}]",)

    listener_class = "integrations.listeners.kafka.KafkaListener"
    probe_function = "integrations.listeners.kafka.probe"
