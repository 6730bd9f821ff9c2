"""A library entry's samples run as the tests of the converter made from it.

Each ``payload[_N]`` is run exactly as live traffic would run it (unwrapped by the entry's
integration type for a typed converter or a TS013 codec, decoded, interpreted) and compared
with ``result[_N].json``: a generic converter's result is decoder output (``deviceName``...),
a typed converter's is ThingsBoard's converter output (``entityType``, ``name``...). Every
difference is reported on its own line, e.g. ``attributes.fPort: expected 2, got "2"``.
"""

import json
from dataclasses import dataclass, field

from converters import engine, uplink
from converters.downlink_payload import normalise_downlink
from converters.output import OutputError, normalise_uplink, parse_converter_output
from converters.services import describe_error
from tbproject.clock import now_ms

__all__ = ["SampleResult", "run_samples", "sample_metadata", "run_uplink_case", "run_downlink_case"]


@dataclass
class SampleResult:
    sample: str
    expected: str | None
    passed: bool
    error: str = ""
    differences: list[str] = field(default_factory=list)

    def as_json(self) -> dict:
        return {"sample": self.sample, "expected": self.expected, "passed": self.passed, "error": self.error,
                "differences": self.differences}


def sample_metadata(entry) -> dict:
    """The metadata a library entry's samples run with."""
    return {"integrationName": f"{entry.integration_type} integration",
            **{k: v if isinstance(v, str) else json.dumps(v) for k, v in entry.metadata.items()}}


def run_samples(converter, entry) -> list[SampleResult]:
    metadata = sample_metadata(entry)
    if converter.type == "DOWNLINK":
        return [_run_downlink(converter, sample, metadata) for sample in entry.samples()]
    return [_run_uplink(converter, entry, sample, metadata) for sample in entry.samples()]


def _run_uplink(converter, entry, sample, metadata) -> SampleResult:
    return run_uplink_case(converter, entry.integration_type, sample.name, sample.expected_name, sample.payload,
                           metadata, sample.expected)


def run_uplink_case(converter, integration_type, name: str, expected_name: str | None, payload: bytes,
                    metadata: dict, expected) -> SampleResult:
    """Run one uplink sample as live traffic would and compare with ``expected`` (None: any valid output).
    Also the runner of a converter's stored tests (converters/stored_tests.py)."""
    result = SampleResult(name, expected_name, False)
    item = uplink.prepare(converter, integration_type, payload, metadata)
    if item.dropped or item.error:
        result.error = item.dropped or item.error
        return result
    (run,) = engine.decode(None, 0, converter.script, [(item.payload, item.metadata)], lang=converter.script_lang)
    if run.error is not None:
        result.error = describe_error(run.error)
        return result
    try:
        actual = uplink.interpret(converter, run.output_json, item.metadata, server_ts=now_ms()).updates
    except (OutputError, uplink.ConvertError) as e:
        result.error = f"Invalid converter output: {e}"
        return result
    if expected is None:
        result.passed = True
        return result
    try:
        wanted = _expected_updates(expected)
    except OutputError as e:
        result.error = f"{expected_name} cannot be read: {e}"
        return result
    result.differences = differences(wanted, actual)
    result.passed = not result.differences
    return result


def _expected_updates(expected) -> list:
    if isinstance(expected, dict) and "name" in expected and "deviceName" not in expected \
            and "assetName" not in expected:
        return [parse_converter_output(expected)]
    if isinstance(expected, list) and expected and all(isinstance(e, dict) and "entityType" in e for e in expected):
        return [parse_converter_output(e) for e in expected]  # a typed converter's array
    return normalise_uplink(expected)


def _run_downlink(converter, sample, metadata) -> SampleResult:
    return run_downlink_case(converter, sample.name, sample.expected_name, sample.text, {}, "ATTRIBUTES_UPDATED",
                             metadata, sample.expected)


def run_downlink_case(converter, name: str, expected_name: str | None, msg: str, metadata: dict, msg_type: str,
                      integration_metadata: dict, expected) -> SampleResult:
    """Run one downlink sample and compare ``{contentType, data, metadata}`` with ``expected``."""
    result = SampleResult(name, expected_name, False)
    (run,) = engine.encode(None, 0, converter.script, [(msg, metadata, msg_type, integration_metadata)],
                           lang=converter.script_lang)
    if run.error is not None:
        result.error = describe_error(run.error)
        return result
    try:
        actual = normalise_downlink(run.output_json)
        wanted = normalise_downlink(expected) if expected is not None else None
    except OutputError as e:
        result.error = f"Invalid converter output: {e}"
        return result
    if wanted is not None:
        for key in ("content_type", "data", "metadata"):
            if getattr(wanted, key) != getattr(actual, key):
                result.differences.append(f"{key}: expected {_show(getattr(wanted, key))}, "
                                          f"got {_show(getattr(actual, key))}")
    result.passed = not result.differences
    return result


def differences(expected: list, actual: list) -> list[str]:
    """What differs between expected and actual entity updates, one line per difference."""
    if len(expected) != len(actual):
        return [f"expected {len(expected)} entities, got {len(actual)}"]
    found = []
    for index, (want, got) in enumerate(zip(expected, actual, strict=True)):
        at = f"[{index}]." if len(expected) > 1 else ""
        for key in ("entity_type", "name", "profile"):
            if getattr(want, key) != getattr(got, key):
                found.append(f"{at}{_camel(key)}: expected {_show(getattr(want, key))}, got {_show(getattr(got, key))}")
        for key in ("label", "customer", "group"):
            if getattr(want, key) is not None and getattr(want, key) != getattr(got, key):
                found.append(f"{at}{key}: expected {_show(getattr(want, key))}, got {_show(getattr(got, key))}")
        found += _compare(f"{at}attributes", want.attributes, got.attributes)
        found += _compare(f"{at}telemetry", _merged(want.telemetry), _merged(got.telemetry))
        times = {ts for ts, _ in got.telemetry}
        found += [f"{at}telemetry: no point at ts {ts}" for ts, _ in want.telemetry
                  if ts is not None and ts not in times]
    return found


def _merged(points) -> dict:
    values = {}
    for _, point in points:
        values.update(point)
    return values


def _compare(where: str, want: dict, got: dict) -> list[str]:
    found = []
    for key in sorted(set(want) | set(got)):
        if key not in got:
            found.append(f"{where}.{key}: expected {_show(want[key])}, missing")
        elif key not in want:
            found.append(f"{where}.{key}: not expected, got {_show(got[key])}")
        elif not _same(want[key], got[key]):
            found.append(f"{where}.{key}: expected {_show(want[key])}, got {_show(got[key])}")
    return found


def _same(a, b) -> bool:
    numbers = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return a is b
    if isinstance(a, numbers) and isinstance(b, numbers):
        return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))
    return a == b


def _show(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def _camel(key: str) -> str:
    return {"entity_type": "entityType"}.get(key, key)
