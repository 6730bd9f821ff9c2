"""Workflows on device and asset data that several entry points share."""

from contextvars import ContextVar

from django.dispatch import Signal

__all__ = ["attributes_saved", "on_attributes_saved", "DEFERRED_WAITS"]

#: Sent once after attributes were saved through the API, with ``entity`` (a Device, Asset or
#: Customer row), ``scope`` and ``values`` ({key: value}); the sender is the entity's model. The
#: rule engine subscribes (rulechains/signals.py: ThingsBoard's ATTRIBUTES_UPDATED): the entity
#: core publishes what happened and does not know who acts on it.
attributes_saved = Signal()

#: Set (to a list) by a caller that serves many saves from one thread (the lean attribute-save
#: app, devices/api/lean_batch.py): a receiver that would block until its work is handed on (the
#: rule engine's outbox waits for the broker) appends a ``concurrent.futures.Future`` here
#: instead, and the caller awaits it before answering. Unset, receivers block as usual.
DEFERRED_WAITS: ContextVar[list | None] = ContextVar("devices_deferred_waits", default=None)


def on_attributes_saved(entity, scope: str, values: dict) -> None:
    """Called once after ``values`` were saved as ``scope`` attributes of ``entity``: sends
    :data:`attributes_saved`. Never raises (the values are saved already): a failing receiver
    is logged by Django's ``send_robust``."""
    attributes_saved.send_robust(type(entity), entity=entity, scope=scope, values=values)
