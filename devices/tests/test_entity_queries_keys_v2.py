"""`POST /api/v2/entitiesQuery/find/keys`: ThingsBoard's AvailableEntityKeysV2 of what a query finds."""

from tb_pe_client.models import AvailableEntityKeysV2

from devices.tests.entity_queries_support import T0, by_type, query
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_asset

V2 = "/api/v2/entitiesQuery/find/keys"


def keys(client, body, params="", status=200):
    res = client.post(f"{V2}{params}", body, format="json")
    assert res.status_code == status, res.content[:500]
    return res.json()


def names(infos) -> list:
    return [i["key"] for i in infos]


def test_it_answers_the_keys_of_the_devices_found(api, fleet):
    body = keys(api, query(by_type()))
    AvailableEntityKeysV2.from_dict(body)
    assert body["totalEntities"] == 4 and body["entityTypes"] == ["DEVICE"]
    assert names(body["timeseries"]) == ["mode", "on", "temp"]
    assert {scope: names(infos) for scope, infos in body["attributes"].items()} == {
        "CLIENT_SCOPE": ["model"], "SERVER_SCOPE": ["floor", "model"], "SHARED_SCOPE": ["floor"]}
    assert "sample" not in body["timeseries"][0]


def test_samples_are_the_newest_typed_value_of_each_key(api, fleet):
    body = keys(api, query(by_type()), "?includeSamples=true")
    assert {i["key"]: i["sample"] for i in body["timeseries"]}["temp"] == {"ts": T0 + 1, "value": 30}
    assert {i["key"]: i["sample"] for i in body["timeseries"]}["on"] == {"ts": T0, "value": True}
    assert body["attributes"]["SERVER_SCOPE"] == [{"key": "floor", "sample": {"ts": T0, "value": 1}},
                                                  {"key": "model", "sample": {"ts": T0, "value": "T1000"}}]


def test_it_leaves_out_what_was_not_asked_and_filters_scopes(api, fleet):
    body = keys(api, query(by_type()), "?includeTimeseries=false&scopes=SHARED_SCOPE")
    assert "timeseries" not in body and list(body["attributes"]) == ["SHARED_SCOPE"]
    body = keys(api, query(by_type()), "?includeAttributes=false")
    assert "attributes" not in body and names(body["timeseries"]) == ["mode", "on", "temp"]
    body = keys(api, query(by_type()), "?scopes=SERVER_SCOPE&scopes=CLIENT_SCOPE")
    assert sorted(body["attributes"]) == ["CLIENT_SCOPE", "SERVER_SCOPE"]


def test_assets_have_server_attributes_only(api, tenant, fleet):
    make_asset(tenant, "site")
    body = keys(api, query(by_type("ASSET")))
    assert body["entityTypes"] == ["ASSET"] and list(body["attributes"]) == ["SERVER_SCOPE"]
    assert "attributes" not in keys(api, query(by_type("ASSET")), "?scopes=CLIENT_SCOPE")


def test_nothing_found_is_an_empty_answer(api, fleet):
    body = keys(api, query({"type": "entityName", "entityType": "DEVICE", "entityNameFilter": "zzz"}))
    assert body == {"totalEntities": 0, "entityTypes": [], "timeseries": []}


def test_another_tenants_entities_and_keys_never_show(mallory_api, fleet):
    body = keys(mallory_api, query(by_type()))
    assert body["totalEntities"] == 0 and body["timeseries"] == []
    single = {"type": "singleEntity", "singleEntity": {"entityType": "DEVICE", "id": str(fleet["m1"].pk)}}
    assert keys(mallory_api, query(single), "?includeSamples=true") == {
        "totalEntities": 0, "entityTypes": [], "timeseries": []}


def test_a_customer_user_sees_the_keys_of_its_customers_devices(customer_api, fleet):
    body = keys(customer_api, query(by_type()), "?includeSamples=true")
    assert body["totalEntities"] == 1 and names(body["timeseries"]) == ["on", "temp"]
    assert {s: names(v) for s, v in body["attributes"].items()} == {
        "CLIENT_SCOPE": [], "SERVER_SCOPE": [], "SHARED_SCOPE": ["floor"]}


def test_bad_input_is_a_400(api, fleet):
    assert_error(api.post(f"{V2}?includeTimeseries=false&includeAttributes=false", query(by_type()), format="json"),
                 400, "At least one")
    assert_error(api.post(f"{V2}?includeSamples=maybe", query(by_type()), format="json"), 400, "includeSamples")
    assert_error(api.post(f"{V2}?scopes=ANY_SCOPE", query(by_type()), format="json"), 400, "Invalid attribute scope")
    assert_error(api.post(V2, {"entityFilter": {"type": "nope"}}, format="json"), 400)
    assert_error(api.post(V2, [1], format="json"), 400)
