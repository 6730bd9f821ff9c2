"""POST /api/edge/bulk_import: ThingsBoard's CSV import of edges (create, update, attributes, bad rows)."""

from devices.attributes import get_attributes
from edges.models import Edge
from tbproject.testing.api import assert_error

COLUMNS = [{"type": "NAME"}, {"type": "TYPE"}, {"type": "LABEL"}, {"type": "ROUTING_KEY"},
           {"type": "SECRET"}, {"type": "SERVER_ATTRIBUTE", "key": "site"}, {"type": "DESCRIPTION"}]


def request(csv_text, update=False, columns=COLUMNS, **mapping):
    return {"file": csv_text, "mapping": {"columns": columns, "delimiter": ",", "update": update, "header": True,
                                          **mapping}}


def test_it_creates_updates_and_reports_bad_rows(api):
    text = ("name,type,label,key,secret,site,description\n"
            "North,gw,n,north-key,north-secret,12,first\n"
            "South,gw,s,,,berlin,\n"
            ",gw,nameless,,,,\n"
            "North,gw,again,,,,\n"
            "short,row\n")
    res = api.post("/api/edge/bulk_import", request(text), format="json")
    assert res.status_code == 200, res.content
    body = res.json()
    assert (body["created"], body["updated"], body["errors"]) == (2, 0, 3)
    assert body["errorsList"][0].startswith("Line 4: ") and "already exists" in body["errorsList"][1]
    north = Edge.objects.get(name="North")
    assert (north.routing_key, north.secret, north.label) == ("north-key", "north-secret", "n")
    assert north.additional_info == {"description": "first"} and north.root_rule_chain_id is not None
    assert [(a["key"], a["value"]) for a in get_attributes(north.pk, "SERVER_SCOPE")] == [("site", 12)]
    south = Edge.objects.get(name="South")
    assert south.routing_key and south.secret  # generated
    res = api.post("/api/edge/bulk_import", request("name,type,label,key,secret,site,description\n"
                                                    "North,plant,renamed,,,,\n", update=True), format="json")
    assert res.json()["updated"] == 1
    north.refresh_from_db()
    assert (north.type, north.label, north.secret) == ("plant", "renamed", "north-secret")


def test_a_bad_request_is_a_400(api, customer_api):
    assert_error(api.post("/api/edge/bulk_import", {"mapping": {}}, format="json"), 400)
    assert_error(api.post("/api/edge/bulk_import", request("a", columns=[{"type": "ACCESS_TOKEN"}]), format="json"),
                 400, "Unsupported column type")
    assert_error(api.post("/api/edge/bulk_import", request("a", columns=[{"type": "TYPE"}]), format="json"), 400,
                 "NAME")
    assert_error(api.post("/api/edge/bulk_import", request("a", delimiter=";;"), format="json"), 400)
    assert api.post("/api/edge/bulk_import", request("name\nx\n", columns=[{"type": "NAME"}]),
                    format="json").status_code == 200
    assert customer_api.post("/api/edge/bulk_import", request("name\ny\n", columns=[{"type": "NAME"}]),
                             format="json").status_code == 403
    assert not Edge.objects.filter(name="y").exists()


def test_a_bad_attribute_value_or_key_fails_its_row_only(api):
    long_key = "k" * 256
    columns = [{"type": "NAME"}, {"type": "TYPE"}, {"type": "SERVER_ATTRIBUTE", "key": "site"}]
    text = ("name,type,site\n"
            "Good-1,gw,berlin\n"
            "Nul,gw,ber\x00lin\n"
            f"Huge,gw,{'9' * 400}\n"
            "Good-2,gw,7\n")
    res = api.post("/api/edge/bulk_import", request(text, columns=columns), format="json")
    assert res.status_code == 200, res.content
    body = res.json()
    assert (body["created"], body["errors"]) == (2, 2), body
    assert [e.split(":")[0] for e in body["errorsList"]] == ["Line 3", "Line 4"]
    assert set(Edge.objects.values_list("name", flat=True)) == {"Good-1", "Good-2"}
    res = api.post("/api/edge/bulk_import", request("name,type,x\nLong-key,gw,1\nGood-3,gw,2\n", columns=[
        {"type": "NAME"}, {"type": "TYPE"}, {"type": "SHARED_ATTRIBUTE", "key": long_key}]), format="json")
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["created"] == 0 and body["errors"] == 2 and "255" in body["errorsList"][0], body
    assert not Edge.objects.filter(name__in=["Long-key", "Good-3"]).exists()
