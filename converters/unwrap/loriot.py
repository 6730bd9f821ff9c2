"""LORIOT: the application output's uplink messages (``cmd`` ``rx`` and, with gateway
information, ``gw``); ``data`` is the FRMPayload in hex. Downlink reports (``tx``, ``txd``) and
other commands are NotAnUplink. An encrypted frame (``encdata`` without ``data``) unwraps to an
empty payload. As ThingsBoard's, the metadata keeps ``cmd`` and a ``gw`` message's ``gws`` list
as it came (the library's typed LORIOT templates add one message per gateway from
``metadata.gws`` when ``metadata.cmd == "gw"``); a list is never stored by the key lists."""

from converters.unwrap.base import NotAnUplink, UnwrapError, Unwrapped, envelope, from_hex, scalars, strongest

__all__ = ["unwrap"]


def unwrap(raw, metadata: dict | None = None) -> Unwrapped:
    msg = envelope(raw, "LORIOT")
    cmd = msg.get("cmd")
    if cmd not in ("rx", "gw"):
        if isinstance(cmd, str) and cmd:
            raise NotAnUplink(f"a LORIOT '{cmd}' message carries no uplink")
        raise UnwrapError("not a LORIOT message: 'cmd' is missing")
    if not msg.get("EUI"):
        raise UnwrapError("not a LORIOT uplink: 'EUI' is missing")
    gateway = strongest(msg.get("gws")) if cmd == "gw" else {}
    fields = {
        "eui": msg.get("EUI"),
        "cmd": cmd,
        "ts": msg.get("ts"),
        "fCnt": msg.get("fcnt"),
        "fPort": msg.get("port"),
        "frequency": msg.get("freq"),
        "dr": msg.get("dr"),
        "rssi": gateway.get("rssi", msg.get("rssi")),
        "snr": gateway.get("snr", msg.get("snr")),
        "toa": msg.get("toa"),
        "ack": msg.get("ack"),
        "bat": msg.get("bat"),
        "offline": msg.get("offline"),
        "seqno": msg.get("seqno"),
        "data": msg.get("data"),
        "encrypted": True if msg.get("encdata") and not msg.get("data") else None,
        "gatewayId": gateway.get("gweui"),
        "gatewayCount": len(msg["gws"]) if isinstance(msg.get("gws"), list) else None,
        "latitude": gateway.get("lat"),
        "longitude": gateway.get("lon"),
    }
    metadata = scalars(fields)
    if cmd == "gw" and isinstance(msg.get("gws"), list):
        metadata["gws"] = msg["gws"]
    return Unwrapped(from_hex(msg.get("data"), "data"), metadata)
