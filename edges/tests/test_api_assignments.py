"""Rule chains, entity groups, integrations and scheduler events assigned to edges, through the test client:
assign/unassign and their pages, the edge template root and auto-assign chains, the edge events each change
queues (and sync), and another tenant's edge, chain, group, integration or event ids (404)."""

import pytest

from edges.models import Edge, EdgeAssignment, EdgeEvent
from integrations.tests.factories import make_integration
from rulechains.models import RuleChain
from scheduler.models import SchedulerEvent
from tbproject.testing.api import assert_error, page_names
from tbproject.testing.factories import make_device, make_group


def chain(tenant, name="Edge chain", kind="EDGE") -> RuleChain:
    return RuleChain.objects.create(tenant=tenant, name=name, type=kind)


def new_edge(api, name="edge-1") -> Edge:
    res = api.post("/api/edge", {"name": name, "type": "default"}, format="json")
    assert res.status_code == 200, res.content
    return Edge.objects.get(pk=res.json()["id"]["id"])


def events(api, edge, **params) -> list[tuple]:
    query = "&".join(f"{k}={v}" for k, v in {"pageSize": 50, "page": 0, **params}.items())
    res = api.get(f"/api/edge/{edge.pk}/events?{query}")
    assert res.status_code == 200, res.content
    return [(e["type"], e["action"], e["entityId"]) for e in res.json()["data"]]


@pytest.fixture
def edge(api):
    return new_edge(api)


def test_rule_chains_assigned_the_root_and_the_events(api, tenant, edge):
    mine = chain(tenant)
    url = f"/api/edge/{edge.pk}/ruleChain/{mine.pk}"
    res = api.post(url)
    assert res.status_code == 200 and res.json()["id"] == {"entityType": "RULE_CHAIN", "id": str(mine.pk)}
    page = api.get(f"/api/edge/{edge.pk}/ruleChains?pageSize=10&page=0&sortProperty=name").json()
    assert [(c["name"], c["root"]) for c in page["data"]] == [("Edge Root Rule Chain", True), ("Edge chain", False)]
    assert events(api, edge)[0] == ("RULE_CHAIN", "ASSIGNED_TO_EDGE", str(mine.pk))
    # a change of the assigned chain: UPDATED on the edge's queue
    mine.name = "Edge chain v2"
    mine.save()
    assert events(api, edge)[0] == ("RULE_CHAIN", "UPDATED", str(mine.pk))
    res = api.post(f"/api/edge/{edge.pk}/{mine.pk}/root")
    assert res.status_code == 200 and res.json()["rootRuleChainId"]["id"] == str(mine.pk)
    assert_error(api.delete(url), 400, "root rule chain")
    old_root = RuleChain.objects.get(name="Edge Root Rule Chain")
    assert api.delete(f"/api/edge/{edge.pk}/ruleChain/{old_root.pk}").status_code == 200
    assert events(api, edge)[0] == ("RULE_CHAIN", "UNASSIGNED_FROM_EDGE", str(old_root.pk))
    assert_error(api.delete(f"/api/edge/{edge.pk}/ruleChain/{old_root.pk}"), 400, "isn't assigned")
    core = chain(tenant, "Core", "CORE")
    assert_error(api.post(f"/api/edge/{edge.pk}/ruleChain/{core.pk}"), 400, "EDGE")
    # a deleted chain leaves the edge: DELETED
    other = chain(tenant, "Doomed")
    api.post(f"/api/edge/{edge.pk}/ruleChain/{other.pk}")
    other_id = other.pk
    other.delete()
    assert events(api, edge)[0] == ("RULE_CHAIN", "DELETED", str(other_id))
    assert not EdgeAssignment.objects.filter(entity_id=other_id).exists()


def test_the_template_root_and_auto_assign_chains_go_to_new_edges(api, tenant):
    root, extra = chain(tenant, "Template root"), chain(tenant, "Everywhere")
    res = api.post(f"/api/ruleChain/{root.pk}/edgeTemplateRoot")
    assert res.status_code == 200 and res.json()["name"] == "Template root"
    assert api.post(f"/api/ruleChain/{extra.pk}/autoAssignToEdge").status_code == 200
    assert [c["name"] for c in api.get("/api/ruleChain/autoAssignToEdgeRuleChains").json()] == ["Everywhere"]
    edge = new_edge(api, "fresh")
    assert edge.root_rule_chain_id == root.pk
    names = page_names(api.get(f"/api/edge/{edge.pk}/ruleChains?pageSize=10&page=0&sortProperty=name"))
    assert names == ["Everywhere", "Template root"]
    assert api.delete(f"/api/ruleChain/{extra.pk}/autoAssignToEdge").status_code == 200
    assert api.get("/api/ruleChain/autoAssignToEdgeRuleChains").json() == []
    assert page_names(api.get(f"/api/edge/{new_edge(api, 'later').pk}/ruleChains?pageSize=10&page=0")) == [
        "Template root"]
    core = chain(tenant, "Core", "CORE")
    assert_error(api.post(f"/api/ruleChain/{core.pk}/edgeTemplateRoot"), 400)


def test_missing_related_rule_chains(api, tenant, edge):
    from rulechains.models import RuleNode
    from rulechains.nodes import RULE_CHAIN_INPUT

    caller, called = chain(tenant, "Caller"), chain(tenant, "Called")
    RuleNode.objects.create(tenant=tenant, rule_chain=caller, index=0, type=RULE_CHAIN_INPUT,
                            configuration={"ruleChainId": str(called.pk)})
    api.post(f"/api/edge/{edge.pk}/ruleChain/{caller.pk}")
    assert api.get(f"/api/edge/missingToRelatedRuleChains/{edge.pk}").json() == '{"Caller": ["Called"]}'
    api.post(f"/api/edge/{edge.pk}/ruleChain/{called.pk}")
    assert api.get(f"/api/edge/missingToRelatedRuleChains/{edge.pk}").json() == "{}"


def test_entity_groups(api, tenant, edge):
    group = make_group(tenant, "Sensors")
    url = f"/api/edge/{edge.pk}/entityGroup/{group.pk}/DEVICE"
    res = api.post(url)
    assert res.status_code == 200 and res.json()["name"] == "Sensors"
    assert [g["name"] for g in api.get(f"/api/allEntityGroups/edge/{edge.pk}/DEVICE").json()] == ["Sensors"]
    assert page_names(api.get(f"/api/entityGroups/edge/{edge.pk}/DEVICE?pageSize=10&page=0")) == ["Sensors"]
    assert api.get(f"/api/allEntityGroups/edge/{edge.pk}/ASSET").json() == []
    assert events(api, edge)[0] == ("ENTITY_GROUP", "ASSIGNED_TO_EDGE", str(group.pk))
    group.description = "changed"
    group.save()
    assert events(api, edge)[0] == ("ENTITY_GROUP", "UPDATED", str(group.pk))
    assert_error(api.post(f"/api/edge/{edge.pk}/entityGroup/{group.pk}/ASSET"), 400)
    # members joining or leaving the assigned group (devices' membership event: the group API here)
    device, other = make_device(tenant, "pump-1"), make_device(tenant, "pump-2")
    assert api.post(f"/api/entityGroup/{group.pk}/addEntities", [str(device.pk)], format="json").status_code == 200
    assert api.post(f"/api/entityGroup/{group.pk}/addEntities", [str(other.pk)], format="json").status_code == 200
    page = api.get(f"/api/edge/{edge.pk}/events?pageSize=2&page=0&sortProperty=seqId&sortOrder=DESC").json()["data"]
    assert [(e["type"], e["action"], e["entityId"], e["entityGroupId"]) for e in page] == [
        ("DEVICE", "ADDED_TO_ENTITY_GROUP", str(other.pk), str(group.pk)),
        ("DEVICE", "ADDED_TO_ENTITY_GROUP", str(device.pk), str(group.pk))]
    assert api.post(f"/api/entityGroup/{group.pk}/deleteEntities", [str(device.pk)],
                    format="json").status_code == 200
    assert events(api, edge)[0] == ("DEVICE", "REMOVED_FROM_ENTITY_GROUP", str(device.pk))
    unassigned = make_group(tenant, "Elsewhere")
    unassigned.devices.add(device)
    assert events(api, edge)[0] == ("DEVICE", "REMOVED_FROM_ENTITY_GROUP", str(device.pk))
    assert api.delete(url).status_code == 200
    assert api.get(f"/api/allEntityGroups/edge/{edge.pk}/DEVICE").json() == []
    assert events(api, edge)[0] == ("ENTITY_GROUP", "UNASSIGNED_FROM_EDGE", str(group.pk))


def test_integrations(api, tenant, edge):
    template = make_integration(tenant, "Edge HTTP", edge_template=True,
                                configuration={"baseUrl": "http://x", "token": "${{token}}", "site": "${{site}}"})
    plain = make_integration(tenant, "Plain")
    res = api.post(f"/api/edge/{edge.pk}/integration/{template.pk}")
    assert res.status_code == 200 and res.json()["name"] == "Edge HTTP"
    assert_error(api.post(f"/api/edge/{edge.pk}/integration/{plain.pk}"), 400, "edge template")
    assert page_names(api.get(f"/api/edge/{edge.pk}/integrations?pageSize=10&page=0")) == ["Edge HTTP"]
    info = api.get(f"/api/edge/{edge.pk}/integrationInfos?pageSize=10&page=0").json()["data"][0]
    assert info["edgeTemplate"] is True and "configuration" not in info
    missing = api.get(f"/api/edge/integration/{edge.pk}/missingAttributes?integrationIds={template.pk}").json()
    assert missing == '{"Edge HTTP": ["site", "token"]}'
    assert api.get(f"/api/edge/integration/{template.pk}/allMissingAttributes").json() == \
        '{"edge-1": ["site", "token"]}'
    assert api.delete(f"/api/edge/{edge.pk}/integration/{template.pk}").status_code == 200
    assert page_names(api.get(f"/api/edge/{edge.pk}/integrations?pageSize=10&page=0")) == []


def test_scheduler_events(api, tenant, edge):
    event = SchedulerEvent.objects.create(tenant=tenant, name="Nightly", type="custom", schedule={"startTime": 1})
    res = api.post(f"/api/edge/{edge.pk}/schedulerEvent/{event.pk}")
    assert res.status_code == 200 and res.json()["name"] == "Nightly"
    assert [e["name"] for e in api.get(f"/api/edge/{edge.pk}/allSchedulerEvents").json()] == ["Nightly"]
    assert page_names(api.get(f"/api/edge/{edge.pk}/schedulerEvents?pageSize=10&page=0")) == ["Nightly"]
    event_id = event.pk
    event.delete()
    assert events(api, edge)[0] == ("SCHEDULER_EVENT", "DELETED", str(event_id))
    assert api.get(f"/api/edge/{edge.pk}/allSchedulerEvents").json() == []


def test_sync_queues_added_for_everything_assigned_and_events_page(api, tenant, edge):
    group = make_group(tenant, "Sensors")
    api.post(f"/api/edge/{edge.pk}/entityGroup/{group.pk}/DEVICE")
    EdgeEvent.objects.filter(edge=edge).delete()
    assert api.post(f"/api/edge/sync/{edge.pk}").status_code == 200
    found = events(api, edge, sortProperty="seqId", sortOrder="ASC")
    assert found == [("EDGE", "ADDED", str(edge.pk)), ("RULE_CHAIN", "ADDED", str(edge.root_rule_chain_id)),
                     ("RULE_CHAIN_METADATA", "ADDED", str(edge.root_rule_chain_id)),
                     ("ENTITY_GROUP", "ADDED", str(group.pk))]
    rows = api.get(f"/api/edge/{edge.pk}/events?pageSize=2&page=0&sortProperty=seqId").json()
    assert rows["totalElements"] == 4 and rows["hasNext"] and [r["seqId"] for r in rows["data"]] == [1, 2]
    assert rows["data"][0]["edgeId"] == {"entityType": "EDGE", "id": str(edge.pk)} and rows["data"][0]["uid"]
    assert events(api, edge, textSearch="group") == [("ENTITY_GROUP", "ADDED", str(group.pk))]
    assert events(api, edge, startTime=2 ** 42) == []
    assert_error(api.get(f"/api/edge/{edge.pk}/events?pageSize=10&page=0&startTime=soon"), 400)
    # an update of the edge itself
    api.post("/api/edge", {"id": {"entityType": "EDGE", "id": str(edge.pk)}, "name": "renamed", "type": "default"},
             format="json")
    assert events(api, edge)[0] == ("EDGE", "UPDATED", str(edge.pk))


def test_instructions_and_upgrades(api, edge):
    text = api.get(f"/api/edge/instructions/install/{edge.pk}/docker").json()["instructions"]
    assert f"CLOUD_ROUTING_KEY: {edge.routing_key}" in text and f"CLOUD_ROUTING_SECRET: {edge.secret}" in text
    assert "CLOUD_RPC_HOST: testserver" in text
    text = api.get(f"/api/edge/instructions/install/{edge.pk}/ubuntu").json()["instructions"]
    assert f"export CLOUD_ROUTING_SECRET={edge.secret}" in text and ".deb" in text
    assert ".rpm" in api.get(f"/api/edge/instructions/install/{edge.pk}/centos").json()["instructions"]
    assert_error(api.get(f"/api/edge/instructions/install/{edge.pk}/windows"), 400)
    assert api.get(f"/api/edge/{edge.pk}/upgrade/available").json() is False
    assert api.get("/api/edge/instructions/upgrade/3.9.0/docker").json()["instructions"]


def test_another_tenants_ids_are_not_found(api, mallory_api, tenant, other_tenant, edge):
    theirs_chain, theirs_group = chain(other_tenant, "Theirs"), make_group(other_tenant, "Theirs")
    theirs_integration = make_integration(other_tenant, "Theirs", edge_template=True)
    theirs_event = SchedulerEvent.objects.create(tenant=other_tenant, name="Theirs", type="custom", schedule={})
    for path in (f"ruleChain/{theirs_chain.pk}", f"entityGroup/{theirs_group.pk}/DEVICE",
                 f"integration/{theirs_integration.pk}", f"schedulerEvent/{theirs_event.pk}"):
        assert_error(api.post(f"/api/edge/{edge.pk}/{path}"), 404)
    assert_error(api.post(f"/api/edge/{edge.pk}/{theirs_chain.pk}/root"), 404)
    assert_error(api.post(f"/api/ruleChain/{theirs_chain.pk}/edgeTemplateRoot"), 404)
    assert_error(api.post(f"/api/ruleChain/{theirs_chain.pk}/autoAssignToEdge"), 404)
    mine = chain(tenant, "Mine")
    for url in (f"/api/edge/{edge.pk}/events?pageSize=10&page=0", f"/api/edge/{edge.pk}/ruleChains?pageSize=10&page=0",
                f"/api/allEntityGroups/edge/{edge.pk}/DEVICE", f"/api/edge/{edge.pk}/allSchedulerEvents",
                f"/api/edge/instructions/install/{edge.pk}/docker", f"/api/edge/missingToRelatedRuleChains/{edge.pk}"):
        assert_error(mallory_api.get(url), 404)
    assert_error(mallory_api.post(f"/api/edge/{edge.pk}/ruleChain/{mine.pk}"), 404)
    assert_error(mallory_api.post(f"/api/edge/sync/{edge.pk}"), 404)
    assert EdgeAssignment.objects.filter(edge=edge).count() == 1  # the template root only
    assert_error(api.post(f"/api/edge/{edge.pk}/ruleChain/not-a-uuid"), 400)
