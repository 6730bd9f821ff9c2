"""The base class of a CUSTOM integration: your own Python class, for a protocol nobody ships.

An integration of type CUSTOM names the class in its configuration (ThingsBoard's keys)::

    {"clazz": "mypackage.mymodule.MyIntegration",
     "configuration": "{\\"port\\": 5000}",          # a JSON string (as ThingsBoard) or an object
     "metadata": {"site": "plant-1"}}

and ``runintegrations`` or a remote runner (``python -m remote``) loads and runs it, if its
module is allowed there (setting CUSTOM_INTEGRATION_CLASSES, or ``--allow-custom`` of the remote
runner: dotted prefixes; the class must also subclass :class:`CustomIntegrationBase`). Write::

    class MyIntegration(CustomIntegrationBase):
        async def start(self):                  # open sockets, start tasks; return quickly
            ...
            await self.publish(b'{"temp": 21}', {"remoteAddress": "10.0.0.7"})
        async def stop(self):                   # idempotent: close what start opened
            ...
        async def on_downlink(self, downlink):  # a Downlink (integrations/messages.py): payload, metadata, route
            ...

``publish(payload, metadata)`` hands one message (bytes, str, or a JSON-serialisable object) to
the integration's uplink converter, with ``metadata`` added to the integration's own
(``integrationName`` and ``configuration.metadata``). It returns a future that resolves once the
message is durably queued (on the server, or in the remote runner's outbox): await it before
acknowledging the message to its sender; or ignore it. Raise ``IntegrationError`` (from
integrations.types.base) from ``on_downlink`` when a downlink cannot be sent.

This module imports no Django models: a remote runner loads custom integrations without a database.
"""

import asyncio
import json
from typing import Any

from integrations.messages import Downlink, RawUplink
from tbproject.clock import now_ms

__all__ = ["CustomIntegrationBase"]


class CustomIntegrationBase:
    """Subclass it; the host builds it with the integration's parsed ``config`` and calls the hooks.

    Attributes: ``config`` (the dict of ``configuration``), ``name`` (the integration's name),
    ``integration_id``, ``metadata`` (what every uplink carries).
    """

    def __init__(self, config: dict, *, name: str, integration_id: str, metadata: dict[str, str], batcher):
        self.config, self.name, self.integration_id = config, name, integration_id
        self.metadata = dict(metadata)
        self._batcher = batcher

    def publish(self, payload: Any, metadata: dict[str, str] | None = None) -> asyncio.Future:
        """Send one uplink on; the future resolves once it is durably queued."""
        if isinstance(payload, str):
            body, kind = payload.encode(), "TEXT"
        elif isinstance(payload, bytes | bytearray | memoryview):
            body, kind = bytes(payload), "BINARY"
        else:
            body, kind = json.dumps(payload).encode(), "JSON"
        extra = {str(k): str(v) for k, v in (metadata or {}).items()}
        return self._batcher.add(RawUplink(self.integration_id, body, {**self.metadata, **extra}, now_ms(), kind))

    async def start(self) -> None:
        """Start receiving; return once running (run long work in tasks of the running loop)."""
        raise NotImplementedError

    async def stop(self) -> None:
        """Stop receiving and release what start() took; must be idempotent."""

    async def on_downlink(self, downlink: Downlink) -> None:
        """Send one encoded downlink to the device; raise IntegrationError when it cannot be."""
        from integrations.types.base import IntegrationError

        raise IntegrationError(f"custom integration '{self.name}' does not send downlinks", permanent=True)
