"""The widget library through the API: system and tenant scopes, who may change what, bundle membership,
the filters of the pages, bad input."""

import base64
import json
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from dashboards.models import WidgetsBundle, WidgetType
from dashboards.tests.test_images_api import GIF
from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as
from tenants.choices import NULL_UUID

EXPORT = json.loads((Path(__file__).parent / "data" / "widgets_bundle_export.json").read_text())


def _type(name: str, fqn: str, kind: str = "latest", **extra) -> dict:
    return {"fqn": fqn, "name": name, "descriptor": {"type": kind, "sizeX": 1, "controllerScript": "x"}, **extra}


@pytest.fixture
def root_api(sysadmin):
    return api_as(sysadmin)


@pytest.fixture
def system_items(root_api):
    bundle = root_api.post("/api/widgetsBundle", {"title": "Cards", "alias": "cards"}, format="json").json()
    widget = root_api.post("/api/widgetType", _type("Timeseries table", "cards.timeseries_table", "timeseries"),
                           format="json").json()
    root_api.post(f"/api/widgetsBundle/{bundle['id']['id']}/widgetTypeFqns", ["cards.timeseries_table"], format="json")
    return bundle, widget


def test_it_saves_a_system_bundle_every_tenant_reads(root_api, system_items, api, mallory_api, customer_api):
    bundle, widget = system_items
    assert bundle["tenantId"] == {"entityType": "TENANT", "id": NULL_UUID}  # ThingsBoard's system tenant id
    for client in (api, mallory_api, customer_api):
        assert client.get(f"/api/widgetsBundle/{bundle['id']['id']}").json()["alias"] == "cards"
        assert client.get("/api/widgetType", {"fqn": "system.cards.timeseries_table"}).json()["name"] == \
            "Timeseries table"
        assert client.get(f"/api/widgetsBundle/{bundle['id']['id']}/widgetTypeFqns").json() == \
            ["cards.timeseries_table"]
    assert widget["descriptor"]["type"] == "timeseries"


def test_a_tenant_cannot_change_or_delete_a_system_item(api, system_items):
    bundle, widget = system_items
    bid, wid = bundle["id"]["id"], widget["id"]["id"]
    assert_error(api.post("/api/widgetsBundle", {**bundle, "title": "Mine"}, format="json"), 403)
    assert_error(api.delete(f"/api/widgetsBundle/{bid}"), 403)
    assert_error(api.post("/api/widgetType", {**widget, "name": "Mine"}, format="json"), 403)
    assert_error(api.delete(f"/api/widgetType/{wid}"), 403)
    assert_error(api.post(f"/api/widgetsBundle/{bid}/widgetTypes", [], format="json"), 403)
    assert WidgetsBundle.objects.get(pk=bid).title == "Cards"
    assert WidgetType.objects.get(pk=wid).name == "Timeseries table"


def test_another_tenants_items_are_404_by_id_and_by_fqn(api, mallory_api):
    bundle = mallory_api.post("/api/widgetsBundle", {"title": "Secret"}, format="json").json()
    widget = mallory_api.post("/api/widgetType", _type("Secret gauge", "secret_gauge"), format="json").json()
    assert api.get(f"/api/widgetsBundle/{bundle['id']['id']}").status_code == 404
    assert api.get(f"/api/widgetType/{widget['id']['id']}").status_code == 404
    assert api.get("/api/widgetType", {"fqn": "tenant.secret_gauge"}).status_code == 404
    assert api.get("/api/widgetType", {"fqn": "secret_gauge"}).status_code == 404
    assert api.post("/api/widgetType", {**widget, "name": "x"}, format="json").status_code == 404
    mine = api.post("/api/widgetsBundle", {"title": "Mine"}, format="json").json()
    res = api.post(f"/api/widgetsBundle/{mine['id']['id']}/widgetTypes", [widget["id"]["id"]], format="json")
    assert res.status_code == 404
    assert api.get("/api/widgetsBundles", {"pageSize": 10, "page": 0}).json()["totalElements"] == 1
    # the same fqn in two tenants is two widget types
    assert api.post("/api/widgetType", _type("My gauge", "secret_gauge"), format="json").status_code == 200


def test_bundle_membership_keeps_its_order(api, system_items):
    bundle = api.post("/api/widgetsBundle", {"title": "Plant", "order": 3}, format="json").json()
    a = api.post("/api/widgetType", _type("Alpha", "alpha"), format="json").json()
    b = api.post("/api/widgetType", _type("Beta", "beta", "rpc"), format="json").json()
    url = f"/api/widgetsBundle/{bundle['id']['id']}"
    ids = [b["id"]["id"], a["id"]["id"], system_items[1]["id"]["id"]]
    assert api.post(f"{url}/widgetTypes", ids, format="json").status_code == 200
    assert api.get(f"{url}/widgetTypeFqns").json() == ["beta", "alpha", "cards.timeseries_table"]
    assert api.post(f"{url}/widgetTypeFqns", ["tenant.alpha", "beta"], format="json").status_code == 200
    assert [t["name"] for t in api.get(f"{url}/widgetTypes").json()] == ["Alpha", "Beta"]
    assert api.get("/api/widgetTypeFqns", {"widgetsBundleId": bundle["id"]["id"]}).json() == ["alpha", "beta"]
    infos = api.get("/api/widgetTypesInfos", {"widgetsBundleId": bundle["id"]["id"], "pageSize": 10, "page": 0,
                                              "widgetTypeList": "rpc"}).json()
    assert [(i["name"], i["widgetType"], i["bundles"][0]["name"]) for i in infos["data"]] == [("Beta", "rpc", "Plant")]
    details = api.get("/api/widgetTypesDetails", {"widgetsBundleId": bundle["id"]["id"]}).json()
    assert [d["fqn"] for d in details] == ["alpha", "beta"]


def test_the_pages_filter_as_thingsboard(api, system_items):
    api.post("/api/widgetType", _type("Old gauge", "old_gauge", deprecated=True), format="json")
    api.post("/api/widgetType", _type("Scada pump", "scada_pump", scada=True), format="json")
    page = {"pageSize": 10, "page": 0}
    names = lambda res: [r["name"] for r in res.json()["data"]]  # noqa: E731
    assert names(api.get("/api/widgetTypes", page)) == ["Old gauge", "Scada pump", "Timeseries table"]
    assert names(api.get("/api/widgetTypes", {**page, "tenantOnly": "true"})) == ["Old gauge", "Scada pump"]
    assert names(api.get("/api/widgetTypes", {**page, "deprecatedFilter": "ACTUAL"})) == ["Scada pump",
                                                                                          "Timeseries table"]
    assert names(api.get("/api/widgetTypes", {**page, "scadaFirst": "true"}))[0] == "Scada pump"
    assert names(api.get("/api/widgetTypes", {**page, "widgetTypeList": "timeseries"})) == ["Timeseries table"]
    assert names(api.get("/api/widgetTypes", {**page, "textSearch": "GAUGE"})) == ["Old gauge"]
    assert_error(api.get("/api/widgetTypes", {**page, "deprecatedFilter": "NEW"}), 400)
    assert_error(api.get("/api/widgetTypes", {**page, "widgetTypeList": "pie"}), 400)
    bundles = api.get("/api/widgetsBundles", {**page, "fullSearch": "true", "textSearch": "timeseries"}).json()
    assert [b["title"] for b in bundles["data"]] == ["Cards"]
    assert [b["title"] for b in api.get("/api/widgetsBundles/all").json()] == ["Cards"]


def test_the_descriptor_comes_back_as_sent(api):
    sent = EXPORT["widgetTypes"][0]
    saved = api.post("/api/widgetType", sent, format="json").json()
    raw = api.get(f"/api/widgetType/{saved['id']['id']}").content.decode()
    assert json.dumps(sent["descriptor"], separators=(",", ":")) in raw
    assert list(saved["descriptor"]) == list(sent["descriptor"])
    again = api.post("/api/widgetType?updateExistingByFqn=true", {**sent, "name": "Tank level 2"}, format="json")
    assert again.json()["id"] == saved["id"] and WidgetType.objects.count() == 1


def test_a_customer_user_reads_but_never_writes(customer_api, api):
    bundle = api.post("/api/widgetsBundle", {"title": "Plant"}, format="json").json()
    assert customer_api.get(f"/api/widgetsBundle/{bundle['id']['id']}").status_code == 200
    assert_error(customer_api.post("/api/widgetsBundle", {"title": "X"}, format="json"), 403)
    assert_error(customer_api.delete(f"/api/widgetsBundle/{bundle['id']['id']}"), 403)
    assert_error(customer_api.post("/api/widgetType", _type("X", "x"), format="json"), 403)


@pytest.mark.parametrize("body, message", [
    ({"title": "a\x00b"}, "NUL"),
    ({"title": "x" * 256}, "255"),
    ({"title": ""}, "title should be specified"),
    ({"title": "ok", "order": 2**40}, "order"),
    ({"title": "ok", "scada": "yes"}, "scada"),
    ({"title": "ok", "description": "\x00"}, "NUL"),
])
def test_bad_bundles_are_400(api, body, message):
    assert_error(api.post("/api/widgetsBundle", body, format="json"), 400, message)


@pytest.mark.parametrize("body, message", [
    ({"name": "w", "descriptor": {"k": "a\x00"}}, "NUL"),
    ({"name": "w", "descriptor": []}, "descriptor"),
    ({"name": "w"}, "descriptor should be specified"),
    ({"descriptor": {}}, "name should be specified"),
    ({"name": "w", "fqn": "a b", "descriptor": {}}, "fqn"),
    ({"name": "w", "tags": "t", "descriptor": {}}, "tags"),
    ({"name": "w" * 300, "descriptor": {}}, "255"),
])
def test_bad_widget_types_are_400(api, body, message):
    assert_error(api.post("/api/widgetType", body, format="json"), 400, message)


def test_malformed_ids_and_bodies_are_400(api):
    assert_error(api.get("/api/widgetsBundle/nope"), 400, "Invalid UUID")
    assert_error(api.post("/api/widgetsBundle", [1], format="json"), 400)
    assert_error(api.post("/api/widgetsBundle", "{", content_type="application/json"), 400)
    bundle = api.post("/api/widgetsBundle", {"title": "B"}, format="json").json()
    assert_error(api.post(f"/api/widgetsBundle/{bundle['id']['id']}/widgetTypeFqns", {"a": 1}, format="json"), 400)
    assert_error(api.get("/api/widgetType"), 400, "fqn")


def test_inline_images_turn_an_image_link_into_a_data_url(api):
    api.post("/api/image", {"file": SimpleUploadedFile("b.gif", GIF)}, format="multipart")
    bundle = api.post("/api/widgetsBundle", {"title": "B", "image": "tb-image;/api/images/tenant/b.gif"},
                      format="json").json()
    url = f"/api/widgetsBundle/{bundle['id']['id']}"
    assert api.get(url).json()["image"] == "tb-image;/api/images/tenant/b.gif"
    assert api.get(url, {"inlineImages": "true"}).json()["image"] == \
        f"data:image/gif;base64,{base64.b64encode(GIF).decode()}"


def test_an_alias_taken_by_another_bundle_is_refused_on_update(api):
    api.post("/api/widgetsBundle", {"title": "A", "alias": "a"}, format="json")
    b = api.post("/api/widgetsBundle", {"title": "B", "alias": "b"}, format="json").json()
    assert_error(api.post("/api/widgetsBundle", {**b, "alias": "a"}, format="json"), 400, "alias already exists")


def test_another_tenants_bundles_never_show_in_a_widget_types_bundles(root_api, system_items, api, mallory_api):
    system_bundle, widget = system_items
    theirs = mallory_api.post("/api/widgetsBundle", {"title": "Mallory secret bundle"}, format="json").json()
    assert mallory_api.post(f"/api/widgetsBundle/{theirs['id']['id']}/widgetTypeFqns",
                            ["system.cards.timeseries_table"], format="json").status_code == 200
    mine = api.post("/api/widgetsBundle", {"title": "My bundle"}, format="json").json()
    api.post(f"/api/widgetsBundle/{mine['id']['id']}/widgetTypeFqns", ["system.cards.timeseries_table"], format="json")
    expected = sorted(["Cards", "My bundle"])
    info = api.get(f"/api/widgetTypeInfo/{widget['id']['id']}").json()
    assert sorted(b["name"] for b in info["bundles"]) == expected
    page = api.get("/api/widgetTypes?pageSize=10&page=0").json()["data"]
    assert [sorted(b["name"] for b in d["bundles"]) for d in page] == [expected]
    infos = api.get(f"/api/widgetTypesInfos?widgetsBundleId={system_bundle['id']['id']}&pageSize=10&page=0").json()
    assert [sorted(b["name"] for b in d["bundles"]) for d in infos["data"]] == [expected]
    infos = api.get(f"/api/widgetsBundle/{system_bundle['id']['id']}/widgetTypesInfos?pageSize=10&page=0").json()
    assert [sorted(b["name"] for b in d["bundles"]) for d in infos["data"]] == [expected]
    theirs_seen = mallory_api.get(f"/api/widgetTypeInfo/{widget['id']['id']}").json()["bundles"]
    assert sorted(b["name"] for b in theirs_seen) == ["Cards", "Mallory secret bundle"]
    assert [b["name"] for b in root_api.get(f"/api/widgetTypeInfo/{widget['id']['id']}").json()["bundles"]] == ["Cards"]


def test_a_255_character_title_gives_aliases_that_fit(api):
    title = "b" * 255
    aliases = [api.post("/api/widgetsBundle", {"title": title}, format="json").json()["alias"] for _ in range(11)]
    assert aliases[:2] == ["b" * 255, "b" * 253 + "_1"] and aliases[10] == "b" * 252 + "_10"
    names = [api.post("/api/widgetType", {"name": "w" * 255, "descriptor": {"type": "latest"}}, format="json").json()
             for _ in range(2)]
    assert [n["fqn"] for n in names] == ["w" * 255, "w" * 253 + "_1"]
