"""Workflows on device and asset data that several entry points share."""

from contextvars import ContextVar

from django.dispatch import Signal

__all__ = ["attributes_saved", "on_attributes_saved", "BATCHED", "device_posted", "on_device_posted"]

#: Sent once after attributes were saved through the API, with ``entity`` (a Device, Asset or
#: Customer row), ``scope`` and ``values`` ({key: value}); the sender is the entity's model. The
#: rule engine subscribes (rulechains/signals.py: ThingsBoard's ATTRIBUTES_UPDATED): the entity
#: core publishes what happened and does not know who acts on it.
attributes_saved = Signal()

#: Set (to a dict) by a caller that sends many :data:`attributes_saved` in a row from one thread (the
#: lean attribute-save batch, devices/api/lean_batch.py). A receiver whose work is cheaper done once
#: for all of them (the rule engine's outbox: one broker publish) adds its items with
#: ``BATCHED.get().setdefault(flush, []).extend(items)`` instead of doing it per signal; the caller
#: then calls each ``flush(items)`` once, before it answers any of the requests. Unset, receivers
#: do their work at once, as usual.
BATCHED: ContextVar[dict | None] = ContextVar("devices_batched", default=None)


def on_attributes_saved(entity, scope: str, values: dict) -> None:
    """Called once after ``values`` were saved as ``scope`` attributes of ``entity``: sends
    :data:`attributes_saved`. Never raises (the values are saved already): a failing receiver
    is logged by Django's ``send_robust``."""
    attributes_saved.send_robust(type(entity), entity=entity, scope=scope, values=values)


#: Sent once after a device posted data it reported itself through a device transport
#: (devices/api/device_http.py), already stored: ``device`` (a Device row, profile loaded),
#: ``msg_type`` (ThingsBoard's POST_TELEMETRY_REQUEST or POST_ATTRIBUTES_REQUEST) and ``data``:
#: ``[(ts, {key: value})]`` for telemetry, ``{key: value}`` (CLIENT_SCOPE) for attributes. Also sent
#: with PROVISION_SUCCESS / PROVISION_FAILURE and the provision request as a dict
#: (devices/device_provision.py). The rule-engine hand-off subscribes (integrations/device_posts.py),
#: as for integration uplinks.
device_posted = Signal()


def on_device_posted(device, msg_type: str, data) -> None:
    """Sends :data:`device_posted`. Never raises: the data is stored and the device answered."""
    device_posted.send_robust(type(device), device=device, msg_type=msg_type, data=data)
