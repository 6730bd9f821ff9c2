"""Beyond ThingsBoard: tests stored with a converter (converters/stored_tests.py).

    GET    /api/converter/{id}/tests              the tests with their newest results
    POST   /api/converter/{id}/tests              add one (run at once; the answer has its result)
    POST   /api/converter/{id}/tests/run          run all on the saved converter -> results
    PUT    /api/converter/{id}/tests/{testId}     replace one (run at once)
    DELETE /api/converter/{id}/tests/{testId}

Uplink body: ``{name, payload (base64), metadata, expected}``; downlink: ``{name, msg (JSON text
or object), msgType, metadata, integrationMetadata, expected}``. ``expected`` is the output the
converter should produce (JSON, or JSON text); null checks only that the output is valid.
"""

from django.db import IntegrityError, transaction
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from converters import stored_tests
from converters.api.testing import downlink_message, parse_base64, string_map
from converters.api.views import ConverterResource
from converters.models import ConverterTest
from tbproject.api.ids import parse_uuid

__all__ = ["TestsView", "TestRunView", "TestView"]

DUPLICATE = "A test with such name already exists for this converter!"


def _fields(converter, data) -> dict:
    if not isinstance(data, dict):
        raise ValidationError("Request body must be a JSON object")
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise ValidationError("'name' is required: the test's name")
    fields = {"name": name.strip()[:255], "metadata": string_map(data.get("metadata"), "metadata"),
              "expected": stored_tests.expected_of(data.get("expected"))}
    if converter.type == "DOWNLINK":
        msg, msg_type = downlink_message(data, "ATTRIBUTES_UPDATED")
        fields.update(payload=msg.encode("utf-8"), msg_type=msg_type,
                      integration_metadata=string_map(data.get("integrationMetadata"), "integrationMetadata"))
    else:
        fields["payload"] = parse_base64(data.get("payload"))
    return fields


def _save(converter, test: ConverterTest) -> ConverterTest:
    try:
        with transaction.atomic():
            test.save()
    except IntegrityError:
        raise ValidationError(DUPLICATE) from None
    stored_tests.record(stored_tests.run_tests(converter, [test]), converter.version_number)
    return test


class TestsView(ConverterResource):
    def get(self, request, pk):
        converter = self.get_object(pk)
        downlink = converter.type == "DOWNLINK"
        return Response([stored_tests.test_json(t, downlink) for t in stored_tests.tests_of(converter)])

    def post(self, request, pk):
        converter = self.get_object(pk)
        test = ConverterTest(tenant_id=converter.tenant_id, converter=converter, **_fields(converter, request.data))
        return Response(stored_tests.test_json(_save(converter, test), converter.type == "DOWNLINK"))


class TestRunView(ConverterResource):
    def post(self, request, pk):
        converter = self.get_object(pk)
        results = stored_tests.run_and_record(converter)
        passed = sum(r.passed for _, r in results)
        return Response({"converterVersionNumber": converter.version_number, "passed": passed,
                         "failed": len(results) - passed,
                         "results": [stored_tests.result_json(t, r) for t, r in results]})


class TestView(ConverterResource):
    def _test(self, pk, test_id):
        converter = self.get_object(pk)
        test = get_object_or_404(stored_tests.tests_of(converter), pk=parse_uuid(test_id))
        return converter, test

    def put(self, request, pk, test_id):
        converter, test = self._test(pk, test_id)
        for key, value in _fields(converter, request.data).items():
            setattr(test, key, value)
        return Response(stored_tests.test_json(_save(converter, test), converter.type == "DOWNLINK"))

    def delete(self, request, pk, test_id):
        _, test = self._test(pk, test_id)
        test.delete()
        return Response(status=200)
