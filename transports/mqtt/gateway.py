"""ThingsBoard's gateway MQTT API (thingsboard.io/docs/reference/gateway-mqtt-api/), for a device whose
``additionalInfo.gateway`` is true: what it publishes for the devices behind it, by name.

    v1/gateway/connect      {"device": "Meter A", "type": "meter"}   the device made when missing
    v1/gateway/disconnect   {"device": "Meter A"}
    v1/gateway/telemetry    {"Meter A": [{"ts": ms, "values": {...}}, {"k": v}], "Meter B": {...}}
    v1/gateway/attributes   {"Meter A": {"k": v}}                     CLIENT_SCOPE
    v1/gateway/attributes/request, v1/gateway/rpc (replies), v1/gateway/claim: gateway_api.py

As ThingsBoard: a named device is looked up in the gateway's tenant only (never another tenant's, whatever
the name), and one missing is created there with the named type as its profile (``default`` when none),
the gateway's customer, ``additionalInfo.lastConnectedGateway`` and a "Created" relation from the gateway;
the tenant profile's device limit applies. Each device's data is stored as device_api.py stores a device's
own (rate limits, usage, the rule engine). Every gateway message first takes one message's tokens of the
gateway's own limits (device_api.take_message), before its payload is read, so a payload refused counts as
any other (a device that is no gateway's too); the data of each device behind it then takes that device's.
A payload ThingsBoard refuses is device_api.BadPayload, the whole message dropped. Each function returns the
devices the message named, which the session then serves as connected (gateway_session.py). A message names at
most DEVICE_MQTT_GATEWAY_MAX_DEVICES_PER_MESSAGE devices and a session serves at most
DEVICE_MQTT_GATEWAY_MAX_DEVICES_PER_SESSION (:class:`Served`, the session's): a message past either is dropped
whole before anything is stored or made, as is one that names the gateway itself. A message's devices are
looked up in one query (``name__in``).
"""

from collections.abc import Container, Sized
from typing import NamedTuple

from django.db import transaction

from devices import relations
from devices.models import Device
from devices.provisioning import Provisioner
from transports.mqtt import device_api

__all__ = ["connect_device", "connect_devices", "Served", "bounded", "post_telemetry", "post_attributes", "connect",
           "disconnect", "device_name", "checked_gateway", "name", "DEFAULT_TYPE"]

DEFAULT_TYPE = "default"
_MAX_NAME = 255
_CHUNK = 500  # names one query looks up at most


class Served(NamedTuple):
    """What a gateway's session serves: ``pks``, the (str) pks of its devices (the session's own mapping, only
    read here), and its bounds (conf.py's)."""

    pks: Container | Sized
    per_message: int
    per_session: int


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


def name(value, what: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > _MAX_NAME or "\x00" in value:
        raise device_api.BadPayload(f"{what} must be a device name of 1 to {_MAX_NAME} characters")
    return value


def device_name(payload: bytes) -> tuple[str, str]:
    """``(name, type)`` of a connect or disconnect message."""
    body = device_api.parse(payload)
    if not isinstance(body, dict):
        raise device_api.BadPayload("the message must be a JSON object with 'device'")
    kind = body.get("type") or DEFAULT_TYPE
    return name(body.get("device"), "'device'"), name(kind, "'type'")


def checked_gateway(device: Device) -> Device:
    """``device``, its message counted (device_api.take_message); BadPayload when it is no gateway."""
    device_api.take_message(device)
    if not (device.additional_info or {}).get("gateway"):
        raise device_api.BadPayload("the device is no gateway (its additionalInfo.gateway is not true)")
    return device


def connect(gateway: Device, payload: bytes, served: Served | None = None) -> list[Device]:
    checked_gateway(gateway)
    named, kind = device_name(payload)
    return [connect_devices(gateway, [named], kind, served)[named]]


def disconnect(gateway: Device, payload: bytes) -> str:
    """The name of the device the gateway no longer serves (the session stops its updates and calls)."""
    checked_gateway(gateway)
    return device_name(payload)[0]


def bounded(names, served: Served | None) -> None:
    """BadPayload when a message names more devices than ``served`` allows in one message."""
    if served is not None and len(names) > served.per_message:
        raise device_api.BadPayload(f"a gateway message may name at most {served.per_message} devices")


def connect_devices(gateway: Device, names: list[str], kind: str = DEFAULT_TYPE,
                    served: Served | None = None) -> dict[str, Device]:
    """``{name: device}`` of the gateway's tenant (profiles loaded; one query), each created behind the gateway
    when missing; BadPayload, before anything is made, when a name is the gateway's own or the message is past
    ``served``'s bounds."""
    names = list(dict.fromkeys(names))
    bounded(names, served)
    if gateway.name in names:
        raise device_api.BadPayload(f"{gateway.name[:64]!r} is the gateway itself, not a device behind it")
    found = {}
    for start in range(0, len(names), _CHUNK):
        found.update((device.name, device) for device in Device.objects.select_related("profile").filter(
            tenant_id=gateway.tenant_id, name__in=names[start:start + _CHUNK]))
    if served is not None:
        new = sum(1 for named in names if named not in found or str(found[named].pk) not in served.pks)
        if new and len(served.pks) + new > served.per_session:
            raise device_api.BadPayload(f"a gateway session serves at most {served.per_session} devices")
    return {named: _connected(gateway, named, kind, found.get(named)) for named in names}


def connect_device(gateway: Device, name: str, kind: str = DEFAULT_TYPE) -> Device:
    """The device ``name`` of the gateway's tenant (profile loaded), created behind the gateway when missing."""
    return connect_devices(gateway, [name], kind)[name]


def _connected(gateway: Device, name: str, kind: str, device: Device | None) -> Device:
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


def _by_device(payload: bytes, served: Served | None) -> dict:
    body = device_api.parse(payload)
    if not isinstance(body, dict) or not body:
        raise device_api.BadPayload("a gateway message must be a JSON object keyed by device name")
    bounded(body, served)
    for key in body:
        name(key, "each key")
    return body


def post_telemetry(gateway: Device, payload: bytes, served: Served | None = None) -> list[Device]:
    checked_gateway(gateway)
    checked = {named: device_api.telemetry_entries(values) for named, values in _by_device(payload, served).items()}
    devices = connect_devices(gateway, list(checked), served=served)  # all checked first: a bad one drops all
    for named, entries in checked.items():
        device_api.store_telemetry(devices[named], entries)
    return list(devices.values())


def post_attributes(gateway: Device, payload: bytes, served: Served | None = None) -> list[Device]:
    checked_gateway(gateway)
    checked = {named: device_api.attribute_values(values) for named, values in _by_device(payload, served).items()}
    devices = connect_devices(gateway, list(checked), served=served)
    for named, values in checked.items():
        device_api.store_attributes(devices[named], values)
    return list(devices.values())
