"""ThingsBoard's gateway MQTT API (thingsboard.io/docs/reference/gateway-mqtt-api/), for a device whose
``additionalInfo.gateway`` is true: telemetry and client attributes of the devices behind it, by name.

    v1/gateway/connect      {"device": "Meter A", "type": "meter"}   the device made when missing
    v1/gateway/disconnect   {"device": "Meter A"}
    v1/gateway/telemetry    {"Meter A": [{"ts": ms, "values": {...}}, {"k": v}], "Meter B": {...}}
    v1/gateway/attributes   {"Meter A": {"k": v}}                     CLIENT_SCOPE

As ThingsBoard: a named device is looked up in the gateway's tenant only (never another tenant's, whatever
the name), and one missing is created there with the named type as its profile (``default`` when none),
the gateway's customer, ``additionalInfo.lastConnectedGateway`` and a "Created" relation from the gateway;
the tenant profile's device limit applies. Each device's data is stored as device_api.py stores a device's
own (rate limits, usage, the rule engine). A payload ThingsBoard refuses is device_api.BadPayload, the
whole message dropped. Not served yet: shared-attribute updates, attribute requests and RPC for the devices
behind a gateway (v1/gateway/attributes subscriptions, v1/gateway/attributes/request, v1/gateway/rpc).
"""

from typing import NamedTuple

from django.db import transaction

from devices import relations
from devices.models import Device
from devices.provisioning import Provisioner
from transports.mqtt import device_api

__all__ = ["connect_device", "post_telemetry", "post_attributes", "connect", "disconnect", "device_name",
           "DEFAULT_TYPE"]

DEFAULT_TYPE = "default"
_MAX_NAME = 255


class _Update(NamedTuple):
    """What devices/provisioning.py's Provisioner needs to create one device."""

    entity_type: str
    name: str
    profile: str
    label: str | None = None
    customer: str | None = None
    group: str | None = None


class _Ref(NamedTuple):
    entity_type: str
    pk: object


def _name(value, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_NAME or "\x00" in value:
        raise device_api.BadPayload(f"{what} must be a device name of 1 to {_MAX_NAME} characters")
    return value


def device_name(payload: bytes) -> tuple[str, str]:
    """``(name, type)`` of a connect or disconnect message."""
    body = device_api.parse(payload)
    if not isinstance(body, dict):
        raise device_api.BadPayload("the message must be a JSON object with 'device'")
    kind = body.get("type") or DEFAULT_TYPE
    return _name(body.get("device"), "'device'"), _name(kind, "'type'")


def _gateway(device: Device) -> Device:
    if not (device.additional_info or {}).get("gateway"):
        raise device_api.BadPayload("the device is no gateway (its additionalInfo.gateway is not true)")
    return device


def connect(gateway: Device, payload: bytes) -> None:
    name, kind = device_name(payload)
    connect_device(_gateway(gateway), name, kind)


def disconnect(gateway: Device, payload: bytes) -> None:
    """Nothing is kept per device behind a gateway, so only checked, as ThingsBoard closes the device's session."""
    _gateway(gateway)
    device_name(payload)


def connect_device(gateway: Device, name: str, kind: str = DEFAULT_TYPE) -> Device:
    """The device ``name`` of the gateway's tenant (profile loaded), created behind the gateway when missing."""
    device = Device.objects.select_related("profile").filter(tenant_id=gateway.tenant_id, name=name).first()
    if device is None:
        provisioner = Provisioner(gateway.tenant_id, allow_create=True)
        customer = gateway.customer.title if gateway.customer_id else None
        try:
            ref = provisioner.entity(_Update("DEVICE", name, kind, customer=customer))
        except ValueError as e:  # the tenant's device limit (tenants/limits/entities.py), as an uplink's
            raise device_api.BadPayload(f"device {name[:64]!r} not created: {e}") from None
        device = Device.objects.select_related("profile").get(tenant_id=gateway.tenant_id, pk=ref.pk)
        if any(created.pk == device.pk for created in provisioner.created):
            relations.save(gateway.tenant_id, _Ref("DEVICE", gateway.pk), _Ref("DEVICE", device.pk), "Created")
    if (device.additional_info or {}).get("lastConnectedGateway") != str(gateway.pk):
        _remember_gateway(device, gateway)
    return device


def _remember_gateway(device: Device, gateway: Device) -> None:
    """``additionalInfo.lastConnectedGateway`` set on the row as it is now (locked: a concurrent REST edit of
    the device is kept, not overwritten), through the model's save (its signals run), as ThingsBoard's
    saveDevice; ``device`` gets the saved document."""
    with transaction.atomic():
        locked = Device.objects.select_for_update().filter(pk=device.pk).first()
        if locked is None:  # deleted meanwhile
            return
        info = locked.additional_info if isinstance(locked.additional_info, dict) else {}
        if info.get("lastConnectedGateway") != str(gateway.pk):
            locked.additional_info = {**info, "lastConnectedGateway": str(gateway.pk)}
            locked.save(update_fields=["additional_info"])
    device.additional_info = locked.additional_info


def _by_device(payload: bytes) -> dict:
    body = device_api.parse(payload)
    if not isinstance(body, dict) or not body:
        raise device_api.BadPayload("a gateway message must be a JSON object keyed by device name")
    for name in body:
        _name(name, "each key")
    return body


def post_telemetry(gateway: Device, payload: bytes) -> None:
    _gateway(gateway)
    checked = {name: device_api.telemetry_entries(values) for name, values in _by_device(payload).items()}
    for name, entries in checked.items():  # all checked first: a bad entry drops the whole message
        device_api.store_telemetry(connect_device(gateway, name), entries)


def post_attributes(gateway: Device, payload: bytes) -> None:
    _gateway(gateway)
    checked = {name: device_api.attribute_values(values) for name, values in _by_device(payload).items()}
    for name, values in checked.items():
        device_api.store_attributes(connect_device(gateway, name), values)
