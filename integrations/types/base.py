"""The contract every integration type follows (STYLE.md rules 1-4).

A type is one class: its ThingsBoard type name (``kind``), a pydantic schema of its
``configuration`` JSON, the dotted paths of the secrets in that JSON, and either the push hooks
(HTTP-family: a request comes in) or the listener hooks (MQTT, TCP, ...: a connection is kept
open by ``runintegrations``). Types never decode payloads: they hand raw bytes and metadata to
the uplink pipeline.
"""

import asyncio
import copy
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError

from integrations.dedup import Deduplication
from integrations.messages import Downlink, RawUplink
from integrations.types.secret_paths import expand, expand_keys, get_keys, join_path, nameable, set_keys, split_path
from tbproject.registry import load_dotted
from tbproject.secret_refs import is_reference, names_secret

__all__ = ["run_sync", "IntegrationError", "ConfigError", "BaseIntegration", "PushIntegration", "ListenerIntegration",
           "SocketServerIntegration", "TypeConfig", "UplinkSink", "MASK"]

MASK = "******"


class IntegrationError(Exception):
    """A failure talking to the outside system; ``permanent`` says whether a retry can help."""

    def __init__(self, message: str, *, permanent: bool = False):
        super().__init__(message)
        self.message, self.permanent = message, permanent


class ConfigError(ValueError):
    """The configuration JSON does not match the type's schema; the message names the field."""


class TypeConfig(BaseModel):
    """Base of every type's configuration schema: ThingsBoard's UI sends extra keys; keep them."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)
    metadata: dict[str, str] = {}
    #: ours (ThingsBoard has no such option): a remote runner runs the uplink converter and sends
    #: its output with the raw uplink (integrations/remote/service.py, remote/convert.py)
    convertRemotely: StrictBool = False
    #: our addition (integrations/dedup.py): absent for ThingsBoard clients, which keep it unchanged
    deduplication: Deduplication | None = Field(None, description="Store a message once when its key was seen "
                                                "within the window (leave the key empty: off)")


def _get(data: dict, path: str):
    return get_keys(data, split_path(path))


def _set(data: dict, path: str, value) -> None:
    set_keys(data, split_path(path), value)


class BaseIntegration:
    """One integration type. Subclasses set the class attributes and implement their hooks."""

    kind: ClassVar[str] = ""
    label: ClassVar[str] = ""
    config_model: ClassVar[type[TypeConfig]] = TypeConfig
    #: dotted paths inside ``configuration`` that hold secrets: write-only in the API, masked
    #: in the admin and in logs, tokenised in packages. A ``*`` part stands for every key of the
    #: map at that place (``headersFilter.*``: each header's required value; secret_paths.py)
    secret_fields: ClassVar[tuple[str, ...]] = ()
    #: True when runintegrations keeps a connection open for it
    listener: ClassVar[bool] = False
    #: uplink metadata keys the pipeline remembers per (integration, device) and hands back as
    #: Downlink.route: how a "reply on the device's connection" transport (TCP, UDP) finds it
    route_keys: ClassVar[tuple[str, ...]] = ()

    def __init__(self, integration):
        self.integration = integration
        configuration = integration.configuration
        keys = self.secret_keys(configuration)
        if any(names_secret(get_keys(configuration, k)) for k in keys):
            # ${secret:name;type:TEXT} in a secret field gets the tenant's secret value (vault/resolution.py); the
            # server side only: a remote runner is sent its configurations resolved, and imports no Django
            from vault.resolution import SecretError, resolved_configuration

            try:
                configuration = resolved_configuration(integration, keys)
            except SecretError as e:
                raise ConfigError(e.message) from None
        self.config = self.parse(configuration)

    @classmethod
    def answers_next_uplink(cls) -> bool:
        """True when a device gets its downlink as the answer to its next request (HTTP family, CoAP):
        a remote runner is then offered the pending ones (remote/replies.py) rather than sent them."""
        return False

    @classmethod
    def parse(cls, configuration: dict) -> TypeConfig:
        try:
            return cls.config_model.model_validate(configuration or {})
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise ConfigError(f"configuration{'.' + where if where else ''}: {first['msg']}") from None

    @classmethod
    def validate(cls, configuration: dict) -> dict:
        """Check ``configuration`` against the schema; returns it unchanged (extra keys kept).

        A key of a secret map (``headersFilter``) must be one a path can name: its value is asked
        for by that path when a package is imported."""
        cls.parse(configuration)
        for path in cls.secret_fields:
            for keys in expand_keys(configuration or {}, path):
                bad = next((k for k in keys if not nameable(k)), None)
                if bad is not None:
                    where = join_path(keys[:keys.index(bad)])
                    raise ConfigError(f"configuration.{where}: a name must not be empty or contain ']' "
                                      f"({bad[:40]!r})")
        return configuration

    @classmethod
    def secret_keys(cls, configuration: dict) -> list[list[str]]:
        """The keys of every secret ``configuration`` may hold: each fixed path (set or not), and
        each key of a wildcard's map."""
        return [keys for path in cls.secret_fields for keys in expand_keys(configuration or {}, path)]

    @classmethod
    def secret_values(cls, configuration: dict) -> dict[str, object]:
        """Path -> stored value (None when unset) of every secret of ``configuration``, a wildcard's
        map one path per key: what the audit log compares (never shows)."""
        configuration = configuration or {}
        return {p: _get(configuration, p) for path in cls.secret_fields for p in expand(configuration, path)}

    @classmethod
    def masked(cls, configuration: dict) -> dict:
        """A copy with every present secret replaced by MASK."""
        out = copy.deepcopy(configuration or {})
        for keys in cls.secret_keys(out):
            if get_keys(out, keys) not in (None, "") and not is_reference(get_keys(out, keys)):
                set_keys(out, keys, MASK)
        return out

    @classmethod
    def keep_secrets(cls, new: dict, old: dict) -> dict:
        """Secrets are write-only: a client that posts back MASK keeps the stored value.

        MASK where nothing is stored (a masked configuration copied into a new integration, a
        header of the filter added or renamed with the mask as its value) is a ConfigError naming
        the field: storing the mask itself would lose the secret silently.
        """
        out = copy.deepcopy(new or {})
        for keys in cls.secret_keys(out):
            if get_keys(out, keys) == MASK:
                stored = get_keys(old or {}, keys)
                if stored in (None, "", MASK):
                    raise ConfigError(f"configuration.{join_path(keys)}: no secret is stored to keep; enter it again")
                set_keys(out, keys, stored)
        return out

    def check(self) -> None:
        """Try to reach the outside system with this configuration; raise IntegrationError."""

    @classmethod
    def listen_ports(cls, config: TypeConfig) -> set[tuple[str, int, str]]:
        """``(transport, port, share group)`` this type listens on with ``config`` (servers only).

        Two enabled integrations may not hold the same transport and port, unless both name the
        same non-empty share group (CoAP integrations share one server). Checked at save time."""
        return set()


class PushIntegration(BaseIntegration):
    """A type that outside systems call (HTTP family). The ingress view owns the HTTP details."""

    #: the path segment after /api/v1/integrations/
    endpoint: ClassVar[str] = ""
    #: True when encoded downlinks are sent to the cloud's API (ChirpStack, ThingPark, ...) by a
    #: worker (integrations/api_downlinks.py) instead of answering the device's next uplink
    api_downlink: ClassVar[bool] = False

    # Hooks of the ingress (integrations/ingress/handler.py), cheapest first. Keep them small: they
    # run on the hot path of every request.

    def headers_match(self, headers: Mapping[str, str]) -> bool:
        """False refuses the request (403) before its body is read; ``headers`` are lower-case."""
        return True

    def uplink_metadata(self, query: str) -> dict[str, str] | None:
        """Metadata taken from the query string; None: acknowledge the request, queue nothing."""
        return NO_METADATA

    def refuse(self, headers: Mapping[str, str], body: bytes, query: str) -> str | None:
        """Why the request is refused (403: a signature that does not match ...), or None."""
        return None

    @classmethod
    def answers_next_uplink(cls) -> bool:
        return not cls.api_downlink

    def downlink_reply(self, kind: str, payload: bytes, metadata: dict, uplink: RawUplink) -> tuple[bytes, bytes]:
        """(Content-Type, body) of the reply that carries a pending downlink (synchronous types)."""
        return DOWNLINK_MIME.get(kind, DOWNLINK_MIME["BINARY"]), payload

    def deliver(self, downlink: Downlink) -> None:
        """Send one encoded downlink to the cloud's API now (``api_downlink`` types; a worker thread).

        Raise IntegrationError: ``permanent`` when a retry cannot help (refused credentials, a
        device the cloud does not know, a payload it rejects)."""
        raise IntegrationError(f"{self.kind} integrations answer downlinks on the next uplink", permanent=True)


NO_METADATA: dict[str, str] = {}
DOWNLINK_MIME = {"JSON": b"application/json", "TEXT": b"text/plain; charset=utf-8",
                 "BINARY": b"application/octet-stream"}


class UplinkSink(Protocol):
    """What the listener host (runintegrations, integrations/runner.py) hands a listener's start()."""

    async def __call__(self, uplinks: list[RawUplink]) -> None:
        """Durably queue ``uplinks`` for the pipeline; returns only once they are, raises if not."""

    def report(self, *, connected: bool | None = None, error: str | None = None, method: str = "connect") -> None:
        """Status for the integration's row: connection up/down; ``error`` "" clears the last error.

        ``method`` names what failed (connect, subscribe, queue) in the ERROR event of a new error."""

    def dropped(self, metadata: dict[str, str], payload: bytes, reason: str) -> None:
        """A message the listener refused (too large, ...): logged and recorded as a failure event."""

    async def admit(self, n: int) -> int:
        """How many of ``n`` uplinks the rate limits let through now (1..n), waiting until one may.

        UplinkBatcher calls it before each batch; a listener that batches by itself must too."""


class ListenerIntegration(BaseIntegration):
    """A type that keeps a connection open (MQTT, TCP, Kafka), hosted by runintegrations.

    ``start(emit)`` must return quickly and run its I/O in tasks of the running loop; ``stop()``
    must be idempotent and should hand on what was received before it closes the connection.
    Received messages go to ``await emit([RawUplink, ...])`` in batches; a message is
    acknowledged to its sender (MQTT PUBACK, ...) only after that returned. Never decode here.
    """

    listener = True

    @property
    def metadata(self) -> dict[str, str]:
        """What every uplink of this integration carries: its name and configuration.metadata."""
        return {"integrationName": self.integration.name, **self.config.metadata}

    async def start(self, emit: UplinkSink) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    async def downlink(self, downlink: Downlink) -> None:
        """Send one encoded downlink now (MQTT publish, TCP write on the device's connection, ...).

        Called by the listener host on its loop for the integration it runs. Raise
        IntegrationError with a clear message when it cannot be sent (no connection for that
        device, broker refused ...): the caller records it as a failure debug event."""
        raise IntegrationError(f"{self.kind} integrations do not send downlinks", permanent=True)


class ClientListenerIntegration(ListenerIntegration):
    """A client of one outside broker or server (RabbitMQ, Kafka, OPC-UA): the class named by
    ``listener_class`` does the I/O (built with the configuration, the sink, the uplink metadata
    and the integration id; ``start``/``stop``/``publish(downlink)``), the coroutine named by
    ``probe_function`` is the connection check. Both are imported only when used."""

    listener_class: ClassVar[str] = ""
    probe_function: ClassVar[str] = ""

    _connection = None

    async def start(self, emit: UplinkSink) -> None:
        listener = load_dotted(self.listener_class)
        self._connection = listener(self.config, emit, metadata=self.metadata,
                                    integration_id=str(self.integration.pk))
        await self._connection.start()

    async def stop(self) -> None:
        if self._connection is not None:
            await self._connection.stop()

    async def downlink(self, downlink: Downlink) -> None:
        await self.running().publish(downlink)

    def running(self):
        """The listener, or IntegrationError when the integration is not running here."""
        if self._connection is None:
            raise IntegrationError(f"{self.label} integration is not running")
        return self._connection

    def check(self) -> None:
        probe = load_dotted(self.probe_function)
        run_sync(lambda: probe(self.config))


class SocketServerIntegration(ListenerIntegration):
    """A server on ``clientConfiguration.port``/``bindAddress`` (TCP, UDP): the listener class
    named by ``server`` does the I/O; a downlink goes back to the device's peer (``route``)."""

    route_keys = ("remoteAddress", "remotePort")
    #: "tcp" or "udp"; the listener class's dotted path
    transport: ClassVar[str] = ""
    server: ClassVar[str] = ""

    _server = None

    async def start(self, emit: UplinkSink) -> None:
        self._server = load_dotted(self.server)(self.config.clientConfiguration, emit,
                                                  integration=self.integration, metadata=self.metadata)
        await self._server.start()

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()

    async def downlink(self, downlink: Downlink) -> None:
        if self._server is None:
            raise IntegrationError(f"{self.kind} integration '{self.integration.name}' is not running")
        await self._server.send(downlink)

    @classmethod
    def listen_ports(cls, config) -> set[tuple[str, int, str]]:
        return {(cls.transport, config.clientConfiguration.port, "")}

    def check(self) -> None:
        """The port is free on this host (or this integration listens on it here)."""
        from integrations.listeners.sockets import probe

        cc = self.config.clientConfiguration
        probe(self.transport, cc.bindAddress, cc.port, self.integration)


def run_sync(make_coroutine):
    """Run a coroutine to completion from sync code (a ``check``), also when this thread already
    runs an event loop (then in a thread of its own)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(make_coroutine())
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(lambda: asyncio.run(make_coroutine())).result()
