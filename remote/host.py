"""Runs the one integration a remote runner was configured with, as runintegrations would.

The server sends the integration (``config`` frame: id, name, type, configuration, enabled,
version); the host builds the type's class from integrations.types with a stand-in for the
model row (:class:`RemoteIntegration`) and starts it with a RemoteSink: a listener type as
runintegrations does, a push type (HTTP family) behind the runner's HTTP port (remote/http.py). A changed configuration
restarts it (a new version with the same connection settings does not); a disabled one stops
it. A start that fails is reported (LC_EVENT FAILED on the server) and tried again after
RETRY_AFTER seconds. With the integration's ``convertRemotely`` the server sends its uplink
converter too; the host keeps it (``converter``, remote/convert.py) for the sink, and a new one
(the converter saved on the server) replaces it without restarting the listener.
"""

import asyncio
import json
import logging
import uuid
from dataclasses import dataclass, field

from integrations.messages import Downlink
from integrations.types import TYPES
from integrations.types.base import IntegrationError
from remote.convert import LocalConverter
from remote.sink import RemoteSink

__all__ = ["Host", "RemoteIntegration"]

log = logging.getLogger(__name__)

START_TIMEOUT = STOP_TIMEOUT = 10.0
RETRY_AFTER = 30.0


@dataclass
class RemoteIntegration:
    """What listener types read of an Integration row, without the database."""

    pk: uuid.UUID
    name: str
    type: str
    configuration: dict = field(default_factory=dict)
    version: int = 0
    enabled: bool = True
    #: the runner's key: CoAP paths and the HTTP endpoint's URL end with it, as on the server
    routing_key: str = ""

    @property
    def id(self):
        return self.pk

    @classmethod
    def from_config(cls, config: dict, routing_key: str = "") -> "RemoteIntegration":
        return cls(uuid.UUID(str(config["id"])), str(config["name"]), str(config["type"]),
                   dict(config.get("configuration") or {}), int(config.get("version") or 0),
                   bool(config.get("enabled", True)), routing_key)


def _fingerprint(config: dict) -> str:
    keys = ("id", "name", "type", "configuration", "enabled")
    return json.dumps({k: config.get(k) for k in keys}, sort_keys=True, default=str)


class Host:
    def __init__(self, runner):
        self.runner = runner
        self.integration: RemoteIntegration | None = None
        self.instance = None
        self.fingerprint: str | None = None
        self._retry: asyncio.Task | None = None
        #: the uplink converter that runs here (None: uplinks travel raw, the server converts them)
        self.converter: LocalConverter | None = None

    async def apply(self, config: dict) -> None:
        """Run ``config``: start, restart or stop the integration as it changed."""
        self._take_converter(config)
        fingerprint = _fingerprint(config)
        if fingerprint == self.fingerprint:
            return
        running = self.instance is not None
        await self.stop(lifecycle=False)
        self.fingerprint = fingerprint
        self.integration = integration = RemoteIntegration.from_config(config, getattr(self.runner, "key", ""))
        if not integration.enabled:
            log.info("integration %s is disabled", integration.name)
            if running:
                self.runner.lifecycle("STOPPED")
            return
        await self._start(config, "UPDATED" if running else "STARTED")

    def _take_converter(self, config: dict) -> None:
        spec = config.get("converter")
        if spec == (self.converter.spec if self.converter is not None else None):
            return
        if spec is None:
            self.converter = None
            log.info("uplinks travel raw: the server converts them")
            return
        try:
            self.converter = LocalConverter(spec, str(config.get("type")))
        except (KeyError, TypeError, ValueError) as exc:
            self.converter = None
            log.error("the converter the server sent cannot run here (%r): uplinks travel raw", exc)
            return
        log.info("uplink converter %s received: uplinks are converted here", self.converter)

    async def _start(self, config: dict, event: str) -> None:
        integration = self.integration
        try:
            instance, starting = self._build(integration, RemoteSink(self.runner, integration, self))
            await asyncio.wait_for(starting, START_TIMEOUT)
        except Exception as exc:
            error = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            log.error("integration %s failed to start: %s", integration.name, error)
            self.runner.lifecycle("FAILED", error)
            self.runner.listener_state(connected=False, error=error)
            self._retry = asyncio.get_running_loop().create_task(self._retry_later(config))
            return
        self.instance = instance
        log.info("integration %s (%s) %s", integration.name, integration.type, event.lower())
        self.runner.lifecycle(event)

    def _build(self, integration: RemoteIntegration, sink: RemoteSink):
        """The running object and the coroutine that starts it: a listener type as runintegrations
        runs it, or a push type (HTTP family) behind the runner's own HTTP port (remote/http.py)."""
        kind = TYPES.load(integration.type) if integration.type in TYPES else None
        if kind is not None and kind.listener:
            instance = kind(integration)
            return instance, instance.start(sink)
        if kind is not None and getattr(kind, "endpoint", ""):
            from remote.http import HttpListener

            http = self.runner.http
            listener = HttpListener(kind(integration), sink, routing_key=self.runner.key, host=http["host"],
                                    port=http["port"], max_body=http["max_body"])
            return listener, listener.start()
        raise IntegrationError(f"{integration.type} integrations cannot run on a remote runner", permanent=True)

    async def _retry_later(self, config: dict) -> None:
        await asyncio.sleep(RETRY_AFTER)
        self._retry = None
        if self.instance is None and self.fingerprint == _fingerprint(config):
            await self._start(config, "STARTED")

    async def stop(self, *, lifecycle: bool = True) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        instance, self.instance = self.instance, None
        if instance is None:
            return
        try:
            await asyncio.wait_for(instance.stop(), STOP_TIMEOUT)
        except Exception:
            log.exception("integration %s did not stop cleanly", self.integration.name)
        if lifecycle:
            self.runner.lifecycle("STOPPED")

    async def downlink(self, downlink: Downlink) -> None:
        if self.instance is None:
            raise IntegrationError("the integration is not running on the remote runner")
        await self.instance.downlink(downlink)
