"""What every unwrapper shares: the result type, its errors and small parsing helpers.

An unwrapper turns one network-server envelope (the raw bytes an integration received) into
the device's own bytes and the network fields ThingsBoard's typed converters see as
``metadata`` (reference 4.3): ``eui``, ``fPort``, ``fCnt``, ``rssi``, ``snr``, gateway data,
``ts`` (ms) ... Values keep their JSON types (numbers stay numbers); nested values (a decoded
object, tags) become JSON text, so that every value can be stored as an attribute or telemetry.
"""

import base64
import binascii
import json
import re
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["NotAnUplink", "UnwrapError", "Unwrapped", "envelope", "from_base64", "from_hex", "iso_ms",
           "pick", "scalars", "strongest"]


class UnwrapError(ValueError):
    """The envelope cannot be read: not JSON, or a required field is missing or malformed."""


class NotAnUplink(UnwrapError):
    """A well-formed event that carries no device uplink (join, status, ack, downlink report...).

    ``unwrapped``, when the event names its device: its fields with an empty payload, which is
    what ThingsBoard's unwrap answers for such an event (the pipeline still skips it)."""

    def __init__(self, message: str, unwrapped: "Unwrapped | None" = None):
        super().__init__(message)
        self.unwrapped = unwrapped


@dataclass(frozen=True, slots=True)
class Unwrapped:
    """The device payload and the network fields of one envelope."""

    payload: bytes
    metadata: dict = field(default_factory=dict)
    content_type: str = "BINARY"

    def as_api(self, metadata: dict | None = None) -> dict:
        """ThingsBoard's unwrap answer: ``{metadata, payload (base64), contentType}``."""
        return {"metadata": {**(metadata or {}), **self.metadata},
                "payload": base64.b64encode(self.payload).decode("ascii"), "contentType": self.content_type}


def envelope(raw, network: str) -> dict:
    """The envelope as a JSON object (raw bytes, text or an already parsed object)."""
    if isinstance(raw, dict):
        return raw
    try:
        parsed = json.loads(bytes(raw).decode("utf-8") if not isinstance(raw, str) else raw)
    except (UnicodeDecodeError, ValueError, TypeError) as e:
        raise UnwrapError(f"a {network} uplink must be a JSON object: {e}") from None
    if not isinstance(parsed, dict):
        raise UnwrapError(f"a {network} uplink must be a JSON object, not {type(parsed).__name__}")
    return parsed


def from_base64(value, where: str) -> bytes:
    if value is None or value == "":
        return b""
    if not isinstance(value, str):
        raise UnwrapError(f"{where}: must be base64 text")
    try:
        return base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        raise UnwrapError(f"{where}: is not valid base64") from None


def from_hex(value, where: str) -> bytes:
    if value is None or value == "":
        return b""
    if not isinstance(value, str):
        raise UnwrapError(f"{where}: must be hex text")
    try:
        return bytes.fromhex(value)
    except ValueError:
        raise UnwrapError(f"{where}: is not valid hex") from None


_FRACTION = re.compile(r"(\.\d{1,6})\d*")


def iso_ms(value) -> int | None:
    """ISO-8601 time (nanoseconds, ``Z`` or an offset) -> ms since the epoch; None if absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    text = _FRACTION.sub(r"\1", value.strip(), count=1).replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if moment.tzinfo is None:
        return None
    return int(moment.timestamp() * 1000)


def scalars(values: dict) -> dict:
    """Drop absent values; nested objects and arrays become JSON text."""
    out = {}
    for key, value in values.items():
        if value is None or value == {} or value == []:
            continue
        if isinstance(value, dict | list):
            value = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        out[key] = value
    return out


def strongest(gateways, key: str = "rssi") -> dict:
    """The gateway entry that heard the device best (highest ``key``); {} when there is none."""
    best, best_value = {}, None
    for gateway in gateways if isinstance(gateways, list) else []:
        if not isinstance(gateway, dict):
            continue
        value = gateway.get(key)
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if number and (best_value is None or value > best_value):
            best, best_value = gateway, value
        elif not best:
            best = gateway
    return best


def pick(obj, *path):
    """obj[path[0]][path[1]]... or None when any step is missing."""
    for key in path:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(key)
    return obj
