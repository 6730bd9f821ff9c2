"""Telemetry and attribute writes, announced to the apps above devices/ once they commit.

Every write of time series (devices.telemetry.write_points) and attributes (devices.attributes:
save_attributes, save_attributes_many) calls :func:`telemetry_written` or
:func:`attributes_written` with the rows it wrote and, when the caller knows it, the tenant.
devices/ does not know who listens: an app above subscribes (calculated/ does, in its ready())::

    data_events.subscribe(listener)

    def listener(tenant_id, kind, rows):   # kind: TELEMETRY or ATTRIBUTES; tenant_id may be None
        if not anyone_cares(tenant_id):    # called in the writer's hot path: one cached lookup
            return None
        summary = summarize(rows)          # rows: (entity_id, key, ts, value) points, or
        return lambda: work(summary)       # attribute rows starting (entity_id, scope, key)

A listener runs inside the write and must be cheap: it answers None (nothing to do, the common
case) or a function of no arguments that devices/ runs once the write's transaction commits (at
once outside a transaction; never after a rollback). The function's exceptions are logged, never
raised into the writer: a listener's failure loses no written data.
"""

from collections.abc import Callable

from django.db import transaction

__all__ = ["TELEMETRY", "ATTRIBUTES", "subscribe", "unsubscribe", "telemetry_written", "attributes_written"]

TELEMETRY = "TELEMETRY"
ATTRIBUTES = "ATTRIBUTES"

_listeners: list[Callable] = []


def subscribe(listener: Callable) -> None:
    """Add ``listener(tenant_id, kind, rows) -> callable | None`` (once; a second call is ignored)."""
    if listener not in _listeners:
        _listeners.append(listener)


def unsubscribe(listener: Callable) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def _announce(tenant_id, kind: str, rows) -> None:
    for listener in _listeners:
        work = listener(tenant_id, kind, rows)
        if work is not None:
            transaction.on_commit(work, robust=True)


def telemetry_written(points: list, tenant_id=None) -> None:
    """``points`` ((entity_id, key, ts, value) tuples or Points) were written."""
    if _listeners:
        _announce(tenant_id, TELEMETRY, points)


def attributes_written(rows, tenant_id=None) -> None:
    """``rows`` (tuples starting (entity_id, scope, key); iterable once) were written."""
    if _listeners:
        _announce(tenant_id, ATTRIBUTES, rows)
