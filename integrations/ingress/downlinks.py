"""The HTTP integration's downlink: the device's next uplink is answered with it (reference 3.7).

ThingsBoard keeps the last encoded downlink per device and returns it, 200 with the payload and
its content type, as the response to that device's next uplink. The lean ingress, though, does
not know the device of an uplink: only the converter says, and it normally runs later in a
Celery worker. So, to keep the hot path as it is:

- Per integration, this process keeps for ``TTL_SECONDS`` the names of the devices that have a
  PENDING downlink (``PENDING``; a miss costs one indexed query, a hit a dict lookup). The
  encoder drops the entry at once in its own process (integrations.downlinks.notify); other
  processes see a new downlink within the TTL.
- No such device (the common case): nothing more happens; the uplink is queued as always.
- Otherwise the uplink's decoder also runs here, in a thread (the same sandboxed engine; no
  database), only to learn the device names. The uplink is then queued as always (durably:
  the worker decodes and stores it as usual); if one of its devices has a pending downlink, the
  newest is taken (conditional UPDATE to DELIVERED, so two requests never both get it) and
  returned as the body. The downlink is taken only after the uplink was queued, so a 503 never
  consumes it. A decoder that fails here simply means no downlink for this uplink.
"""

import asyncio
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.db import DatabaseError, close_old_connections, connection

from integrations.ingress import routes
from integrations.ingress.single_flight import single_flight
from integrations.messages import RawUplink

__all__ = ["PENDING", "TTL_SECONDS", "mark_pending", "pending", "devices_of", "take", "take_row", "MIME"]

log = logging.getLogger(__name__)

TTL_SECONDS = 1.0
DECODE_THREADS = 2
MIME = {"JSON": b"application/json", "TEXT": b"text/plain; charset=utf-8", "BINARY": b"application/octet-stream"}


@dataclass(frozen=True, slots=True)
class Pending:
    """Devices of one integration with a PENDING downlink, and its uplink converter to find them."""

    devices: frozenset = frozenset()
    #: the uplink converter (a Converter row) and the integration's type, to run it as the pipeline does
    converter: object = None
    kind: str = ""


NONE = Pending()


class _Cache:
    """integration id -> (expiry, Pending), thread-safe, short-lived."""

    def __init__(self, ttl: float = TTL_SECONDS):
        self.ttl, self.clock = ttl, time.monotonic
        self._entries: dict[str, tuple[float, Pending]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Pending | None:
        entry = self._entries.get(key)
        return None if entry is None or entry[0] < self.clock() else entry[1]

    def put(self, key: str, value: Pending) -> None:
        with self._lock:
            if len(self._entries) > 100_000:
                self._entries.clear()
            self._entries[key] = (self.clock() + self.ttl, value)

    def forget(self, key: str) -> None:
        with self._lock:
            self._entries.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


PENDING = _Cache()
_executor: ThreadPoolExecutor | None = None
_executor_lock = threading.Lock()


def _pool() -> ThreadPoolExecutor:
    global _executor
    with _executor_lock:
        if _executor is None:
            _executor = ThreadPoolExecutor(DECODE_THREADS, thread_name_prefix="ingress-decode")
        return _executor


def mark_pending(integration_ids) -> None:
    """New downlinks wait for these integrations: look again on their next uplink."""
    for integration_id in integration_ids:
        PENDING.forget(str(integration_id))


def _load(integration_id: str) -> Pending:
    from integrations.downlinks import delivery
    from integrations.models import Integration

    names = frozenset(routes.read(lambda: delivery.pending_devices(integration_id)))
    value = NONE
    if names:
        rows = Integration.objects.filter(pk=integration_id).select_related("default_converter")
        integration = routes.read(rows.first)
        if integration is not None:
            converter = integration.default_converter
            if integration.pinned_converter_version is not None:  # the version the pipeline runs
                from converters import history

                converter = history.as_converter(converter, integration.pinned_converter_version) or converter
            value = Pending(names, converter, integration.type)
    PENDING.put(integration_id, value)
    return value


# Django's thread for sync work, as routes.lookup uses (and a test's transaction is visible in).
_load_async = sync_to_async(_load, thread_sensitive=True)
#: concurrent misses of one integration share one query; _load_async looked up at call time (tests replace it)
_load_shared = single_flight(lambda integration_id: _load_async(integration_id))


async def pending(integration_id: str) -> Pending:
    value = PENDING.get(integration_id)
    if value is not None:
        return value
    return await _load_shared(integration_id)


def _decode(state: Pending, uplink: RawUplink) -> list[str]:
    """The device names the uplink converter gives ``uplink``, converted as the pipeline does."""
    from converters import uplink as conversion

    return conversion.device_names(state.converter, state.kind, uplink.payload, uplink.metadata)


async def devices_of(uplink: RawUplink) -> list[str]:
    """Devices of ``uplink`` that have a pending downlink ([] at once when the integration has none,
    and when the database cannot say: the uplink is queued as usual, the downlink waits)."""
    try:
        state = await pending(str(uplink.integration_id))
    except DatabaseError as exc:
        log.warning("could not look for downlinks of integration %s: %s", uplink.integration_id, exc)
        return []
    if not state.devices or state.converter is None:
        return []
    try:
        names = await asyncio.get_running_loop().run_in_executor(_pool(), _decode, state, uplink)
    except Exception as exc:  # the engine cannot start: the uplink goes on as usual
        log.warning("could not decode an uplink of integration %s to find its downlink: %s",
                    uplink.integration_id, exc)
        return []
    return [name for name in names if name in state.devices]


def _take(integration_id: str, names: list[str]) -> tuple[str, bytes, dict] | None:
    from integrations.downlinks import delivery
    from integrations.models import Integration

    if not connection.in_atomic_block:
        close_old_connections()
    integration = Integration.objects.filter(pk=integration_id).first()
    row = delivery.take(integration, names) if integration is not None else None
    PENDING.forget(integration_id)
    return (row.content_type, bytes(row.payload or b""), dict(row.metadata or {})) if row is not None else None


_take_async = sync_to_async(_take, thread_sensitive=True)


async def take_row(uplink: RawUplink, names: list[str]) -> tuple[str, bytes, dict] | None:
    """The newest pending downlink to one of ``names``, now DELIVERED: (content type, payload, metadata)."""
    return await _take_async(str(uplink.integration_id), names)


async def take(uplink: RawUplink, names: list[str]) -> tuple[bytes, bytes] | None:
    """The newest pending downlink to one of ``names``, now DELIVERED: (content type header, body)."""
    found = await take_row(uplink, names)
    if found is None:
        return None
    content_type, body, _ = found
    return MIME.get(content_type, MIME["BINARY"]), body
