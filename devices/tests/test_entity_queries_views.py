"""Entity data queries over entity views (POST /api/entitiesQuery/find, /count, /find/keys): the
filters that select views, their fields, latest values read through the view (its keys, its
window), customer users' and other tenants' reach."""

import pytest
from tb_pe_client.models import EntityViewTypeFilter, PageDataEntityData

from devices.attributes import save_attributes
from devices.models import EntityView
from devices.telemetry import Point, write_points
from devices.tests.entity_queries_support import COUNT, KEYS, T0, by_type, field, find, names, query, string_filter
from tbproject.testing.factories import make_device

TS = {"type": "TIME_SERIES", "key": "temp"}


def make_view(tenant, device, name, *, kind="panel", keys=("temp",), start=0, end=0, **extra):
    return EntityView.objects.create(tenant=tenant, name=name, type=kind, entity_type="DEVICE", entity_id=device.pk,
                                     start_time_ms=start, end_time_ms=end,
                                     keys={"timeseries": list(keys), "attributes": {"cs": [], "ss": [], "sh": []}},
                                     **extra)


@pytest.fixture
def views(tenant, customer):
    """Three views of one thermometer: open, windowed (before the last point), of another type
    (owned by the customer), and one listing no keys."""
    device = make_device(tenant, "thermo")
    write_points([Point(device.pk, "temp", T0 + i * 1000, 20 + i) for i in range(10)]
                 + [Point(device.pk, "secret", T0, 1)])
    return {"open": make_view(tenant, device, "v-open"),
            "window": make_view(tenant, device, "v-window", start=T0 + 1000, end=T0 + 4500),
            "lobby": make_view(tenant, device, "lobby", kind="kiosk", customer=customer),
            "bare": make_view(tenant, device, "v-bare", keys=()), "device": device}


def latest_of(page, key="temp") -> dict:
    return {r["latest"]["ENTITY_FIELD"]["name"]["value"]: r["latest"]["TIME_SERIES"][key] for r in page["data"]}


def test_it_finds_views_by_entity_type_with_fields(api, views, customer):
    page = find(api, query(by_type("ENTITY_VIEW"), fields=("name", "type", "label", "createdTime", "ownerName",
                                                           "ownerType", "entityType"),
                           sort=(field("name"), "ASC")))
    assert names(page) == ["lobby", "v-bare", "v-open", "v-window"]
    lobby = page["data"][0]
    assert lobby["entityId"] == {"entityType": "ENTITY_VIEW", "id": str(views["lobby"].pk)}
    assert {k: v["value"] for k, v in lobby["latest"]["ENTITY_FIELD"].items()} == {
        "name": "lobby", "type": "kiosk", "label": "", "createdTime": str(views["lobby"].created_time),
        "ownerName": customer.title, "ownerType": "CUSTOMER", "entityType": "ENTITY_VIEW"}
    assert PageDataEntityData.from_dict(page).total_elements == 4
    assert api.post(COUNT, {"entityFilter": by_type("ENTITY_VIEW")}, format="json").json() == 4


def test_it_filters_views_by_type_as_the_client_sends_it(api, views):
    sent = EntityViewTypeFilter(type="entityViewType", entity_view_types=["panel"],
                                entity_view_name_filter="v-").to_dict()
    assert set(sent) == {"type", "entityViewTypes", "entityViewNameFilter"}
    assert names(find(api, query(sent, sort=(field("name"), "ASC")))) == ["v-bare", "v-open", "v-window"]
    older = {"type": "entityViewType", "entityViewType": "kiosk"}
    assert names(find(api, query(older))) == ["lobby"]


@pytest.mark.parametrize("make_filter, expected", [
    (lambda v: {"type": "singleEntity", "singleEntity": {"entityType": "ENTITY_VIEW", "id": str(v["open"].pk)}},
     ["v-open"]),
    (lambda v: {"type": "entityList", "entityType": "ENTITY_VIEW",
                "entityList": [str(v["open"].pk), str(v["lobby"].pk)]}, ["lobby", "v-open"]),
    (lambda v: {"type": "entityName", "entityType": "ENTITY_VIEW", "entityNameFilter": "V-W"}, ["v-window"]),
])
def test_it_selects_views_by_id_list_and_name(api, views, make_filter, expected):
    assert names(find(api, query(make_filter(views), sort=(field("name"), "ASC")))) == expected


def test_latest_values_are_read_through_the_view(api, views):
    save_attributes(views["open"].pk, "SERVER_SCOPE", {"room": "A1"}, ts=T0)
    page = find(api, query(by_type("ENTITY_VIEW"), latest=[TS, {"type": "TIME_SERIES", "key": "secret"},
                                                           {"type": "SERVER_ATTRIBUTE", "key": "room"}]))
    assert latest_of(page) == {"v-open": {"ts": T0 + 9000, "value": "29"},
                               "v-window": {"ts": T0 + 4000, "value": "24"},  # the last point inside the window
                               "lobby": {"ts": T0 + 9000, "value": "29"},
                               "v-bare": {"ts": T0 + 9000, "value": "29"}}  # no keys listed: a named key reads
    assert latest_of(page, "secret") == {"v-open": {"ts": 0, "value": ""}, "v-window": {"ts": 0, "value": ""},
                                         "lobby": {"ts": 0, "value": ""}, "v-bare": {"ts": T0, "value": "1"}}
    rooms = {r["latest"]["ENTITY_FIELD"]["name"]["value"]: r["latest"]["SERVER_ATTRIBUTE"]["room"]["value"]
             for r in page["data"]}
    assert rooms == {"v-open": "A1", "v-window": "", "lobby": "", "v-bare": ""}  # the view's own attributes


def test_key_filters_and_sort_read_values_through_the_view(api, views):
    low = {"key": TS, "valueType": "NUMERIC",
           "predicate": {"type": "NUMERIC", "operation": "LESS", "value": {"defaultValue": 25}}}
    assert names(find(api, query(by_type("ENTITY_VIEW"), filters=[low]))) == ["v-window"]
    assert api.post(COUNT, {"entityFilter": by_type("ENTITY_VIEW"), "keyFilters": [low]}, format="json").json() == 1
    page = find(api, query(by_type("ENTITY_VIEW"), latest=[TS], sort=(TS, "ASC")))
    assert names(page)[0] == "v-window"
    typed = find(api, query(by_type("ENTITY_VIEW"), filters=[string_filter("type", "EQUAL", "kiosk")]))
    assert names(typed) == ["lobby"]


def test_find_keys_answers_the_views_keys(api, views):
    body = query({"type": "entityList", "entityType": "ENTITY_VIEW", "entityList": [str(views["window"].pk)]})
    assert api.post(KEYS + "?timeseries=true&attributes=true", body, format="json").json()["timeseries"] == ["temp"]
    bare = query({"type": "entityList", "entityType": "ENTITY_VIEW", "entityList": [str(views["bare"].pk)]})
    assert api.post(KEYS + "?timeseries=true&attributes=true", bare, format="json").json()["timeseries"] == []


def test_a_customer_user_finds_its_customers_views_only(customer_api, views):
    assert names(find(customer_api, query(by_type("ENTITY_VIEW")))) == ["lobby"]
    single = {"type": "singleEntity", "singleEntity": {"entityType": "ENTITY_VIEW", "id": str(views["open"].pk)}}
    assert find(customer_api, query(single))["totalElements"] == 0


def test_another_tenants_views_are_not_found(mallory_api, views):
    assert find(mallory_api, query(by_type("ENTITY_VIEW")))["totalElements"] == 0
    ids = [str(views[k].pk) for k in ("open", "lobby")]
    page = find(mallory_api, query({"type": "entityList", "entityType": "ENTITY_VIEW", "entityList": ids}))
    assert page["data"] == []
    body = {"entityFilter": {"type": "entityViewType", "entityViewTypes": ["panel", "kiosk"]}}
    assert mallory_api.post(COUNT, body, format="json").json() == 0


def test_a_view_of_another_tenants_device_reads_nothing(api, tenant, other_tenant):
    foreign = make_device(other_tenant, "foreign")
    write_points([Point(foreign.pk, "temp", T0, 99)])
    EntityView.objects.bulk_create([EntityView(tenant=tenant, name="sneaky", type="t", entity_type="DEVICE",
                                               entity_id=foreign.pk, keys={"timeseries": ["temp"]})])
    page = find(api, query(by_type("ENTITY_VIEW"), latest=[TS]))
    assert latest_of(page) == {"sneaky": {"ts": 0, "value": ""}}


def test_a_bad_entity_view_type_filter_is_a_400(api, views):
    res = api.post(COUNT, {"entityFilter": {"type": "entityViewType", "entityViewTypes": "panel"}}, format="json")
    assert res.status_code == 400 and "entityViewTypes" in res.json()["message"]
