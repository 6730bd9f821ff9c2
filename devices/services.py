"""Workflows on device and asset data that several entry points share."""

__all__ = ["on_attributes_saved"]


def on_attributes_saved(entity, scope: str, values: dict) -> None:
    """Called once after ``values`` ({key: value}) were saved as ``scope`` attributes of ``entity``.

    ``entity`` is a Device, Asset or Customer row. This is the single place where ThingsBoard
    emits an ATTRIBUTES_UPDATED message to the rule engine (with ``scope`` in its metadata) and,
    for SHARED_SCOPE on a device, notifies the device of the change (which is what downlink rule
    chains react to). It does nothing yet: the rule-chain work hooks in here.
    """
