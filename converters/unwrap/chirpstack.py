"""ChirpStack v4: the HTTP integration's ``up`` event (JSON marshaler, camelCase fields).

ChirpStack posts every event to the same URL with ``?event=up|join|status|ack|txack|log|
location|integration``; only ``up`` carries a device payload (``data``, base64 FRMPayload, and
``object`` when a device-profile codec decoded it). Other events are NotAnUplink, with the device's
fields when the event names it (ThingsBoard's unwrap answers those with an empty payload). The
device's fields are read from ``deviceInfo``, or from the top level when an event has them there
(a ``log`` event in ThingsBoard's converter library: ``devEui``, ``deviceName``... beside ``level``).
"""

from converters.unwrap.base import (
    NotAnUplink,
    UnwrapError,
    Unwrapped,
    envelope,
    from_base64,
    iso_ms,
    pick,
    scalars,
    strongest,
)

__all__ = ["unwrap"]

# Fields only a given non-uplink event has, to name it in the error.
_EVENT_HINTS = (("acknowledged", "ack"), ("downlinkId", "txack"), ("margin", "status"), ("level", "log"),
                ("location", "location"), ("eventType", "integration"))


def unwrap(raw, metadata: dict | None = None) -> Unwrapped:
    up = envelope(raw, "ChirpStack")
    device = up.get("deviceInfo")
    if not isinstance(device, dict) and up.get("devEui"):
        device = up  # the device's fields at the top level
    named = isinstance(device, dict) and bool(device.get("devEui"))
    event = (metadata or {}).get("event")
    if event and event != "up":
        raise _no_uplink(event, up, device if named else None)
    if not named:
        raise UnwrapError("not a ChirpStack v4 event: deviceInfo.devEui is missing")
    if "fPort" not in up and "data" not in up and "object" not in up:
        raise _no_uplink(next((name for key, name in _EVENT_HINTS if key in up), "join"), up, device)
    return Unwrapped(from_base64(up.get("data"), "data"), _fields(up, device))


def _no_uplink(kind: str, up: dict, device: dict | None) -> NotAnUplink:
    try:
        fields = _fields(up, device) if device is not None else None
    except UnwrapError:  # an unreadable time: the event is skipped all the same
        fields = None
    return NotAnUplink(f"a ChirpStack '{kind}' event carries no uplink",
                       Unwrapped(b"", fields) if fields is not None else None)


def _fields(up: dict, device: dict) -> dict:
    gateway = strongest(up.get("rxInfo"))
    location = gateway.get("location") if isinstance(gateway.get("location"), dict) else {}
    lora = pick(up, "txInfo", "modulation", "lora") or {}
    ts = iso_ms(up.get("time")) or iso_ms(gateway.get("time")) or iso_ms(gateway.get("nsTime"))
    fields = {
        "eui": device.get("devEui"),
        "deviceName": device.get("deviceName"),
        "deviceProfileId": device.get("deviceProfileId"),
        "deviceProfileName": device.get("deviceProfileName"),
        "tenantId": device.get("tenantId"),
        "tenantName": device.get("tenantName"),
        "applicationId": device.get("applicationId"),
        "applicationName": device.get("applicationName"),
        "deviceClass": device.get("deviceClassEnabled"),
        "tags": device.get("tags"),
        "deduplicationId": up.get("deduplicationId"),
        "devAddr": up.get("devAddr"),
        "adr": up.get("adr"),
        "dr": up.get("dr"),
        "fCnt": up.get("fCnt"),
        "fPort": up.get("fPort"),
        "confirmed": up.get("confirmed"),
        "data": up.get("data"),
        "decoded": up.get("object"),
        "rssi": gateway.get("rssi"),
        "snr": gateway.get("snr"),
        "gatewayId": gateway.get("gatewayId"),
        "channel": gateway.get("channel"),
        "rfChain": gateway.get("rfChain"),
        "gatewayCount": len(up["rxInfo"]) if isinstance(up.get("rxInfo"), list) else None,
        "latitude": location.get("latitude"),
        "longitude": location.get("longitude"),
        "altitude": location.get("altitude"),
        "frequency": pick(up, "txInfo", "frequency"),
        "bandwidth": lora.get("bandwidth"),
        "spreadingFactor": lora.get("spreadingFactor"),
        "codeRate": lora.get("codeRate"),
        "ts": ts,
    }
    return scalars(fields)
