"""The one JSON-body parser of the project's plain Django views (tbproject/api/json_body.py): size
cap by Content-Length and by what was read, UTF-8 only, strict JSON, depth, storable text, empty
bodies, and ThingsBoard's Gson reading of a scalar as text."""

import io
import json

import pytest
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse
from django.test import RequestFactory

from tbproject.api.json_body import json_body, scalar_text


def request(body: bytes, content_length: int | None = -1):
    """A POST as the web process (ASGI) hands it to a view; ``content_length`` None sends none
    (a chunked upload), -1 the body's own length."""
    headers = [(b"content-type", b"application/json")]
    if content_length is not None:
        headers.append((b"content-length", str(len(body) if content_length == -1 else content_length).encode()))
    scope = {"type": "http", "method": "POST", "path": "/x", "query_string": b"", "headers": headers}
    return ASGIRequest(scope, io.BytesIO(body))


def refused(answer) -> tuple[int, str]:
    assert isinstance(answer, HttpResponse), answer
    assert answer["Content-Type"] == "application/json"
    return answer.status_code, json.loads(answer.content)["message"]


def test_it_reads_a_json_body():
    assert json_body(request(b'{"a": [1, 2.5, "x", true, null]}')) == {"a": [1, 2.5, "x", True, None]}
    assert json_body(request(b' "text" ')) == "text"
    assert json_body(request('{"ключ": "значение ✓"}'.encode())) == {"ключ": "значение ✓"}


def test_a_declared_oversize_is_refused_before_anything_is_read(monkeypatch):
    req = request(b"{}", content_length=101)
    monkeypatch.setattr(req, "read", lambda *a: pytest.fail("the body was read"))
    assert refused(json_body(req, limit=100)) == (413, "Request body is larger than 100 bytes")


def test_an_oversize_body_without_or_below_its_content_length_is_refused_by_what_was_read():
    big = json.dumps({"k": "x" * 200}).encode()
    assert refused(json_body(request(big, content_length=None), limit=100))[0] == 413
    assert refused(json_body(request(big, content_length=10), limit=100))[0] == 413  # a header that lies
    exact = json.dumps({"k": "x" * 91}).encode()
    assert len(exact) == 100 and json_body(request(exact), limit=100) == {"k": "x" * 91}


def test_the_default_cap_is_the_apis(settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 50
    assert refused(json_body(request(json.dumps({"k": "x" * 60}).encode())))[0] == 413
    assert json_body(request(json.dumps({"k": "x" * 60}).encode()), limit=1000) == {"k": "x" * 60}


@pytest.mark.parametrize("body, fragment", [
    (b'{"k": "\xff"}', "not UTF-8 text (byte 0xff at position 7)"),
    ('{"k": 1}'.encode("utf-16"), "not UTF-8 text"),  # json.loads alone would take UTF-16
    (b"\xc3", "not UTF-8 text"),  # cut inside a character
])
def test_text_that_is_not_utf8_is_a_400(body, fragment):
    status, message = refused(json_body(request(body)))
    assert status == 400 and message.startswith("Invalid JSON body") and fragment in message


@pytest.mark.parametrize("body, fragment", [
    (b"{not json", "Expecting property name enclosed in double quotes: line 1 column 2"),
    (b'{"a": 1} trailing', "Extra data"),
    (b'{"a": NaN}', "NaN is not a JSON value"),
    (b"[Infinity]", "Infinity is not a JSON value"),
    (b"\xef\xbb\xbf{}", "BOM"),
])
def test_text_that_is_not_json_is_a_400_with_the_parsers_message(body, fragment):
    status, message = refused(json_body(request(body)))
    assert status == 400 and message.startswith("Invalid JSON body") and fragment in message


def test_nesting_past_the_parsers_depth_is_a_400_and_ordinary_depth_is_read():
    assert refused(json_body(request(b"[" * 100_000 + b"]" * 100_000))) == (400, "Invalid JSON body: nested too deeply")
    assert refused(json_body(request(b'{"a":' * 100_000 + b"1" + b"}" * 100_000)))[0] == 400
    nested = json_body(request(b"[" * 200 + b"]" * 200))
    for _ in range(199):
        nested = nested[0]
    assert nested == []


@pytest.mark.parametrize("body", [rb'{"k\u0000": 1}', rb'{"k": ["a\u0000b"]}', rb'{"k": {"x": "\ud800"}}',
                                  rb'{"\udfff": 1}'])
def test_text_no_column_can_hold_is_a_400_however_deep(body):
    status, message = refused(json_body(request(body)))
    assert status == 400 and ("NUL" in message or "lone surrogate" in message)


@pytest.mark.parametrize("body", [b"", b"  \r\n\t"])
def test_an_empty_body_is_refused_unless_allowed(body):
    assert refused(json_body(request(body))) == (400, "Invalid JSON body: the body is empty")
    assert json_body(request(body), empty={}) == {}
    assert json_body(request(body), empty=None) is None
    assert json_body(request(b"[1]"), empty={}) == [1]  # only an empty body is replaced


def test_a_request_from_the_test_client_factory_reads_the_same():
    req = RequestFactory().post("/x", b'{"a": 1}', content_type="application/json")
    assert json_body(req) == {"a": 1}


@pytest.mark.parametrize("value, text", [("s", "s"), ("", ""), (True, "true"), (False, "false"), (42, "42"),
                                         (-7, "-7"), (1.5, "1.5"), (10**20, "100000000000000000000")])
def test_scalar_text_reads_a_scalar_as_gson_does(value, text):
    assert scalar_text(value, "field") == text


@pytest.mark.parametrize("value", [None, {}, {"a": 1}, [], ["a"]])
def test_scalar_text_refuses_what_gson_cannot_read_as_text(value):
    with pytest.raises(ValueError, match="field must be a string"):
        scalar_text(value, "field")
