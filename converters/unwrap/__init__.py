"""Network-server envelopes unwrapped for typed (v2) converters and TS013 codecs (reference 4.3).

One function per network, in one table keyed by ThingsBoard's integration type (STYLE.md rule 1):

    unwrapper = get_unwrapper("CHIRPSTACK")     # None for types without an envelope (HTTP, MQTT...)
    result = unwrapper(raw_bytes, metadata)      # Unwrapped(payload, metadata, content_type)

An unwrapper raises UnwrapError for an envelope it cannot read and NotAnUplink (a subclass) for
a well-formed event without a device payload (a ChirpStack ``join``, a LORIOT ``tx``...).
Integration types call ``unwrap()`` themselves when they need the fields (a downlink route,
say); the uplink pipeline calls it for converterVersion 2 converters and TS013 codecs.
"""

from converters.unwrap.base import NotAnUplink, UnwrapError, Unwrapped
from tbproject.registry import TypeRegistry

__all__ = ["UNWRAPPERS", "NotAnUplink", "UnwrapError", "Unwrapped", "get_unwrapper", "unwrap"]

UNWRAPPERS = TypeRegistry({
    "CHIRPSTACK": "converters.unwrap.chirpstack.unwrap",
    "LORIOT": "converters.unwrap.loriot.unwrap",
    "TTN": "converters.unwrap.tts.unwrap",
    "TTI": "converters.unwrap.tts.unwrap",
    "THINGPARK": "converters.unwrap.thingpark.unwrap",
    "TPE": "converters.unwrap.thingpark.unwrap",
})


def get_unwrapper(integration_type: str | None):
    """The unwrap function of an integration type, or None when the type has no envelope."""
    if not integration_type or integration_type not in UNWRAPPERS:
        return None
    return UNWRAPPERS.load(integration_type)


def unwrap(integration_type: str, raw, metadata: dict | None = None) -> Unwrapped:
    """Unwrap ``raw`` as ``integration_type`` sends it; a type without an envelope passes the
    bytes through unchanged."""
    unwrapper = get_unwrapper(integration_type)
    if unwrapper is None:
        data = raw if isinstance(raw, bytes) else str(raw).encode("utf-8")
        return Unwrapped(data, {}, "JSON" if data[:1] in (b"{", b"[") else "BINARY")
    return unwrapper(raw, metadata or {})
