"""Converter workflows used by the API and the pipeline: test runs, debug recording, debug input.

Test runs go through the same engine, limits and output checks as live traffic, so a script
that passes its test cannot fail live for a reason the test did not show. Results have
ThingsBoard's ``TestConverterResult`` shape: ``{"output": "<JSON text>", "error": ""}``.
"""

import base64
import dataclasses
import json
from types import SimpleNamespace

from converters import engine, ts013, uplink
from converters.choices import ConverterType, DebugKind, EventEntityType, EventType, ScriptLang
from converters.downlink_payload import normalise_downlink
from converters.engine import OUT_OF_MEMORY, TIMEOUT, Limits
from converters.events import EventBatch, server_name, should_record, truncate, write_events
from converters.models import Converter, DebugEvent
from converters.output import OutputError, converter_output, parse_output
from tbproject.clock import now_ms

__all__ = [
    "test_uplink", "test_downlink", "describe_error", "detect_content_type", "record_debug",
    "latest_debug_input", "JSON", "TEXT", "BINARY",
]

JSON, TEXT, BINARY = "JSON", "TEXT", "BINARY"
_MIME_HINTS = {"json": JSON, "text": TEXT, "xml": TEXT, "octet-stream": BINARY, "binary": BINARY}
#: Debug events searched for a matching integration name by debugIn.
_DEBUG_IN_SCAN = 100


def _compact(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def describe_error(error: str, limits: Limits | None = None) -> str:
    """The engine's error text, with the limit that was hit spelled out."""
    limits = limits or Limits.from_settings()
    if error == TIMEOUT:
        return f"timeout: the script ran longer than {limits.timeout_ms} ms"
    if error == OUT_OF_MEMORY:
        return f"out of memory: the script needed more than {limits.memory_mb} MiB"
    return error


REFUSED = "the live pipeline would refuse this output: {}"


def test_uplink(decoder: str, payload: bytes, metadata: dict, *, converter_version: int = 1,
                configuration: dict | None = None, lang: str = ScriptLang.JS,
                integration_type: str | None = None) -> dict:
    """Run a decoder once, uncached, and answer as ThingsBoard does: ``output`` is the script's
    result as JSON text whatever it is; ``error`` is set only when the script failed (compile
    error, exception, limit, a result that is not data).

    Beyond ThingsBoard, the output then goes through the pipeline's own interpretation
    (converters.uplink.interpret, the one code path both use): ``warnings`` says what live
    traffic would refuse (``REFUSED``) or change (a default profile, a converted timestamp,
    skipped nulls), and a typed converter (v2) or a TS013 codec gets ``outputMsg``, the
    assembled converter output (reference 4.3). A codec's own warnings join ``warnings``. The
    payload of a typed converter (or TS013 codec) whose ``integration_type`` has an envelope is
    unwrapped first when it is one, as ThingsBoard does for its library's samples (the network
    server's JSON posted whole); a payload that is no envelope (ThingsBoard's UI unwraps first,
    ``POST /api/converter/unwrap/{type}``) is used as given."""
    spec = SimpleNamespace(converter_version=converter_version, configuration=configuration or {},
                           type=ConverterType.UPLINK, script=decoder)
    if integration_type:
        item = uplink.prepare(spec, integration_type, payload, metadata)
        item = item.named or item  # an event without an uplink: its device's fields, no payload
        if not (item.dropped or item.error):
            payload, metadata = item.payload, item.metadata
    (result,) = engine.decode(None, 0, decoder, [(payload, metadata)], lang=lang)
    if result.error is not None:
        return {"output": "", "error": describe_error(result.error)}
    output = result.output_json
    answer = {"output": output, "error": ""}
    try:
        parsed = parse_output(output)
    except OutputError as e:
        answer["warnings"] = [REFUSED.format(e)]
        return answer
    if ts013.is_result(parsed):  # show the codec's own {data, errors, warnings}
        answer["output"] = _compact(parsed[ts013.MARKER])
    notes: list[str] = []
    try:
        interpreted = uplink.interpret(spec, output, metadata, server_ts=(received := now_ms()), notes=notes)
    except (uplink.ConvertError, OutputError) as e:
        answer["warnings"] = [REFUSED.format(e)]
        return answer
    if interpreted.updates and (converter_version == 2 or ts013.is_result(parsed)):
        # values stored at the receive time show without it, as ThingsBoard shows them
        messages = parsed if isinstance(parsed, list) else [parsed]
        shown = [_shown(update, received, message)
                 for update, message in zip(interpreted.updates, messages, strict=False)]
        answer["outputMsg"] = shown if isinstance(parsed, list) else shown[0]
    warnings = [*interpreted.warnings, *notes]
    if warnings:
        answer["warnings"] = warnings
    return answer


def _shown(update, received: int, message) -> dict:
    """The converter output as ThingsBoard shows it: values stored at the receive time without
    it; one ``{ts, values}`` the script returned as an object stays an object, not an array."""
    shown = converter_output(dataclasses.replace(
        update, telemetry=[(None if ts == received else ts, values) for ts, values in update.telemetry]))
    own = message.get("telemetry") if isinstance(message, dict) else None
    if isinstance(own, dict) and "values" in own and isinstance(shown["telemetry"], list) \
            and len(shown["telemetry"]) == 1:
        shown["telemetry"] = shown["telemetry"][0]
    return shown


def test_downlink(encoder: str, msg: str, metadata: dict, msg_type: str, integration_metadata: dict, *,
                  lang: str = ScriptLang.JS) -> dict:
    """Run an encoder once, uncached. As ThingsBoard: ``output`` is the JSON text of what the
    script returned (``{contentType, data, metadata}``), ``error`` set only when it failed;
    ``warnings`` says what a live downlink would refuse or change (converters.output)."""
    (result,) = engine.encode(None, 0, encoder, [(msg, metadata, msg_type, integration_metadata)], lang=lang)
    if result.error is not None:
        return {"output": "", "error": describe_error(result.error)}
    answer = {"output": result.output_json, "error": ""}
    notes: list[str] = []
    try:
        normalise_downlink(result.output_json, notes=notes)
    except OutputError as e:
        notes = [REFUSED.format(e)]
    if notes:
        answer["warnings"] = notes
    return answer


def detect_content_type(data: bytes | str, hint: str | None = None) -> tuple[str, str]:
    """(JSON | TEXT | BINARY, the content as debug events show it; BINARY as base64).

    ``hint`` is what the transport said (``JSON``/``TEXT``/``BINARY`` or a MIME type such as
    ``application/json``); without one, UTF-8 that parses as a JSON object or array is JSON,
    other printable UTF-8 is TEXT, anything else BINARY."""
    raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    kind = _hint(hint)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        kind = BINARY
    if kind == BINARY:
        return BINARY, base64.b64encode(raw).decode("ascii")
    if kind in (None, JSON):
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict | list) or (kind == JSON and text.strip() and parsed is not None):
            return JSON, text
        if kind is None and any(ord(c) < 32 and c not in "\t\r\n" for c in text):
            return BINARY, base64.b64encode(raw).decode("ascii")
    return TEXT, text


def _hint(hint: str | None) -> str | None:
    if not hint:
        return None
    upper = hint.strip().upper()
    if upper in (JSON, TEXT, BINARY):
        return upper
    lowered = hint.lower()
    return next((kind for key, kind in _MIME_HINTS.items() if key in lowered), None)


def record_debug(converter: Converter, in_payload: bytes | str, in_content_type: str | None, metadata: dict,
                 out: str | None, error: str | None, kind: str = DebugKind.UPLINK, *,
                 msg_type: str | None = None, integration_metadata: dict | None = None,
                 warnings: list[str] | None = None, batch: EventBatch | None = None,
                 now: int | None = None, server: str | None = None) -> DebugEvent | None:
    """Record one converter run as a DEBUG_CONVERTER event if the debug policy wants it.

    ``kind`` is Uplink (``in_payload`` = raw bytes) or Downlink (``in_payload`` = the rule-engine
    message as JSON text, plus ``msg_type`` and ``integration_metadata``). With ``batch`` the
    event joins it (written with the batch); without, it is written at once. Returns the event,
    or None when the policy skips it. ``warnings`` (a TS013 codec's) are kept as text. ``server``:
    where the script ran when not here (a remote runner, ``remote:<host>``)."""
    now = now_ms() if now is None else now
    failed = bool(error)
    if not should_record(converter.debug_failures_enabled, converter.debug_all_enabled_until, failed=failed, now=now):
        return None
    in_type, in_text = detect_content_type(in_payload, in_content_type)
    body = {"type": str(kind), "server": server or server_name(), "inMessageType": in_type, "in": truncate(in_text),
            "metadata": truncate(_compact(metadata or {})),
            # beyond ThingsBoard: which version of the converter produced it (converters.history)
            "converterVersionNumber": getattr(converter, "version_number", None)}
    if kind == DebugKind.DOWNLINK:
        body["msgType"] = msg_type or ""
        body["integrationMetadata"] = _compact(integration_metadata or {})
    if out is not None:
        body["outMessageType"] = JSON
        body["out"] = truncate(out)
    if failed:
        body["error"] = truncate(error)
    if warnings:  # a TS013 codec's warnings
        body["warnings"] = truncate("; ".join(warnings))
    event = DebugEvent(tenant_id=converter.tenant_id, entity_type=EventEntityType.CONVERTER, entity_id=converter.pk,
                       event_type=EventType.DEBUG_CONVERTER, created_time=now, server=body["server"],
                       is_error=failed, body=body)
    if batch is not None:
        batch.add(event)
    else:
        write_events([event])
    return event


def latest_debug_input(converter: Converter, integration_name: str | None = None) -> dict:
    """ThingsBoard's ConverterDebugInput from the newest debug event with an input: uplink
    ``{inContentType, inContent, inMetadata}``, downlink adding ``inMsgType`` and
    ``inIntegrationMetadata``. ``{}`` when there is none."""
    events = DebugEvent.objects.filter(
        tenant_id=converter.tenant_id, entity_type=EventEntityType.CONVERTER, entity_id=converter.pk,
        event_type=EventType.DEBUG_CONVERTER).order_by("-created_time")
    for event in events[:_DEBUG_IN_SCAN if integration_name else 10]:
        body = event.body if isinstance(event.body, dict) else {}
        if "in" not in body or (integration_name and _integration_name(body) != integration_name):
            continue
        found = {"inContentType": body.get("inMessageType") or TEXT, "inContent": body.get("in") or "",
                 "inMetadata": body.get("metadata") or "{}"}
        if converter.type == ConverterType.DOWNLINK or body.get("type") == DebugKind.DOWNLINK:
            found["inMsgType"] = body.get("msgType") or ""
            found["inIntegrationMetadata"] = body.get("integrationMetadata") or "{}"
        return found
    return {}


def _integration_name(body: dict) -> str | None:
    for key in ("metadata", "integrationMetadata"):
        try:
            name = json.loads(body.get(key) or "{}").get("integrationName")
        except (ValueError, AttributeError):
            continue
        if name:
            return name
    return None
