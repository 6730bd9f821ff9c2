"""The edge endpoints through the test client: CRUD, pages and text search, by name and ids, customers'
edges, secret handling, another tenant's ids (404) and bad input (400, nothing changed)."""

import pytest

from edges.models import Edge, EdgeAssignment
from rulechains.models import RuleChain
from tbproject.testing.api import assert_error, assert_isolated, page_names
from tbproject.testing.factories import make_customer


def save(api, **data):
    body = {"name": "edge-1", "type": "default", **data}
    return api.post("/api/edge", body, format="json")


@pytest.fixture
def edge(api):
    res = save(api, name="Warehouse", label="wh", routingKey="wh-key", secret="wh-secret")
    assert res.status_code == 200, res.content
    return Edge.objects.get(pk=res.json()["id"]["id"])


def test_it_creates_reads_updates_and_deletes_an_edge(api, edge):
    res = api.get(f"/api/edge/{edge.pk}")
    assert res.status_code == 200
    data = res.json()
    assert data["id"] == {"entityType": "EDGE", "id": str(edge.pk)}
    assert (data["name"], data["type"], data["label"]) == ("Warehouse", "default", "wh")
    assert data["routingKey"] == "wh-key" and data["secret"] == "wh-secret"
    assert data["ownerId"]["entityType"] == "TENANT" and data["edgeLicenseKey"] == ""
    # a new edge's root: the tenant's edge template root chain (made on demand, type EDGE)
    root = RuleChain.objects.get(pk=data["rootRuleChainId"]["id"])
    assert root.type == "EDGE" and not root.root
    assert EdgeAssignment.objects.filter(edge=edge, entity_type="RULE_CHAIN", entity_id=root.pk).exists()
    data["label"] = "renamed"
    data.pop("secret")  # a save without the secret keeps it
    res = api.post("/api/edge", data, format="json")
    assert res.status_code == 200 and res.json()["label"] == "renamed" and res.json()["version"] == 2
    edge.refresh_from_db()
    assert edge.secret == "wh-secret" and edge.routing_key == "wh-key"
    info = api.get(f"/api/edge/info/{edge.pk}").json()
    assert info["ownerName"] == edge.tenant.title and info["customerTitle"] is None and info["groups"] == []
    assert api.delete(f"/api/edge/{edge.pk}").status_code == 200
    assert_error(api.get(f"/api/edge/{edge.pk}"), 404)


def test_a_new_edge_gets_a_random_routing_key_and_secret(api):
    data = save(api).json()
    assert len(data["routingKey"]) == 36 and len(data["secret"]) >= 16
    other = save(api, name="edge-2").json()
    assert other["routingKey"] != data["routingKey"] and other["secret"] != data["secret"]


def test_pages_search_types_and_lookups(api, tenant):
    for name, kind in (("Alpha", "gw"), ("Beta", "gw"), ("Gamma", "plant")):
        assert save(api, name=name, type=kind).status_code == 200
    assert page_names(api.get("/api/tenant/edges?pageSize=2&page=0&sortProperty=name")) == ["Alpha", "Beta"]
    res = api.get("/api/tenant/edges?pageSize=2&page=1&sortProperty=name").json()
    assert [e["name"] for e in res["data"]] == ["Gamma"] and res["totalElements"] == 3 and not res["hasNext"]
    assert page_names(api.get("/api/tenant/edges?pageSize=10&page=0&textSearch=amm")) == ["Gamma"]
    assert page_names(api.get("/api/tenant/edges?pageSize=10&page=0&type=gw")) == ["Alpha", "Beta"]
    assert page_names(api.get("/api/edges?pageSize=10&page=0&sortProperty=name&sortOrder=DESC")) == [
        "Gamma", "Beta", "Alpha"]
    assert page_names(api.get("/api/user/edges?pageSize=10&page=0&textSearch=be")) == ["Beta"]
    assert page_names(api.get("/api/tenant/edgeInfos?pageSize=10&page=0"), "ownerName") == [tenant.title] * 3
    assert [t["type"] for t in api.get("/api/edge/types").json()] == ["gw", "plant"]
    assert api.get("/api/tenant/edge?edgeName=Beta").json()["name"] == "Beta"
    assert_error(api.get("/api/tenant/edge?edgeName=missing"), 404)
    ids = [e["id"]["id"] for e in api.get("/api/tenant/edges?pageSize=10&page=0&sortProperty=name").json()["data"]]
    assert [e["name"] for e in api.get(f"/api/edges?edgeIds={ids[2]},{ids[0]}").json()] == ["Gamma", "Alpha"]
    assert [e["name"] for e in api.get(f"/api/edges/list?edgeIds={ids[1]}").json()] == ["Beta"]
    assert api.get("/api/edges/enabled").json() is True
    assert_error(api.get("/api/tenant/edges?pageSize=10&page=0&sortProperty=nope"), 400)


def test_customer_edges_and_what_a_customer_user_sees(api, customer_api, customer, tenant):
    other = make_customer(tenant, "Customer C")
    mine = save(api, name="Theirs", customerId={"entityType": "CUSTOMER", "id": str(customer.pk)}).json()
    save(api, name="Others", customerId={"entityType": "CUSTOMER", "id": str(other.pk)})
    save(api, name="Tenant's")
    assert mine["customerId"]["id"] == str(customer.pk) and mine["ownerId"]["entityType"] == "CUSTOMER"
    assert page_names(api.get(f"/api/customer/{customer.pk}/edges?pageSize=10&page=0")) == ["Theirs"]
    infos = api.get(f"/api/customer/{customer.pk}/edgeInfos?pageSize=10&page=0").json()["data"]
    assert [(i["name"], i["ownerName"]) for i in infos] == [("Theirs", customer.title)]
    assert page_names(api.get("/api/edgeInfos/all?pageSize=10&page=0")) == ["Tenant's"]
    assert len(api.get("/api/edgeInfos/all?pageSize=10&page=0&includeCustomers=true").json()["data"]) == 3
    # the customer user: its customer's edge only, without the secret; no writes
    assert page_names(customer_api.get("/api/user/edges?pageSize=10&page=0")) == ["Theirs"]
    seen = customer_api.get(f"/api/edge/{mine['id']['id']}").json()
    assert seen["secret"] == "" and seen["name"] == "Theirs"
    assert_error(customer_api.get(f"/api/customer/{other.pk}/edges?pageSize=10&page=0"), 404)
    tenants = Edge.objects.get(name="Tenant's")
    assert_error(customer_api.get(f"/api/edge/{tenants.pk}"), 404)
    assert customer_api.delete(f"/api/edge/{mine['id']['id']}").status_code == 403
    assert customer_api.get("/api/tenant/edges?pageSize=10&page=0").status_code == 403


def test_another_tenants_edge_is_not_found(mallory_api, edge, api):
    assert_isolated(mallory_api, edge, single="edge", update={"name": "stolen", "type": "default"})
    assert_error(mallory_api.get(f"/api/edge/info/{edge.pk}"), 404)
    assert mallory_api.get(f"/api/edges?edgeIds={edge.pk}").json() == []
    assert page_names(mallory_api.get("/api/tenant/edges?pageSize=10&page=0")) == []
    assert_error(mallory_api.get("/api/tenant/edge?edgeName=Warehouse"), 404)
    # nor may another tenant take its routing key
    assert_error(save(mallory_api, name="copy", routingKey="wh-key"), 400, "routing key")


def test_bad_input_is_a_400_and_changes_nothing(api, edge):
    before = Edge.objects.count()
    assert_error(api.post("/api/edge", b"{not json", content_type="application/json"), 400)
    assert_error(api.post("/api/edge", [1, 2], format="json"), 400)
    assert_error(save(api, name=""), 400, "Edge name should be specified!")
    assert_error(api.post("/api/edge", {"name": "x"}, format="json"), 400, "Edge type should be specified!")
    assert_error(save(api, name="Warehouse"), 400, "Edge with such name already exists!")
    assert_error(save(api, name="y", routingKey="wh-key"), 400, "Edge with such routing key already exists!")
    assert_error(save(api, name="z", customerId={"entityType": "CUSTOMER", "id": "nope"}), 400)
    assert_error(save(api, name="z", additionalInfo="text"), 400)
    assert_error(api.get("/api/edge/not-a-uuid"), 400)
    assert_error(api.get("/api/edges?edgeIds=zzz"), 400)
    assert_error(api.get("/api/tenant/edges?page=0"), 400)
    assert Edge.objects.count() == before


def test_search_by_relation_query(api, tenant):
    from devices.models import EntityRelation as Relation
    from tbproject.testing.factories import make_asset

    site = make_asset(tenant, "site")
    a = Edge.objects.get(pk=save(api, name="A", type="gw").json()["id"]["id"])
    b = Edge.objects.get(pk=save(api, name="B", type="plant").json()["id"]["id"])
    for edge in (a, b):
        Relation.objects.create(tenant=tenant, from_type="ASSET", from_id=site.pk, to_type="EDGE", to_id=edge.pk,
                                type="Contains")
    query = {"parameters": {"rootId": str(site.pk), "rootType": "ASSET", "direction": "FROM", "maxLevel": 1},
             "relationType": "Contains", "edgeTypes": ["gw"]}
    assert [e["name"] for e in api.post("/api/edges", query, format="json").json()] == ["A"]
    assert_error(api.post("/api/edges", {"parameters": "x"}, format="json"), 400)
    assert_error(api.post("/api/edges", {**query, "edgeTypes": "gw"}, format="json"), 400)


def test_a_deleted_customers_edges_stay_unassigned(api, tenant):
    acme = make_customer(tenant, "Acme")
    body = save(api, name="Acme edge", customerId={"entityType": "CUSTOMER", "id": str(acme.pk)}).json()
    assert api.delete(f"/api/customer/{acme.pk}").status_code == 200
    edge = Edge.objects.get(pk=body["id"]["id"])  # as ThingsBoard: unassigned from the customer, not deleted
    assert edge.customer_id is None
    assert api.get(f"/api/edge/{edge.pk}").json()["customerId"]["id"] == "13814000-1dd2-11b2-8080-808080808080"
