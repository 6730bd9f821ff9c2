"""Entity views over the REST API: shapes as ThingsBoard's clients read them, paging, names,
customers, bad input, and another tenant's ids answering 404."""

import pytest
from tb_pe_client.models import EntityView as TbEntityView
from tb_pe_client.models import EntityViewInfo, PageDataEntityView

from devices.attributes import get_attributes, save_attributes
from devices.models import EntityView
from tbproject.testing.api import page_names
from tbproject.testing.factories import make_asset, make_customer, make_device

NULL = "13814000-1dd2-11b2-8080-808080808080"


def body(target, name="view-1", kind="thermo-view", **extra) -> dict:
    entity_type = "DEVICE" if target.__class__.__name__ == "Device" else "ASSET"
    return {"name": name, "type": kind, "entityId": {"entityType": entity_type, "id": str(target.pk)}, **extra}


@pytest.fixture
def device(tenant):
    return make_device(tenant, "thermo")


def create(api, target, **kwargs) -> dict:
    res = api.post("/api/entityView", body(target, **kwargs), format="json")
    assert res.status_code == 200, res.content
    return res.json()


def test_it_saves_and_answers_thingsboards_shape(api, device, tenant):
    keys = {"timeseries": ["temperature"], "attributes": {"cs": ["fw"], "ss": [], "sh": ["target"]}}
    view = create(api, device, keys=keys, startTimeMs=1000, endTimeMs=0, additionalInfo={"description": "d"})
    assert view["id"]["entityType"] == "ENTITY_VIEW"
    assert view["entityId"] == {"entityType": "DEVICE", "id": str(device.pk)}
    assert view["keys"] == keys and view["startTimeMs"] == 1000 and view["endTimeMs"] == 0
    assert view["customerId"] == {"entityType": "CUSTOMER", "id": NULL}
    assert view["tenantId"] == {"entityType": "TENANT", "id": str(tenant.pk)}
    assert view["externalId"] is None and view["additionalInfo"] == {"description": "d"}
    assert TbEntityView.from_dict(view).keys.attributes.cs == ["fw"]
    fetched = api.get(f"/api/entityView/{view['id']['id']}").json()
    assert fetched == view
    info = api.get(f"/api/entityView/info/{view['id']['id']}").json()
    assert EntityViewInfo.from_dict(info).name == "view-1" and info["customerTitle"] is None
    assert info["customerIsPublic"] is False and info["ownerName"] == tenant.title


def test_keys_default_to_empty_lists_and_an_update_keeps_the_id(api, device):
    view = create(api, device)
    assert view["keys"] == {"timeseries": [], "attributes": {"cs": [], "ss": [], "sh": []}}
    updated = api.post("/api/entityView", {**view, "name": "renamed", "keys": {"timeseries": ["t"]}},
                       format="json").json()
    assert updated["id"] == view["id"] and updated["name"] == "renamed"
    assert updated["keys"]["timeseries"] == ["t"] and EntityView.objects.count() == 1


def test_a_name_is_unique_per_tenant(api, mallory_api, device, other_tenant):
    create(api, device, name="same")
    res = api.post("/api/entityView", body(device, name="same"), format="json")
    assert res.status_code == 400 and "Entity view with such name already exists!" in res.json()["message"]
    foreign = make_device(other_tenant, "m-dev")
    assert mallory_api.post("/api/entityView", body(foreign, name="same"), format="json").status_code == 200


@pytest.mark.parametrize("change, message", [
    ({"name": ""}, "Entity view name should be specified!"),
    ({"type": None}, "Entity view type should be specified!"),
    ({"entityId": None}, "Entity view entity id should be specified!"),
    ({"entityId": {"entityType": "CUSTOMER", "id": NULL}}, "DEVICE or an ASSET"),
    ({"entityId": {"entityType": "DEVICE", "id": "nope"}}, "Invalid UUID"),
    ({"keys": {"timeseries": "temperature"}}, "keys.timeseries"),
    ({"keys": {"attributes": {"cs": [1]}}}, "keys.attributes.cs"),
    ({"keys": []}, "'keys' must be a JSON object"),
    ({"startTimeMs": -1}, "startTimeMs"),
    ({"endTimeMs": "soon"}, "endTimeMs"),
    ({"endTimeMs": 1000.5}, "endTimeMs"),
    ({"startTimeMs": "1e3"}, "startTimeMs"),
    ({"keys": {"timeseries": ["t\u0000"]}}, "keys.timeseries"),
    ({"keys": {"attributes": {"sh": ["ok", "bad\u0000"]}}}, "keys.attributes.sh"),
    ({"name": "view\u0000"}, "name"),
    ({"type": "t\u0000"}, "type"),
])
def test_bad_input_is_a_400_naming_the_problem(api, device, change, message):
    res = api.post("/api/entityView", {**body(device), **change}, format="json")
    assert res.status_code == 400, res.content
    assert message in res.json()["message"]
    assert not EntityView.objects.exists()


def test_another_tenants_entity_or_customer_is_not_found(api, device, other_tenant):
    foreign = make_device(other_tenant, "m-dev")
    assert api.post("/api/entityView", body(foreign), format="json").status_code == 404
    stranger = make_customer(other_tenant, "m-cust")
    res = api.post("/api/entityView", body(device, customerId={"entityType": "CUSTOMER", "id": str(stranger.pk)}),
                   format="json")
    assert res.status_code == 404 and not EntityView.objects.exists()


def test_another_tenants_view_is_not_found_anywhere(api, mallory_api, device, other_tenant):
    view = create(api, device)
    pk = view["id"]["id"]
    for url in (f"/api/entityView/{pk}", f"/api/entityView/info/{pk}",
                f"/api/plugins/telemetry/ENTITY_VIEW/{pk}/keys/timeseries",
                f"/api/plugins/telemetry/ENTITY_VIEW/{pk}/values/attributes"):
        assert mallory_api.get(url).status_code == 404, url
    assert mallory_api.delete(f"/api/entityView/{pk}").status_code == 404
    assert mallory_api.post("/api/entityView", {**view, "name": "stolen"}, format="json").status_code == 404
    foreign_customer = make_customer(other_tenant, "m-cust")
    assert mallory_api.post(f"/api/customer/{foreign_customer.pk}/entityView/{pk}").status_code == 404
    assert mallory_api.get(f"/api/entityViews/list?entityViewIds={pk}").json() == []
    assert EntityView.objects.get(pk=pk).name == "view-1"


def test_pages_filter_by_type_and_text_and_sort(api, device, tenant):
    asset = make_asset(tenant, "hall")
    for name, kind in (("b-view", "x"), ("a-view", "y"), ("c-other", "x")):
        create(api, device if kind == "x" else asset, name=name, kind=kind)
    page = api.get("/api/tenant/entityViews?pageSize=2&page=0&sortProperty=name&sortOrder=ASC").json()
    assert PageDataEntityView.from_dict(page).total_elements == 3
    assert [v["name"] for v in page["data"]] == ["a-view", "b-view"] and page["hasNext"] is True
    assert page_names(api.get("/api/tenant/entityViews?pageSize=10&page=0&type=x&sortProperty=name")) == [
        "b-view", "c-other"]
    assert page_names(api.get("/api/tenant/entityViews?pageSize=10&page=0&textSearch=VIEW&sortProperty=name")) == [
        "a-view", "b-view"]
    assert page_names(api.get("/api/tenant/entityViewInfos?pageSize=10&page=0&sortProperty=type&sortOrder=DESC"
                              )) [0] == "a-view"
    types = api.get("/api/entityView/types").json()
    assert [t["type"] for t in types] == ["x", "y"] and types[0]["entityType"] == "ENTITY_VIEW"
    assert api.get("/api/tenant/entityView?entityViewName=c-other").json()["type"] == "x"
    assert api.get("/api/tenant/entityViews?entityViewName=a-view").json()["name"] == "a-view"
    assert api.get("/api/tenant/entityView?entityViewName=none").status_code == 404
    assert api.get("/api/tenant/entityViews?pageSize=0&page=0").status_code == 400
    assert api.get("/api/tenant/entityViews?pageSize=5&page=0&sortProperty=colour").status_code == 400


def test_assign_and_unassign_and_what_a_customer_user_sees(api, customer_api, device, customer, tenant):
    mine = create(api, device, name="mine")
    create(api, device, name="theirs")
    pk = mine["id"]["id"]
    assigned = api.post(f"/api/customer/{customer.pk}/entityView/{pk}").json()
    assert assigned["customerId"]["id"] == str(customer.pk)
    assert page_names(api.get(f"/api/customer/{customer.pk}/entityViews?pageSize=10&page=0")) == ["mine"]
    infos = api.get(f"/api/customer/{customer.pk}/entityViewInfos?pageSize=10&page=0").json()
    assert infos["data"][0]["customerTitle"] == customer.title
    assert page_names(customer_api.get("/api/user/entityViews?pageSize=10&page=0")) == ["mine"]
    assert customer_api.get(f"/api/entityView/{pk}").status_code == 200
    theirs = EntityView.objects.get(name="theirs").pk
    assert customer_api.get(f"/api/entityView/{theirs}").status_code == 404
    assert customer_api.post("/api/entityView", {**mine, "name": "x"}, format="json").status_code == 403
    assert page_names(api.get("/api/entityViewInfos/all?pageSize=10&page=0")) == ["theirs"]
    assert page_names(api.get("/api/entityViewInfos/all?pageSize=10&page=0&includeCustomers=true")) == [
        "mine", "theirs"]
    unassigned = api.delete(f"/api/customer/entityView/{pk}").json()
    assert unassigned["customerId"]["id"] == NULL
    assert api.delete(f"/api/customer/entityView/{pk}").status_code == 400
    assert customer_api.get(f"/api/entityView/{pk}").status_code == 404


def test_by_ids_and_by_relation_query(api, device, tenant):
    a, b = create(api, device, name="a"), create(api, device, name="b", kind="other")
    ids = f"{b['id']['id']},{a['id']['id']}"
    assert [v["name"] for v in api.get(f"/api/entityViews/list?entityViewIds={ids}").json()] == ["b", "a"]
    for view in (a, b):
        api.post("/api/relation", {"from": {"entityType": "DEVICE", "id": str(device.pk)}, "type": "Contains",
                                   "to": view["id"]}, format="json")
    query = {"parameters": {"rootId": str(device.pk), "rootType": "DEVICE", "direction": "FROM", "maxLevel": 1},
             "relationType": "Contains", "entityViewTypes": ["other"]}
    assert [v["name"] for v in api.post("/api/entityViews", query, format="json").json()] == ["b"]
    assert api.post("/api/entityViews", {"relationType": "Contains"}, format="json").status_code == 400


def test_saving_copies_the_listed_attributes_inside_the_window(api, device):
    save_attributes(device.pk, "CLIENT_SCOPE", {"fw": "1.2", "secret": "x"}, ts=5000)
    save_attributes(device.pk, "SHARED_SCOPE", {"target": 21}, ts=500)
    keys = {"timeseries": [], "attributes": {"cs": ["fw", "missing"], "ss": [], "sh": ["target"]}}
    view = create(api, device, keys=keys, startTimeMs=1000)
    pk = view["id"]["id"]
    assert [(a["key"], a["value"]) for a in get_attributes(pk)] == [("fw", "1.2")]  # target: before the window
    res = api.get(f"/api/plugins/telemetry/ENTITY_VIEW/{pk}/values/attributes/CLIENT_SCOPE").json()
    assert [(a["key"], a["value"], a["lastUpdateTs"]) for a in res] == [("fw", "1.2", 5000)]
    api.post("/api/entityView", {**view, "keys": {"attributes": {"cs": []}}}, format="json")
    assert get_attributes(pk) == []


def test_a_device_with_views_is_not_deleted_until_they_are(api, device, tenant):
    view = create(api, device)
    res = api.delete(f"/api/device/{device.pk}")
    assert res.status_code == 400 and "Can't delete device that has entity views!" in res.json()["message"]
    save_attributes(view["id"]["id"], "SERVER_SCOPE", {"k": 1})
    assert api.delete(f"/api/entityView/{view['id']['id']}").status_code == 200
    assert get_attributes(view["id"]["id"]) == []
    assert api.delete(f"/api/device/{device.pk}").status_code == 200


def test_an_asset_deleted_outside_the_api_takes_its_views(api, tenant):
    asset = make_asset(tenant, "hall")
    create(api, asset)
    assert api.delete(f"/api/asset/{asset.pk}").status_code == 400
    asset.delete()
    assert not EntityView.objects.exists()


def test_a_views_life_is_audited_like_a_devices(api, device, customer):
    from audit.models import AuditLog

    view = create(api, device)
    pk = view["id"]["id"]
    api.post("/api/entityView", {**view, "type": "other"}, format="json")
    api.post(f"/api/customer/{customer.pk}/entityView/{pk}")
    api.delete(f"/api/entityView/{pk}")
    api.post("/api/entityView", body(device, name=""), format="json")
    log = AuditLog.objects.filter(entity_type="ENTITY_VIEW")
    assert sorted((r.action_type, r.action_status) for r in log) == [
        ("ADDED", "FAILURE"), ("ADDED", "SUCCESS"), ("ASSIGNED_TO_CUSTOMER", "SUCCESS"), ("DELETED", "SUCCESS"),
        ("UPDATED", "SUCCESS")]


def test_pe_owner_change_moves_a_view_between_customer_and_tenant(api, device, customer, tenant):
    pk = create(api, device)["id"]["id"]
    assert api.post(f"/api/owner/CUSTOMER/{customer.pk}/ENTITY_VIEW/{pk}").status_code == 200
    assert EntityView.objects.get(pk=pk).customer_id == customer.pk
    assert api.post(f"/api/owner/TENANT/{tenant.pk}/ENTITY_VIEW/{pk}").status_code == 200
    assert EntityView.objects.get(pk=pk).customer_id is None


def test_times_are_read_as_jacksons_longs_and_a_start_after_the_end_is_kept(api, device):
    """ThingsBoard's reader coerces "1000" and 1000.0 to a long and does not compare the two ends."""
    view = create(api, device, startTimeMs="1000", endTimeMs=2000.0)
    assert (view["startTimeMs"], view["endTimeMs"]) == (1000, 2000)
    view = create(api, device, name="inverted", startTimeMs=5000, endTimeMs=" 1000 ")
    assert (view["startTimeMs"], view["endTimeMs"]) == (5000, 1000)
    pk = view["id"]["id"]
    assert api.get(f"/api/plugins/telemetry/ENTITY_VIEW/{pk}/values/timeseries?keys=t").json() == {}
    assert api.get(f"/api/plugins/telemetry/ENTITY_VIEW/{pk}/keys/timeseries").json() == []


@pytest.mark.parametrize("change, field", [
    ({"entityViewTypes": 5}, "entityViewTypes"),
    ({"entityViewTypes": [1]}, "entityViewTypes"),
    ({"entityViewTypes": "other"}, "entityViewTypes"),
    ({"relationType": 5}, "relationType"),
    ({"relationType": ["Contains"]}, "relationType"),
])
def test_a_relation_query_with_bad_filters_is_a_400_naming_the_field(api, device, change, field):
    view = create(api, device)
    api.post("/api/relation", {"from": {"entityType": "DEVICE", "id": str(device.pk)}, "type": "Contains",
                               "to": view["id"]}, format="json")
    query = {"parameters": {"rootId": str(device.pk), "rootType": "DEVICE", "direction": "FROM"},
             "relationType": "Contains", **change}
    res = api.post("/api/entityViews", query, format="json")
    assert res.status_code == 400, res.content
    assert field in res.json()["message"]


def test_the_admin_refuses_a_view_of_another_tenants_entity(client, tenant_admin, sysadmin, tenant, device,
                                                           other_tenant):
    foreign = make_device(other_tenant, "m-dev")
    data = {"name": "peek", "type": "t", "customer": "", "entity_type": "DEVICE", "entity_id": str(foreign.pk),
            "keys": '{"timeseries": ["secret"]}', "start_time_ms": 0, "end_time_ms": 0, "additional_info": "{}"}
    client.force_login(tenant_admin)
    res = client.post("/admin/devices/entityview/add/", data)
    assert res.status_code == 200 and "No device of this tenant has this id." in res.content.decode()
    res = client.post("/admin/devices/entityview/add/", {**data, "entity_type": "ASSET", "entity_id": str(device.pk)})
    assert res.status_code == 200 and "No asset of this tenant has this id." in res.content.decode()
    assert not EntityView.objects.exists()
    client.force_login(sysadmin)  # a system admin picks the tenant: the entity must be that tenant's
    res = client.post("/admin/devices/entityview/add/", {**data, "tenant": str(tenant.pk)})
    assert res.status_code == 200 and "No device of this tenant has this id." in res.content.decode()
    assert not EntityView.objects.exists()
    client.force_login(tenant_admin)
    assert client.post("/admin/devices/entityview/add/", {**data, "entity_id": str(device.pk)}).status_code == 302
    assert EntityView.objects.get().entity_id == device.pk
