"""Debug-event policy and batched writing, shared by converters and (later) integrations.

Policy (ThingsBoard 3.9+, reference 5): while now < ``allEnabledUntil`` every run is recorded;
afterwards only failures, and only when ``failuresEnabled``. Switching "all" on sets
``allEnabledUntil = now + DEBUG_ALL_DURATION_MINUTES``.

Writing: callers collect events in an :class:`EventBatch` and write them with one
``bulk_create`` per batch (a message-at-a-time pipeline would otherwise pay one INSERT per
message)::

    with EventBatch() as batch:
        for message in messages:
            services.record_debug(converter, ..., batch=batch)
    # written here
"""

import socket
from functools import lru_cache

from django.conf import settings
from django.db import transaction
from django.dispatch import Signal

from converters.models import DebugEvent
from tbproject.clock import now_ms

__all__ = [
    "should_record", "all_enabled_until", "cap_all_enabled_until", "EventBatch", "write_events", "server_name",
    "truncate", "events_written",
]

BULK_SIZE = 500
#: Longest text kept in one field of an event body (ThingsBoard truncates debug payloads too).
MAX_TEXT = 64 * 1024

#: Sent with ``events=`` (the DebugEvent rows) once a batch written by :func:`write_events` is
#: committed. integrations/broadcasts.py streams them to the browsers (connected in the
#: integrations app's ready()): converters/ does not know who listens.
events_written = Signal()


def should_record(failures_enabled: bool, all_enabled_until: int, *, failed: bool, now: int | None = None) -> bool:
    """Whether a run with this outcome is recorded under these debug settings."""
    now = now_ms() if now is None else now
    return now < (all_enabled_until or 0) or (failed and bool(failures_enabled))


def all_enabled_until(now: int | None = None) -> int:
    """The end of a debug-all window switched on at ``now``."""
    now = now_ms() if now is None else now
    return now + int(getattr(settings, "DEBUG_ALL_DURATION_MINUTES", 15)) * 60_000


def cap_all_enabled_until(value, now: int | None = None) -> int:
    """A client-sent allEnabledUntil, never further ahead than one window (0 when in the past)."""
    now = now_ms() if now is None else now
    try:
        value = int(value or 0)
    except (TypeError, ValueError):
        return 0
    return 0 if value <= now else min(value, all_enabled_until(now))


@lru_cache(maxsize=1)
def server_name() -> str:
    """This process's server id in event bodies (ThingsBoard shows the service id there)."""
    return socket.gethostname() or "localhost"


def truncate(text: str | None, limit: int = MAX_TEXT) -> str | None:
    if text is None or len(text) <= limit:
        return text
    return f"{text[:limit]}...[truncated {len(text) - limit} characters]"


def write_events(events) -> int:
    """Insert ``events`` (unsaved DebugEvent objects) with bulk INSERTs; returns how many.

    Once the transaction commits they are announced (:data:`events_written`): the live stream."""
    events = list(events)
    if events:
        DebugEvent.objects.bulk_create(events, batch_size=BULK_SIZE)
        if events_written.has_listeners(DebugEvent):
            transaction.on_commit(lambda: events_written.send(DebugEvent, events=events))
    return len(events)


class EventBatch:
    """Collects events and writes them together: on :meth:`flush`, when ``max_rows`` are
    pending, and when a ``with`` block ends (also after an exception: the events of the
    messages that did run are still worth keeping)."""

    def __init__(self, max_rows: int = BULK_SIZE):
        self.max_rows = max_rows
        self.pending: list[DebugEvent] = []
        self.written = 0

    def add(self, event: DebugEvent) -> None:
        self.pending.append(event)
        if len(self.pending) >= self.max_rows:
            self.flush()

    def flush(self) -> int:
        pending, self.pending = self.pending, []
        count = write_events(pending)
        self.written += count
        return count

    def __len__(self) -> int:
        return len(self.pending)

    def __enter__(self) -> "EventBatch":
        return self

    def __exit__(self, *exc) -> None:
        self.flush()
