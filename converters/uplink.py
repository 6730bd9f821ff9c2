"""Before and after the script: the steps of an uplink conversion that depend on the converter.

    item = prepare(converter, integration_type, payload, metadata)   # unwrap when it applies
    results = engine.decode(..., [(item.payload, item.metadata)])
    updates, warnings = interpret(converter, output_json, item.metadata, server_ts=ts)

``prepare`` unwraps the network server's envelope (converters.unwrap) for a typed converter
(converterVersion 2) and for a TS013 codec, when the integration type has one; the script then
sees the device's bytes and the network fields as metadata. ``interpret`` turns the script's
JSON into entity updates: a TS013 result (converters.ts013), typed output (v2) or generic
output (v1). Used by the pipeline, the test endpoint and the converters library alike.
"""

from dataclasses import dataclass, field

from converters import ts013
from converters.output import OutputError, normalise_uplink, normalise_uplink_v2, parse_output
from converters.unwrap import NotAnUplink, UnwrapError, get_unwrapper

__all__ = ["Prepared", "Interpreted", "prepare", "interpret", "device_names", "ConvertError"]


class ConvertError(ValueError):
    """The conversion failed before or inside the script (unwrap, TS013 ``errors``): stage "convert"."""


@dataclass(slots=True)
class Prepared:
    payload: bytes
    metadata: dict
    content_type: str | None = None
    #: set when the envelope is a valid event without an uplink (skipped: nothing to convert)
    dropped: str | None = None
    #: such an event, when it names its device: its fields with an empty payload, prepared as an
    #: uplink would be (what ThingsBoard's test runs the decoder on; the pipeline skips the event)
    named: "Prepared | None" = None
    #: set when the envelope cannot be read
    error: str | None = None


@dataclass(slots=True)
class Interpreted:
    updates: list
    warnings: list[str] = field(default_factory=list)


def prepare(converter, integration_type: str | None, payload: bytes, metadata: dict) -> Prepared:
    unwrapper = get_unwrapper(integration_type)
    if unwrapper is None or not (converter.converter_version == 2 or ts013.declared(converter)):
        return Prepared(payload, metadata)
    try:
        unwrapped = unwrapper(payload, metadata)
    except NotAnUplink as e:
        named = _unwrapped(e.unwrapped, metadata) if e.unwrapped is not None else None
        return Prepared(payload, metadata, dropped=str(e), named=named)
    except UnwrapError as e:
        return Prepared(payload, metadata, error=f"Cannot unwrap the {integration_type} uplink: {e}")
    return _unwrapped(unwrapped, metadata)


def _unwrapped(unwrapped, metadata: dict) -> Prepared:
    return Prepared(unwrapped.payload, {**metadata, **unwrapped.metadata}, unwrapped.content_type)


def interpret(converter, output_json, metadata: dict, *, server_ts: int | None = None,
              notes: list | None = None) -> Interpreted:
    """Entity updates from the script's output; OutputError when it cannot be stored,
    ConvertError for a TS013 codec's errors. ``notes``, when given, collects what was changed on
    the way (converters.output); the pipeline passes none, the test endpoint shows them."""
    configuration = converter.configuration if isinstance(converter.configuration, dict) else {}
    parsed = parse_output(output_json) if isinstance(output_json, str) else output_json
    if isinstance(parsed, str):  # a JSON string value, not text to parse again
        raise OutputError("the decoder must return an object or an array of objects, not a string")
    if ts013.is_result(parsed):
        if ts013.contract(configuration) == ts013.THINGSBOARD:
            raise OutputError("the script defines decodeUplink but scriptContract is THINGSBOARD: return a result")
        try:
            data, warnings = ts013.split_result(parsed)
            typed = converter.converter_version == 2
            config = configuration if typed else {"name": ts013.device_name(metadata)}
        except ts013.Ts013Error as e:
            raise ConvertError(str(e)) from None
        telemetry = {"ts": _ts(metadata, server_ts), "values": ts013.flatten(data)} if data else None
        update = normalise_uplink_v2({"telemetry": telemetry}, config, metadata, server_ts=server_ts, notes=notes)
        return Interpreted([update], warnings)
    if ts013.contract(configuration) == ts013.TS013:
        raise OutputError("scriptContract is TS013 but the script returned a value instead of defining "
                          "decodeUplink(input)")
    if converter.converter_version == 2:
        # an array is one message each, every one assembled with the configuration (ThingsBoard's
        # library: a device's values and then its gateways' own messages)
        return Interpreted([normalise_uplink_v2(one, configuration, metadata, server_ts=server_ts, notes=notes)
                            for one in (parsed if isinstance(parsed, list) else [parsed])])
    return Interpreted(normalise_uplink(parsed, server_ts=server_ts, notes=notes))


def device_names(converter, integration_type: str | None, payload: bytes, metadata: dict, *, limits=None) -> list[str]:
    """The devices the converter's script names for one uplink, converted as the pipeline does ([]
    when it cannot say): what answering a request with its device's pending downlink needs (the
    server's HTTP and CoAP ingress, integrations/ingress/downlinks.py, and the remote runner's,
    remote/replies.py). ``converter``: a Converter row, or a stand-in with its engine_key,
    script_version, script, script_lang, converter_version and configuration."""
    from converters import engine

    item = prepare(converter, integration_type, payload, metadata)
    if item.dropped or item.error:
        return []
    (result,) = engine.decode(converter.engine_key, converter.script_version, converter.script,
                              [(item.payload, item.metadata)], limits=limits, lang=converter.script_lang)
    if result.error is not None:
        return []
    try:
        updates = interpret(converter, result.output_json, item.metadata).updates
    except (OutputError, ConvertError):
        return []
    return [u.name for u in updates if u.entity_type == "DEVICE"]


def _ts(metadata: dict, server_ts):
    value = metadata.get("ts")
    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
        return int(value)
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return server_ts
