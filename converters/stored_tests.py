"""Tests stored with a converter: sample inputs and expected outputs, run on every save.

A test is run the way the library runs its samples (converters.library.samples): uplink tests
are unwrapped for a typed converter, decoded and interpreted as live traffic is; downlink tests
encoded and normalised. Saving a change through the API runs every stored test on the new
configuration first (:func:`check_save`): when a test that passed (or never ran) would fail,
the save is refused unless ``force`` (ThingsBoard clients never send it and never need to: a
converter without stored tests, or whose tests keep passing, saves as before). Tests that
already failed do not block a save. Each run's result is kept on the test (``last_*``).
"""

import base64
import json

from rest_framework import exceptions

from converters import engine
from converters.library.samples import SampleResult, run_downlink_case, run_uplink_case
from converters.models import Converter, ConverterTest
from tbproject.api.exceptions import ServiceUnavailable
from tbproject.clock import now_ms

__all__ = ["TestsBroken", "tests_of", "run_tests", "record", "candidate_of", "check_save", "run_and_record",
           "from_library", "test_json", "result_json", "expected_of"]


ENGINE_DOWN = "The script engine cannot start right now; the stored tests could not run. Try again."


class TestsBroken(exceptions.APIException):
    """409: saving would break stored tests; the message names them. ``force=true`` saves anyway."""

    status_code = 409
    default_code = "conflict"


def tests_of(converter: Converter):
    return ConverterTest.objects.filter(tenant_id=converter.tenant_id, converter_id=converter.pk)


def _run_one(converter, test: ConverterTest) -> SampleResult:
    metadata = test.metadata if isinstance(test.metadata, dict) else {}
    expected_name = "expected" if test.expected is not None else None
    if converter.type == "DOWNLINK":
        return run_downlink_case(converter, test.name, expected_name, bytes(test.payload).decode("utf-8", "replace"),
                                 metadata, test.msg_type or "ATTRIBUTES_UPDATED", test.integration_metadata or {},
                                 test.expected)
    return run_uplink_case(converter, converter.integration_type, test.name, expected_name, bytes(test.payload),
                           metadata, test.expected)


def run_tests(converter, tests=None) -> list[tuple[ConverterTest, SampleResult]]:
    """Run ``tests`` (default: all stored ones) on ``converter`` (saved or a candidate); nothing is written.
    ServiceUnavailable (503, retryable) when the script engine cannot start."""
    tests = list(tests_of(converter) if tests is None else tests)
    try:
        return [(test, _run_one(converter, test)) for test in tests]
    except engine.EngineError:
        raise ServiceUnavailable(ENGINE_DOWN) from None


def record(results, version_number: int | None) -> None:
    """Keep each result on its test (one bulk UPDATE)."""
    now = now_ms()
    for test, result in results:
        test.last_passed, test.last_error = result.passed, result.error
        test.last_differences, test.last_run_ts, test.last_version = result.differences, now, version_number
    ConverterTest.objects.bulk_update([t for t, _ in results], ["last_passed", "last_error", "last_differences",
                                                                "last_run_ts", "last_version"], batch_size=500)


def run_and_record(converter: Converter) -> list[tuple[ConverterTest, SampleResult]]:
    results = run_tests(converter)
    record(results, converter.version_number)
    return results


def _why(result: SampleResult) -> str:
    return result.error or "; ".join(result.differences[:3]) or "failed"


def candidate_of(instance: Converter, changes: dict) -> Converter:
    """An unsaved converter: ``instance`` with the script-relevant ``changes`` (model field names) applied."""
    fields = ("type", "integration_type", "converter_version", "configuration")
    values = {f: changes[f] if f in changes else getattr(instance, f) for f in fields}
    return Converter(pk=instance.pk, tenant_id=instance.tenant_id, **values)


def check_save(candidate, *, force: bool) -> list[tuple[ConverterTest, SampleResult]]:
    """Run the stored tests on ``candidate`` (the converter as it is about to be saved).

    Raises TestsBroken when a test that passed before fails now and ``force`` is off; otherwise
    returns the results for :func:`record` once the save is done."""
    results = run_tests(candidate)
    broken = [(test, result) for test, result in results if not result.passed and test.last_passed is not False]
    if broken and not force:
        named = "; ".join(f"'{test.name}': {_why(result)}" for test, result in broken[:5])
        more = f" and {len(broken) - 5} more" if len(broken) > 5 else ""
        raise TestsBroken(f"Saving would break {len(broken)} stored test(s): {named}{more}. "
                          "Save with force=true to keep the change anyway.")
    return results


def from_library(converter: Converter, entry, metadata: dict, results: list[SampleResult]) -> list[ConverterTest]:
    """The entry's samples as stored tests of ``converter`` (at import), with their first results."""
    tests = []
    by_name = {r.sample: r for r in results}
    for sample in entry.samples():
        if converter.type == "DOWNLINK":
            test = ConverterTest(payload=sample.text.encode("utf-8"), metadata={}, msg_type="ATTRIBUTES_UPDATED",
                                 integration_metadata=metadata)
        else:
            test = ConverterTest(payload=sample.payload, metadata=metadata)
        test.tenant_id, test.converter, test.name, test.expected = converter.tenant_id, converter, sample.name, \
            sample.expected
        result = by_name.get(sample.name)
        if result is not None:
            test.last_passed, test.last_error, test.last_differences = result.passed, result.error, result.differences
            test.last_run_ts, test.last_version = now_ms(), converter.version_number
        tests.append(test)
    return ConverterTest.objects.bulk_create(tests)


def _payload_json(test: ConverterTest, downlink: bool) -> dict:
    raw = bytes(test.payload)
    if downlink:
        return {"msg": raw.decode("utf-8", "replace")}
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    return {"payload": base64.b64encode(raw).decode("ascii"), "payloadText": text}


def test_json(test: ConverterTest, downlink: bool) -> dict:
    data = {"id": str(test.pk), "name": test.name, "createdTime": test.created_time, **_payload_json(test, downlink),
            "metadata": test.metadata, "expected": test.expected,
            "lastResult": None if test.last_passed is None else {
                "passed": test.last_passed, "error": test.last_error, "differences": test.last_differences,
                "ts": test.last_run_ts, "converterVersionNumber": test.last_version}}
    if downlink:
        data["msgType"], data["integrationMetadata"] = test.msg_type, test.integration_metadata
    return data


def result_json(test: ConverterTest, result: SampleResult) -> dict:
    return {"id": str(test.pk), "name": test.name, "passed": result.passed, "error": result.error,
            "differences": result.differences}


def expected_of(value):
    """``expected`` as sent: JSON, or JSON text (as the editor's textarea sends it)."""
    if isinstance(value, str):
        try:
            return json.loads(value) if value.strip() else None
        except ValueError:
            raise exceptions.ValidationError("'expected' is not JSON: give the output the converter should "
                                             "produce, as JSON") from None
    return value
