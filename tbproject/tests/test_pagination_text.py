"""textSearch that no database can compare is a clear 400 on every paged list (PostgreSQL answered
a NUL character with a 500), and in an entity data query's pageLink."""

import pytest

from tbproject.testing.api import assert_error


@pytest.mark.parametrize("path", ["/api/tenant/devices", "/api/customers", "/api/integrations", "/api/converters",
                                  "/api/ruleChains", "/api/entityGroups/DEVICE"])
@pytest.mark.parametrize("text", ["a\x00b", "\x00"])
def test_a_search_text_no_column_holds_is_refused(api, path, text):
    assert_error(api.get(path, {"pageSize": 10, "page": 0, "textSearch": text}), 400, "textSearch")


def test_a_plain_search_still_works(api):
    res = api.get("/api/tenant/devices", {"pageSize": 10, "page": 0, "textSearch": "  th  "})
    assert res.status_code == 200 and res.json()["data"] == []


def test_an_entity_query_search_with_nul_is_refused(api):
    body = {"entityFilter": {"type": "entityType", "entityType": "DEVICE"},
            "pageLink": {"pageSize": 10, "page": 0, "textSearch": "x\x00"}}
    assert_error(api.post("/api/entitiesQuery/find", body, format="json"), 400, "textSearch")
