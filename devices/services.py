"""Workflows on device and asset data that several entry points share."""

from django.dispatch import Signal

__all__ = ["attributes_saved", "on_attributes_saved"]

#: Sent once after attributes were saved through the API, with ``entity`` (a Device, Asset or
#: Customer row), ``scope`` and ``values`` ({key: value}); the sender is the entity's model. The
#: rule engine subscribes (rulechains/signals.py: ThingsBoard's ATTRIBUTES_UPDATED): the entity
#: core publishes what happened and does not know who acts on it.
attributes_saved = Signal()


def on_attributes_saved(entity, scope: str, values: dict) -> None:
    """Called once after ``values`` were saved as ``scope`` attributes of ``entity``: sends
    :data:`attributes_saved`. Never raises (the values are saved already): a failing receiver
    is logged by Django's ``send_robust``."""
    attributes_saved.send_robust(type(entity), entity=entity, scope=scope, values=values)
