"""Workflows on device and asset data that several entry points share."""

from devices.choices import AttributeScope

__all__ = ["on_attributes_saved"]


def on_attributes_saved(entity, scope: str, values: dict) -> None:
    """Called once after ``values`` ({key: value}) were saved as ``scope`` attributes of ``entity``.

    ``entity`` is a Device, Asset or Customer row. This is the single place where ThingsBoard
    emits an ATTRIBUTES_UPDATED message to the rule engine (with ``scope`` in its metadata): for
    SHARED_SCOPE on a device that is what downlink rule chains react to. Server and shared saves
    emit it (client attributes come from the device). Never raises: the values are saved already.
    """
    if scope not in (AttributeScope.SERVER_SCOPE, AttributeScope.SHARED_SCOPE):
        return
    from rulechains import services  # imported late: rulechains depends on devices

    services.attributes_updated(entity, scope, values)
