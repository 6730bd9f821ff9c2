"""Entity relations at ThingsBoard's paths, through the Django test client; the generated client's
view of the same routes is tests/test_tb_client_relations.py."""

from tb_pe_client.models import EntityRelation, EntityRelationInfo

from devices.models import EntityRelation as Row
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_asset, make_customer, make_device


def ref(entity, kind):
    return {"entityType": kind, "id": str(entity.pk)}


def save(client, source, target, rel_type="Contains", path="/api/v2/relation", **extra):
    return client.post(path, {"from": source, "to": target, "type": rel_type, **extra}, format="json")


def one(source, target, rel_type="Contains"):
    return {"fromId": source["id"], "fromType": source["entityType"], "toId": target["id"],
            "toType": target["entityType"], "relationType": rel_type}


def test_it_saves_reads_lists_and_deletes_a_relation(api, tenant):
    asset, device = ref(make_asset(tenant, "hq"), "ASSET"), ref(make_device(tenant, "t1"), "DEVICE")
    res = save(api, asset, device, additionalInfo={"floor": 2})
    assert res.status_code == 200, res.content
    saved = EntityRelation.from_dict(res.json())
    assert (saved.type, saved.type_group, saved.additional_info) == ("Contains", "COMMON", {"floor": 2})
    assert res.json()["from"] == asset and res.json()["to"] == device
    assert save(api, asset, device, additionalInfo={"floor": 3}).status_code == 200  # same relation, updated
    assert Row.objects.get().additional_info == {"floor": 3}

    assert api.get("/api/relation", one(asset, device)).json()["to"] == device
    listed = api.get(f"/api/relations/from/ASSET/{asset['id']}").json()
    assert [(r["from"], r["to"]) for r in listed] == [(asset, device)]
    assert api.get(f"/api/relations/from/ASSET/{asset['id']}/Manages").json() == []
    assert [r["from"] for r in api.get(f"/api/relations/to/DEVICE/{device['id']}/Contains").json()] == [asset]
    info = EntityRelationInfo.from_dict(api.get(f"/api/relations/info/to/DEVICE/{device['id']}").json()[0])
    assert (info.from_name, info.to_name) == ("hq", "t1")
    legacy = api.get("/api/relations/info", {"fromId": asset["id"], "fromType": "ASSET"}).json()
    assert [r["toName"] for r in legacy] == ["t1"]

    res = api.delete("/api/v2/relation?" + "&".join(f"{k}={v}" for k, v in one(asset, device).items()))
    assert res.status_code == 200 and res.json()["type"] == "Contains"
    assert not Row.objects.exists()
    assert_error(api.get("/api/relation", one(asset, device)), 404)


def test_the_older_save_and_delete_answer_an_empty_200(api, tenant):
    customer, asset = ref(make_customer(tenant, "c1"), "CUSTOMER"), ref(make_asset(tenant, "a1"), "ASSET")
    res = save(api, customer, asset, "Manages", path="/api/relation")
    assert res.status_code == 200 and res.content == b""
    res = api.delete("/api/relation?" + "&".join(f"{k}={v}" for k, v in one(customer, asset, "Manages").items()))
    assert res.status_code == 200 and not Row.objects.exists()


def test_it_refuses_bad_relations_with_thingsboards_errors(api, tenant):
    asset, device = ref(make_asset(tenant, "hq"), "ASSET"), ref(make_device(tenant, "t1"), "DEVICE")
    assert_error(save(api, asset, device, rel_type=""), 400, "'type'")
    assert_error(save(api, asset, {"id": device["id"]}, rel_type="Contains"), 400, "'to'")
    assert_error(save(api, asset, device, typeGroup="NOPE"), 400, "relationTypeGroup")
    assert_error(save(api, asset, {"entityType": "DASHBOARD", "id": device["id"]}), 400, "Unsupported entity type")
    assert_error(api.get("/api/relation", {"fromId": asset["id"], "fromType": "ASSET"}), 400, "toType")
    assert_error(api.post("/api/relations", {"parameters": {}}, format="json"), 400, "Unsupported entity type")
    assert not Row.objects.exists()


def test_deleting_an_entity_or_all_its_relations_removes_them(api, tenant):
    asset = make_asset(tenant, "hq")
    a, d1, d2 = ref(asset, "ASSET"), ref(make_device(tenant, "t1"), "DEVICE"), ref(make_device(tenant, "t2"), "DEVICE")
    for device in (d1, d2):
        assert save(api, a, device).status_code == 200
    assert api.delete(f"/api/relations?entityId={d1['id']}&entityType=DEVICE").status_code == 200
    assert [r["to"] for r in api.get(f"/api/relations/from/ASSET/{a['id']}").json()] == [d2]
    asset.delete()
    assert not Row.objects.exists()


def test_another_tenants_entities_are_not_found(api, tenant, other_tenant):
    mine = ref(make_device(tenant, "mine"), "DEVICE")
    theirs = ref(make_asset(other_tenant, "theirs"), "ASSET")
    Row.objects.create(tenant=other_tenant, from_type="ASSET", from_id=theirs["id"], to_type="ASSET",
                       to_id=theirs["id"], type="Contains")
    assert_error(save(api, theirs, mine), 404)
    assert_error(save(api, mine, theirs), 404)
    assert_error(api.get("/api/relation", one(theirs, theirs)), 404)
    assert_error(api.get("/api/relations", {"fromId": theirs["id"], "fromType": "ASSET"}), 404)
    assert_error(api.delete(f"/api/relations?entityId={theirs['id']}&entityType=ASSET"), 404)
    assert_error(api.delete("/api/v2/relation?" + "&".join(f"{k}={v}" for k, v in one(theirs, theirs).items())),
                 404)
    assert Row.objects.filter(tenant=other_tenant).count() == 1


def test_a_customer_user_sees_relations_of_its_own_entities_only(customer_api, tenant, customer):
    own = make_device(tenant, "own")
    own.customer = customer
    own.save()
    other = ref(make_device(tenant, "not-assigned"), "DEVICE")
    assert save(customer_api, ref(customer, "CUSTOMER"), ref(own, "DEVICE"), "Manages").status_code == 200
    assert_error(save(customer_api, ref(own, "DEVICE"), other), 404)
    assert_error(customer_api.get(f"/api/relations/from/DEVICE/{other['id']}"), 404)


def test_a_customer_user_gets_no_relation_to_an_entity_it_cannot_see(api, customer_api, tenant, customer):
    """ThingsBoard filters relation answers by read permission: the tenant's relation from a
    customer's device to an unassigned one is listed for the tenant administrator only."""
    own = make_device(tenant, "own-2")
    own.customer = customer
    own.save()
    mine, hidden = ref(own, "DEVICE"), ref(make_device(tenant, "hidden-2"), "DEVICE")
    sibling = make_device(tenant, "sibling-2")
    sibling.customer = customer
    sibling.save()
    for target in (hidden, ref(sibling, "DEVICE")):
        assert save(api, mine, target).status_code == 200
    for path in (f"/api/relations/from/DEVICE/{own.pk}", f"/api/relations/info/from/DEVICE/{own.pk}",
                 f"/api/relations?fromId={own.pk}&fromType=DEVICE"):
        assert {r["to"]["id"] for r in api.get(path).json()} == {hidden["id"], str(sibling.pk)}
        assert {r["to"]["id"] for r in customer_api.get(path).json()} == {str(sibling.pk)}
    query = {"parameters": {"rootId": str(own.pk), "rootType": "DEVICE", "direction": "FROM", "maxLevel": 1},
             "filters": []}
    found = customer_api.post("/api/relations", query, format="json").json()
    assert {r["to"]["id"] for r in found} == {str(sibling.pk)}
    assert [r["from"]["id"] for r in customer_api.get(f"/api/relations/to/DEVICE/{sibling.pk}").json()] == [str(own.pk)]


def test_it_searches_relations_and_devices_by_query(api, tenant, other_tenant):
    site, building = make_asset(tenant, "site"), make_asset(tenant, "building")
    meter, valve = make_device(tenant, "meter"), make_device(tenant, "valve")
    s, b, m, v = ref(site, "ASSET"), ref(building, "ASSET"), ref(meter, "DEVICE"), ref(valve, "DEVICE")
    for source, target, rel_type in ((s, b, "Contains"), (b, m, "Contains"), (b, v, "Manages")):
        assert save(api, source, target, rel_type).status_code == 200
    params = {"rootId": s["id"], "rootType": "ASSET", "direction": "FROM", "maxLevel": 2}
    found = api.post("/api/relations", {"parameters": params}, format="json").json()
    assert [(r["from"]["id"], r["to"]["id"]) for r in found] == [(s["id"], b["id"]), (b["id"], m["id"]),
                                                                  (b["id"], v["id"])]
    only = api.post("/api/relations/info", {"parameters": params, "filters": [
        {"relationType": "Contains", "entityTypes": ["DEVICE"]}]}, format="json").json()
    assert [r["toName"] for r in only] == ["meter"]
    last = api.post("/api/relations", {"parameters": {**params, "fetchLastLevelOnly": True}}, format="json").json()
    assert len(last) == 2
    up = api.post("/api/relations", {"parameters": {"rootId": m["id"], "rootType": "DEVICE", "direction": "TO",
                                                    "maxLevel": 0}}, format="json").json()
    assert [r["from"]["id"] for r in up] == [b["id"], s["id"]]

    devices = api.post("/api/devices", {"parameters": params, "relationType": "Contains"}, format="json").json()
    assert [d["name"] for d in devices] == ["meter"]
    assets = api.post("/api/assets", {"parameters": params, "assetTypes": ["default"]}, format="json").json()
    assert [a["name"] for a in assets] == ["building"]
    assert api.post("/api/devices", {"parameters": params, "deviceTypes": ["pump"]}, format="json").json() == []
    theirs = make_asset(other_tenant, "theirs")
    assert_error(api.post("/api/devices", {"parameters": {**params, "rootId": str(theirs.pk)}}, format="json"), 404)
    assert_error(api.post("/api/relations", {"parameters": {**params, "direction": "UP"}}, format="json"), 400)
    for path, body in [("/api/devices", {"deviceTypes": 5}), ("/api/devices", {"relationType": ["Contains"]}),
                       ("/api/assets", {"assetTypes": [1]}),
                       ("/api/relations", {"filters": [{"entityTypes": 5}]}),
                       ("/api/relations", {"filters": [{"relationType": {}}]})]:
        assert_error(api.post(path, {"parameters": params, **body}, format="json"), 400)  # not a 500
