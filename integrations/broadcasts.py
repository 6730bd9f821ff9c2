"""The single publisher of live debug events (STYLE.md rule 12).

``converters.events.write_events`` announces each stored batch (``events_written``, once the
transaction commits); :func:`publish_events`, connected to it when the integrations app is ready,
sends it on. Browsers subscribed through ``integrations/consumers.py`` to an entity's group
receive each event as the events API would list it. One channel-layer message per entity and
batch, never one per event.

Publishing never blocks the caller (a pipeline thread) and never fails it:

- with channels-redis (production) the message goes out from one publisher thread with its own
  event loop, so connections are reused, and reaches consumers in every process;
- with the InMemoryChannelLayer (embedded mode) a message sent from another thread would sit
  unnoticed in the consumer's loop (DESIGN.md section 9), so it is sent on the loop the
  consumers run on, which they register when they connect; with no consumer in this process
  there is nobody to tell, and nothing is sent.
"""

import asyncio
import concurrent.futures
import logging
import threading
import weakref
from collections import defaultdict
from collections.abc import Iterable
from typing import Literal, TypedDict

from channels.layers import InMemoryChannelLayer, get_channel_layer
from django.dispatch import receiver

from converters.events import events_written

__all__ = ["DebugEventsMessage", "group_name", "publish_events", "register_consumer_loop", "flush"]

log = logging.getLogger(__name__)


class EventInfo(TypedDict):
    """One event as ``GET /api/events/...`` lists it (converters.api.events.event_info)."""

    id: dict
    createdTime: int
    tenantId: dict
    type: str
    uid: str
    entityId: dict
    body: dict


class DebugEventsMessage(TypedDict):
    """Channel-layer message to an entity's group; the consumer's ``debug_events`` handles it."""

    type: Literal["debug.events"]
    events: list[EventInfo]


def group_name(entity_type: str, entity_id) -> str:
    return f"debug-events.{entity_type}.{str(entity_id).replace('-', '')}"


_consumer_loops: "weakref.WeakSet[asyncio.AbstractEventLoop]" = weakref.WeakSet()
_publisher: asyncio.AbstractEventLoop | None = None
_publisher_lock = threading.Lock()
_in_flight: set = set()


def register_consumer_loop(loop: asyncio.AbstractEventLoop) -> None:
    """Called by each consumer on connect: in-memory messages are sent on this loop."""
    _consumer_loops.add(loop)


def publish_events(events: Iterable) -> int:
    """Send stored DebugEvent rows to their entities' groups; returns the messages sent."""
    layer = get_channel_layer()
    if layer is None:
        return 0
    in_memory = isinstance(layer, InMemoryChannelLayer)
    loops = [loop for loop in list(_consumer_loops) if not loop.is_closed()] if in_memory else [_publisher_loop()]
    if not loops:
        return 0
    from converters.api.events import event_info

    grouped: dict[str, list[EventInfo]] = defaultdict(list)
    for event in events:
        grouped[group_name(event.entity_type, event.entity_id)].append(event_info(event))
    for group, infos in grouped.items():
        message: DebugEventsMessage = {"type": "debug.events", "events": infos}
        for loop in loops:
            _submit(loop, layer.group_send(group, message))
    return len(grouped)


@receiver(events_written, dispatch_uid="integrations.broadcasts.events_written")
def _written(sender, events, **kwargs) -> None:
    publish_events(events)


def _submit(loop: asyncio.AbstractEventLoop, coroutine) -> None:
    try:
        future = asyncio.run_coroutine_threadsafe(coroutine, loop)
    except RuntimeError:  # the loop closed meanwhile
        coroutine.close()
        return
    _in_flight.add(future)
    future.add_done_callback(_done)


def _done(future) -> None:
    _in_flight.discard(future)
    if not future.cancelled() and future.exception() is not None:
        log.warning("publishing debug events failed: %s", future.exception())


def flush(timeout: float = 5.0) -> bool:
    """Wait until what was published so far has been sent (a process about to exit); True if it was."""
    done, pending = concurrent.futures.wait(list(_in_flight), timeout)
    return not pending


def _publisher_loop() -> asyncio.AbstractEventLoop:
    global _publisher
    with _publisher_lock:
        if _publisher is None or _publisher.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="debug-event-publisher", daemon=True).start()
            _publisher = loop
        return _publisher
