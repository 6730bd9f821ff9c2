"""JSON values a client saves (additionalInfo, configurations, profile data) must be values the
database can hold: PostgreSQL's jsonb refuses NUL characters and lone surrogates, and a save that
reached it with one was a 500. Each is a 400 naming the field, on SQLite and PostgreSQL alike."""

import json

import pytest

from tbproject.testing.api import assert_error

NUL, SURROGATE = "a\u0000b", "a\ud800b"


@pytest.mark.parametrize("bad", [{"note": NUL}, {NUL: 1}, {"deep": [[{"x": SURROGATE}]]}])
@pytest.mark.parametrize("path, body", [
    ("/api/device", {"name": "d", "type": "default"}),
    ("/api/asset", {"name": "a", "type": "default"}),
    ("/api/customer", {"title": "c"}),
])
def test_additional_info_with_unstorable_text_is_a_400(api, path, body, bad):
    # as JSON text with \u escapes: a lone surrogate cannot be encoded as UTF-8 by the client
    res = api.post(path, json.dumps({**body, "additionalInfo": bad}), content_type="application/json")
    assert_error(res, 400)
    assert "additionalInfo" in res.content.decode()


def test_configurations_with_unstorable_text_are_400s(api):
    converter = {"name": "c", "type": "UPLINK", "configuration": {"decoder": "return {};", "x": NUL}}
    assert_error(api.post("/api/converter", converter, format="json"), 400)
    integration = {"name": "i", "type": "HTTP", "configuration": {"metadata": {"k": NUL}}}
    assert_error(api.post("/api/integration", integration, format="json"), 400)


def test_storable_json_still_saves(api):
    res = api.post("/api/device", {"name": "d", "type": "default", "additionalInfo": {"note": "ok ü \u2603"}},
                   format="json")
    assert res.status_code == 200, res.content
    assert res.json()["additionalInfo"] == {"note": "ok ü \u2603"}
