"""TS013 codecs (LoRa Alliance payload codec API) running unchanged as converters.

A converter's script may be a codec from The Things Network's device repository or ChirpStack:
it defines ``decodeUplink(input)`` (and optionally ``encodeDownlink(input)``) and returns
nothing at its top level. The engine runs the script body, then calls ``decodeUplink`` with
``{bytes, fPort, recvTime, variables}`` (bytes of the device payload; ``fPort`` and
``recvTime`` from the uplink metadata's ``fPort`` and ``ts``) and hands back
``{"@ts013": {data, errors, warnings}}``; this module maps that to converter output:

- ``errors`` (non-empty) fail the message (dead letter + failure debug event);
- ``warnings`` are recorded in the converter debug event (``warnings``);
- ``data`` becomes telemetry at the uplink's time; nested objects are flattened with dots
  (``gps.lat``), arrays become JSON text.

Which contract a script follows: ``configuration.scriptContract`` = ``"TS013"`` says so
explicitly (and save then requires ``decodeUplink``/``encodeDownlink``); ``"THINGSBOARD"``
forbids it; absent, it is recognised at run time (a body that returns nothing but defines
``decodeUplink``). ThingsBoard has no such key: ``scriptLang`` stays ``JS`` (the script is
JavaScript, in ``decoder``/``encoder``) so that ThingsBoard's clients still edit it.

TS013 codecs do not name devices. With a typed (v2) converter the name pattern does
(``Device $eui``); otherwise the name is the unwrapped ``deviceName``, ``deviceId`` or ``eui``.
"""

import json
import re

__all__ = ["CONTRACT_KEY", "TS013", "THINGSBOARD", "Ts013Error", "declared", "defines_entry", "is_result",
           "returns_at_top_level", "split_result", "flatten", "device_name"]

CONTRACT_KEY = "scriptContract"
TS013 = "TS013"
THINGSBOARD = "THINGSBOARD"
CONTRACTS = (THINGSBOARD, TS013)
MARKER = "@ts013"
_ENTRY = {"UPLINK": "decodeUplink", "DOWNLINK": "encodeDownlink"}
_NAME_KEYS = ("deviceName", "deviceId", "eui")


class Ts013Error(ValueError):
    """A codec's ``errors`` list, or a result that is not TS013-shaped."""


def contract(configuration) -> str | None:
    value = configuration.get(CONTRACT_KEY) if isinstance(configuration, dict) else None
    return value or None


def defines_entry(source: str, converter_type: str = "UPLINK") -> bool:
    """Whether the source text defines the codec entry point (a function declaration, or an
    assignment of a function to that name)."""
    name = _ENTRY.get(converter_type, "decodeUplink")
    return re.search(rf"(\bfunction\s+{name}\s*\(|\b{name}\s*[:=]|\b(?:var|let|const)\s+{name}\b)", source or "") \
        is not None


def declared(converter) -> bool:
    """Whether the converter is a TS013 codec: said so in its configuration, or (no contract
    given) its script defines ``decodeUplink``/``encodeDownlink``. Decides whether the pipeline
    unwraps envelopes for a converterVersion 1 converter."""
    configuration = converter.configuration if isinstance(converter.configuration, dict) else {}
    said = contract(configuration)
    if said is not None:
        return said == TS013
    return defines_entry(converter.script, converter.type) and not returns_at_top_level(converter.script)


_TOKENS = re.compile(r"//[^\n]*|/\*.*?\*/|'(?:\\.|[^'\\])*'|\"(?:\\.|[^\"\\])*\"|`(?:\\.|[^`\\])*`"
                     r"|\bfunction\b|=>|\breturn\b|[{}]", re.S)


def returns_at_top_level(source: str) -> bool:
    """Whether the script's body has a ``return`` outside every function: a ThingsBoard script,
    whatever functions it defines (a decodeUplink kept beside ``return result;`` is its helper)."""
    stack, function_next = [], False
    for match in _TOKENS.finditer(source or ""):
        token = match.group()
        if token in ("function", "=>"):
            function_next = True
        elif token == "{":
            stack.append(function_next)
            function_next = False
        elif token == "}":
            if stack:
                stack.pop()
        elif token == "return" and not any(stack):
            return True
    return False


def is_result(parsed) -> bool:
    return isinstance(parsed, dict) and len(parsed) == 1 and MARKER in parsed


def split_result(parsed) -> tuple[dict, list[str]]:
    """``{"@ts013": {data, errors, warnings}}`` -> (data, warnings); Ts013Error on errors."""
    result = parsed[MARKER]
    if not isinstance(result, dict):
        raise Ts013Error("decodeUplink must return an object {data, errors, warnings}")
    errors = _texts(result.get("errors"), "errors")
    warnings = _texts(result.get("warnings"), "warnings")
    if errors:
        raise Ts013Error("decodeUplink errors: " + "; ".join(errors))
    data = result.get("data")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise Ts013Error(f"decodeUplink data must be an object, not {type(data).__name__}")
    return data, warnings


def _texts(values, name: str) -> list[str]:
    if values is None:
        return []
    if not isinstance(values, list):
        raise Ts013Error(f"decodeUplink {name} must be an array of strings")
    return [v if isinstance(v, str) else json.dumps(v) for v in values]


def flatten(data: dict, prefix: str = "") -> dict:
    """Nested objects flattened with dots; arrays as JSON text; nulls dropped."""
    flat = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(flatten(value, f"{name}."))
        elif isinstance(value, list):
            flat[name] = json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        elif value is not None:
            flat[name] = value
    return flat


def device_name(metadata: dict) -> str:
    """The name of a device decoded by a codec under a generic (v1) converter."""
    for key in _NAME_KEYS:
        value = metadata.get(key)
        if value not in (None, ""):
            return str(value)
    raise Ts013Error(
        "a TS013 codec does not name its device and the uplink metadata has no deviceName, deviceId or eui: "
        "use a typed converter (converterVersion 2, name pattern such as 'Device $eui') or an integration "
        "type whose envelope names the device (ChirpStack, LORIOT, TTN/TTI, ThingPark)")
