"""External publish nodes: MQTT, Kafka and RabbitMQ (ThingsBoard's TbMqttNode, TbKafkaNode, TbRabbitMqNode).

Each batch opens one connection, publishes every message of the batch (waiting for the broker's
acknowledgement: PUBACK, Kafka acks, publisher confirms) and closes it. A message the broker
took leaves by Success as it came (Kafka adds ``offset``, ``partition`` and ``topic`` to the
metadata); one it did not, or every message when the connection fails, by Failure with
``error`` in the metadata. The clients are asyncio libraries (gmqtt, aiokafka, aio-pika); nodes
run in worker threads, so each batch runs on its own event loop.
"""

import asyncio
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace

import aio_pika
from aiokafka import AIOKafkaProducer
from pydantic import ValidationError

from integrations.listeners import mqtt as mqtt_client
from integrations.types.mqtt import ClientConfiguration
from rulechains.messages import FAILURE, SUCCESS, changed
from rulechains.nodes.base import BaseNode, ConfigError, Out, field, substitute

__all__ = ["MqttNode", "KafkaNode", "RabbitMqNode", "payload_of", "publish_and_close"]

PUBLISH_TIMEOUT = 10.0


def payload_of(msg, plain: bool = False) -> bytes:
    """The message data as the broker gets it: JSON text; a string as it is with ``plain``."""
    if plain and isinstance(msg.data, str):
        return msg.data.encode()
    return json.dumps(msg.data, ensure_ascii=False, separators=(",", ":")).encode()


def _run(coroutine_factory):
    """Run a coroutine to completion from sync code, also when this thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine_factory())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(coroutine_factory())).result()


def _error(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError):
        return "TimeoutException: timed out"
    return f"{type(exc).__name__}: {exc}"[:1024]


class _PublishNode(BaseNode):
    """Subclasses implement ``publish(msgs)``: per message None (taken) or an exception, plus
    per message extra metadata for Success."""

    savepoint = False

    def process_batch(self, ctx, msgs):
        try:
            results = _run(lambda: self.publish(msgs))
        except Exception as exc:  # no connection: every message of the batch fails with the reason
            results = [(exc, {}) for _ in msgs]
        outs = []
        for msg, (problem, extra) in zip(msgs, results, strict=True):
            if problem is None:
                outs.append([Out(SUCCESS, changed(msg, metadata={**msg.metadata, **extra}) if extra else msg)])
            else:
                error = _error(problem)
                outs.append([Out(FAILURE, changed(msg, metadata={**msg.metadata, "error": error}), error)])
        return outs

    async def publish(self, msgs) -> list:
        raise NotImplementedError


class MqttNode(_PublishNode):
    """Publishes each message's data with QoS 1 to ``topicPattern`` (``${metadataKey}``,
    ``$[dataKey]``) on the broker at ``host``:``port`` (``ssl``, ``credentials`` anonymous, basic
    or cert.PEM, ``protocolVersion``, ``cleanSession``, ``connectTimeoutSec``), ``retainedMessage``
    as the retain flag. ``clientId`` (random when empty; ``appendClientIdSuffix`` makes it unique
    per connection) names the connection."""

    label = "mqtt"
    group = "EXTERNAL"
    side_effects = True
    defaults = {"topicPattern": "my-topic", "host": "localhost", "port": 1883, "connectTimeoutSec": 10,
                "clientId": None, "cleanSession": True, "retainedMessage": False, "ssl": False,
                "credentials": {"type": "anonymous"}}
    fields = (field("topicPattern", "text", "Topic pattern"), field("host", "text", "Host"),
              field("port", "number", "Port"), field("clientId", "text", "Client id"),
              field("cleanSession", "bool", "Clean session"), field("retainedMessage", "bool", "Retained"),
              field("ssl", "bool", "TLS"), field("credentials", "json", "Credentials"))
    secret_fields = ("credentials.password", "credentials.privateKey", "credentials.privateKeyPassword")
    secret_slots = ("credentials.username",)

    @classmethod
    def clean_config(cls, configuration):
        topic = configuration.get("topicPattern")
        if not isinstance(topic, str) or not topic.strip():
            raise ConfigError("topicPattern must be a topic name or pattern")
        keys = ("host", "port", "ssl", "cleanSession", "clientId", "connectTimeoutSec", "protocolVersion",
                "credentials")
        try:
            client = ClientConfiguration(**{k: configuration[k] for k in keys if configuration.get(k) is not None})
        except ValidationError as e:
            problems = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
            raise ConfigError(problems) from None
        return {**configuration, "topicPattern": topic, "client": client,
                "retain": bool(configuration.get("retainedMessage")),
                "suffix": bool(configuration.get("appendClientIdSuffix")),
                "plain": bool(configuration.get("parseToPlainText"))}

    def client_id(self) -> str:
        base = self.config["client"].clientId
        if not base:
            return f"tb-rule-node-{uuid.uuid4().hex[:12]}"
        return f"{base}_{uuid.uuid4().hex[:8]}" if self.config["suffix"] else base

    async def publish(self, msgs):
        settings = SimpleNamespace(clientConfiguration=self.config["client"])
        client = mqtt_client._new_client(settings, self.client_id())
        await mqtt_client._connect(client, settings)
        return await publish_and_close(client, msgs, self.config["topicPattern"], plain=self.config["plain"],
                                       retain=self.config["retain"])


async def publish_and_close(client, msgs, topic_pattern: str, *, plain: bool, retain: bool):
    """Publishes each message's data to its ``topic_pattern`` on a connected MQTT ``client``, at most
    SEND_WINDOW unacknowledged at a time, each acknowledged within PUBLISH_TIMEOUT; then closes the
    client. ``[(error or None, {})]`` in the order of ``msgs``."""
    window = asyncio.Semaphore(mqtt_client.SEND_WINDOW)

    async def one(msg):
        async with window:
            future = client.publish_acked(substitute(topic_pattern, msg), payload_of(msg, plain), retain=retain)
            await asyncio.wait_for(future, PUBLISH_TIMEOUT)

    try:
        done = await asyncio.gather(*(one(m) for m in msgs), return_exceptions=True)
    finally:
        await mqtt_client._close(client)
    return [(r if isinstance(r, BaseException) else None, {}) for r in done]


_ACKS = {"-1": "all", "all": "all", "0": 0, "1": 1}


class KafkaNode(_PublishNode):
    """Produces each message's data to ``topicPattern`` with ``keyPattern`` as the key (both may
    use patterns) on ``bootstrapServers``; ``acks`` (-1/all, 0, 1), ``linger``, ``batchSize`` and
    ``otherProperties`` as far as aiokafka has them; with ``addMetadataKeyValuesAsKafkaHeaders``
    every metadata entry becomes a header (``kafkaHeadersCharset``). Success adds ``offset``,
    ``partition`` and ``topic`` to the metadata."""

    label = "kafka"
    group = "EXTERNAL"
    side_effects = True
    defaults = {"topicPattern": "my-topic", "keyPattern": None, "bootstrapServers": "localhost:9092", "retries": 0,
                "batchSize": 16384, "linger": 0, "acks": "-1", "otherProperties": {},
                "addMetadataKeyValuesAsKafkaHeaders": False, "kafkaHeadersCharset": "UTF-8"}
    fields = (field("topicPattern", "text", "Topic pattern"), field("keyPattern", "text", "Key pattern"),
              field("bootstrapServers", "text", "Bootstrap servers"),
              field("acks", "select", "Acks", choices=tuple(_ACKS)),
              field("addMetadataKeyValuesAsKafkaHeaders", "bool", "Metadata as headers"))

    @classmethod
    def clean_config(cls, configuration):
        topic, servers = configuration.get("topicPattern"), configuration.get("bootstrapServers")
        if not isinstance(topic, str) or not topic.strip():
            raise ConfigError("topicPattern must be a topic name or pattern")
        if not isinstance(servers, str) or not servers.strip():
            raise ConfigError("bootstrapServers must be host:port[,host:port]")
        acks = str(configuration.get("acks", "-1"))
        if acks not in _ACKS:
            raise ConfigError("acks must be -1 (all), 0 or 1")
        for name in ("linger", "batchSize", "retries"):
            value = configuration.get(name) or 0
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise ConfigError(f"{name} must be a non-negative integer")
        return {**configuration, "acks": _ACKS[acks], "servers": [s.strip() for s in servers.split(",") if s.strip()]}

    async def publish(self, msgs):
        config = self.config
        producer = AIOKafkaProducer(bootstrap_servers=config["servers"], acks=config["acks"],
                                    linger_ms=config.get("linger") or 0,
                                    max_batch_size=config.get("batchSize") or 16384,
                                    request_timeout_ms=int(PUBLISH_TIMEOUT * 1000))
        await asyncio.wait_for(producer.start(), PUBLISH_TIMEOUT)
        charset = config.get("kafkaHeadersCharset") or "utf-8"

        async def one(msg):
            key = substitute(config.get("keyPattern") or "", msg)
            headers = [(k, str(v).encode(charset)) for k, v in msg.metadata.items()] \
                if config.get("addMetadataKeyValuesAsKafkaHeaders") else None
            topic = substitute(config["topicPattern"], msg)
            sent = await producer.send_and_wait(topic, payload_of(msg), key=key.encode() if key else None,
                                                headers=headers)
            return {"offset": str(sent.offset), "partition": str(sent.partition), "topic": sent.topic}

        try:
            done = await asyncio.gather(*(one(m) for m in msgs), return_exceptions=True)
        finally:
            await producer.stop()
        return [(r, {}) if isinstance(r, BaseException) else (None, r) for r in done]


#: ThingsBoard's messageProperties -> (content type, delivery mode)
PROPERTIES = {None: (None, None), "BASIC": ("application/octet-stream", 1), "TEXT_PLAIN": ("text/plain", 1),
              "MINIMAL_BASIC": (None, None), "MINIMAL_PERSISTENT_BASIC": (None, 2),
              "PERSISTENT_BASIC": ("application/octet-stream", 2), "PERSISTENT_TEXT_PLAIN": ("text/plain", 2)}


class RabbitMqNode(_PublishNode):
    """Publishes each message's data to the exchange ``exchangeNamePattern`` (empty: the default
    exchange) with ``routingKeyPattern`` (both may use patterns) and ``messageProperties``
    (ThingsBoard's BASIC, TEXT_PLAIN, PERSISTENT_BASIC, ...), with publisher confirms, on
    ``host``:``port``/``virtualHost`` as ``username``/``password``. An exchange that does not
    exist fails the messages sent to it."""

    label = "rabbitmq"
    group = "EXTERNAL"
    side_effects = True
    defaults = {"exchangeNamePattern": None, "routingKeyPattern": None, "messageProperties": None, "host": "localhost",
                "port": 5672, "virtualHost": "/", "username": "guest", "password": "guest", "connectionTimeout": 60000,
                "handshakeTimeout": 10000, "clientProperties": {}}
    fields = (field("exchangeNamePattern", "text", "Exchange name pattern"),
              field("routingKeyPattern", "text", "Routing key pattern"),
              field("messageProperties", "select", "Message properties", choices=("", *(k for k in PROPERTIES if k))),
              field("host", "text", "Host"), field("port", "number", "Port"),
              field("virtualHost", "text", "Virtual host"), field("username", "text", "Username"),
              field("password", "secret", "Password"))
    secret_fields = ("password",)
    secret_slots = ("username",)

    @classmethod
    def clean_config(cls, configuration):
        host = configuration.get("host")
        if not isinstance(host, str) or not host.strip():
            raise ConfigError("host must be the RabbitMQ host name")
        properties = configuration.get("messageProperties")
        if not (properties is None or isinstance(properties, str)) or properties not in PROPERTIES:
            raise ConfigError(f"messageProperties must be one of {', '.join(k for k in PROPERTIES if k)} or null")
        port = configuration.get("port") or 5672
        if isinstance(port, bool) or not isinstance(port, int) or not 0 < port < 65536:
            raise ConfigError("port must be a TCP port number")
        timeout = (configuration.get("connectionTimeout") or 60000) + (configuration.get("handshakeTimeout") or 10000)
        return {**configuration, "port": port, "timeout": min(timeout / 1000, 60.0)}

    async def publish(self, msgs):
        config = self.config
        connection = await asyncio.wait_for(aio_pika.connect(
            host=config["host"], port=config["port"], login=config.get("username") or "guest",
            password=config.get("password") or "guest", virtualhost=config.get("virtualHost") or "/",
            timeout=config["timeout"], client_properties=config.get("clientProperties") or {}), config["timeout"])
        content_type, delivery_mode = PROPERTIES[config.get("messageProperties")]
        exchanges: dict = {}  # one channel per exchange: a missing exchange closes its channel only

        async def exchange_of(name: str):
            if name not in exchanges:
                try:
                    channel = await connection.channel()
                    exchanges[name] = channel.default_exchange if not name else await channel.get_exchange(name)
                except Exception as exc:
                    exchanges[name] = exc
            if isinstance(exchanges[name], Exception):
                raise exchanges[name]
            return exchanges[name]

        results = []
        try:
            for msg in msgs:
                try:
                    exchange = await exchange_of(substitute(config.get("exchangeNamePattern") or "", msg))
                    message = aio_pika.Message(payload_of(msg), content_type=content_type, delivery_mode=delivery_mode)
                    key = substitute(config.get("routingKeyPattern") or "", msg)
                    await asyncio.wait_for(exchange.publish(message, key), PUBLISH_TIMEOUT)
                    results.append((None, {}))
                except Exception as exc:
                    results.append((exc, {}))
        finally:
            await asyncio.wait_for(connection.close(), 5.0)
        return results
