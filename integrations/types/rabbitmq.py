"""RabbitMQ integration: an AMQP 0-9-1 consumer of ``queues`` on an outside broker.

Configuration keys are ThingsBoard's (reference section 1.2), so exported integrations import
unchanged. ``queues`` is a comma-separated list; each queue is declared with ``durable``,
``exclusive`` and ``autoDelete`` and, when ``exchangeName`` is set, bound to that (existing)
exchange with the queue's name as routing key. A message is acknowledged only once it is durably
queued in our pipeline. Downlinks are published to ``exchangeName`` (the default exchange when
empty) with ``downlinkTopic`` as routing key; ``${key}`` in it is replaced by the encoder's output
metadata. ``connectionTimeout`` and ``handshakeTimeout`` are milliseconds; ``pollPeriod`` is
accepted and unused (messages are pushed to the consumer, not polled). The connection
(aio-pika) lives in integrations/listeners/rabbitmq.py, run by runintegrations.
"""

from pydantic import BaseModel, ConfigDict, Field, field_validator

from integrations.types.base import ClientListenerIntegration, TypeConfig

__all__ = ["RabbitMqConfig", "RabbitMqIntegration"]


class ClientConfiguration(BaseModel):
    model_config = ConfigDict(extra="allow")
    exchangeName: str = ""
    host: str = Field(min_length=1)
    port: int = Field(5672, ge=1, le=65535)
    virtualHost: str = "/"
    username: str = "guest"
    password: str = "guest"
    downlinkTopic: str = ""
    queues: str = Field(min_length=1)
    connectionTimeout: int = Field(60000, ge=100, le=600_000)
    handshakeTimeout: int = Field(10000, ge=100, le=600_000)
    pollPeriod: int = Field(5000, ge=0)
    durable: bool = False
    exclusive: bool = False
    autoDelete: bool = False

    @field_validator("queues")
    @classmethod
    def _some_queue(cls, value: str) -> str:
        if not [q for q in value.split(",") if q.strip()]:
            raise ValueError("name at least one queue (comma-separated)")
        return value

    @field_validator("virtualHost", mode="before")
    @classmethod
    def _default_vhost(cls, value):
        return value or "/"

    @property
    def queue_names(self) -> list[str]:
        return list(dict.fromkeys(q.strip() for q in self.queues.split(",") if q.strip()))


class RabbitMqConfig(TypeConfig):
    clientConfiguration: ClientConfiguration


class RabbitMqIntegration(ClientListenerIntegration):
    kind, label = "RABBITMQ", "RabbitMQ"
    config_model = RabbitMqConfig
    secret_fields = ("clientConfiguration.password",)

    listener_class = "integrations.listeners.rabbitmq.RabbitMqListener"
    probe_function = "integrations.listeners.rabbitmq.probe"
