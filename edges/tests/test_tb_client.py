"""ThingsBoard's own generated client (tb-pe-client) driving the edge endpoints on the real server: every
answer must be JSON the client's models accept (Edge, EdgeInfo, PageDataEdgeEvent, EdgeInstructions...).

Reuses the server and client fixtures of tests/test_tb_client.py (a fresh server for this module).
"""

import uuid

import pytest
from tb_pe_client.exceptions import ApiException
from tb_pe_client.models import Converter, Edge, EntityGroup, Integration, RuleChain

from tests.test_tb_client import client, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server


def _edge(client, name):  # noqa: F811
    return client.save_edge(Edge(name=name, type="gateway", routing_key=str(uuid.uuid4()), secret="s3cret-edge",
                                 edge_license_key="", cloud_endpoint="http://localhost"))


def test_edges_through_the_client(client):  # noqa: F811
    saved = _edge(client, "client-edge")
    edge_id = str(saved.id.id)
    assert saved.id.entity_type == "EDGE" and saved.secret == "s3cret-edge" and saved.root_rule_chain_id is not None
    assert client.get_edge_by_id(edge_id).name == "client-edge"
    assert client.get_edge_info_by_id(edge_id).owner_name
    assert [e.name for e in client.get_tenant_edges(page_size=10, page=0, text_search="client-").data] == [
        "client-edge"]
    assert client.get_all_edge_infos(page_size=10, page=0).total_elements >= 1
    assert client.get_user_edges(page_size="10", page="0").total_elements >= 1
    assert client.get_edges(page_size=10, page=0).total_elements >= 1
    assert [e.name for e in client.get_edge_list(edge_ids=[edge_id])] == ["client-edge"]
    assert "gateway" in [t.type for t in client.get_edge_types()]
    assert client.get_tenant_edge_by_name(edge_name="client-edge").id.id == saved.id.id
    assert client.is_edges_support_enabled() is True
    assert client.is_edge_upgrade_available(edge_id) is False
    text = client.get_edge_install_instructions(edge_id, "docker").instructions
    assert saved.routing_key in text and "s3cret-edge" in text
    assert client.get_edge_upgrade_instructions("3.9.0", "docker").instructions

    chain = client.save_rule_chain(RuleChain(name="client edge chain", type="EDGE"))
    chain_id = str(chain.id.id)
    assert client.assign_rule_chain_to_edge(edge_id, chain_id).name == "client edge chain"
    names = [c.name for c in client.get_edge_rule_chains(edge_id, page_size=10, page=0).data]
    assert "client edge chain" in names and len(names) == 2
    assert client.set_edge_root_rule_chain(edge_id, chain_id).root_rule_chain_id.id == chain.id.id
    client.set_auto_assign_to_edge_rule_chain(chain_id)
    assert [c.name for c in client.get_auto_assign_to_edge_rule_chains()] == ["client edge chain"]
    client.unset_auto_assign_to_edge_rule_chain(chain_id)
    client.set_edge_template_root_rule_chain(chain_id)
    assert client.find_missing_to_related_rule_chains(edge_id) == "{}"

    group = client.save_entity_group(EntityGroup(name="client edge group", type="DEVICE"))
    group_id = str(group.id.id)
    assert client.assign_entity_group_to_edge(edge_id, "DEVICE", group_id).name == "client edge group"
    assert [g.name for g in client.get_all_edge_entity_groups(edge_id, "DEVICE")] == ["client edge group"]
    assert client.get_edge_entity_groups(edge_id, "DEVICE", page_size="10", page="0").total_elements == 1
    client.unassign_entity_group_from_edge(edge_id, "DEVICE", group_id)

    converter = client.save_converter(Converter(name="client edge decoder", type="UPLINK", edge_template=True,
                                                configuration={"scriptLang": "JS", "decoder": "return {};"}))
    integration = client.save_integration(Integration(
        name="client edge http", type="HTTP", default_converter_id=converter.id, routing_key=uuid.uuid4().hex,
        edge_template=True, configuration={"baseUrl": "http://localhost", "metadata": {}}))
    integration_id = str(integration.id.id)
    client.assign_integration_to_edge(edge_id, integration_id)
    assert [i.name for i in client.get_edge_integrations(edge_id, page_size=10, page=0).data] == ["client edge http"]
    assert client.get_edge_integration_infos(edge_id, page_size=10, page=0).data[0].edge_template is True
    assert client.find_edge_missing_attributes(edge_id, integration_ids=[integration_id]) == "{}"
    client.unassign_integration_from_edge(edge_id, integration_id)

    client.sync_edge(edge_id)
    page = client.get_edge_events(edge_id, page_size=50, page=0)
    kinds = {(e.type, e.action) for e in page.data}
    assert {("RULE_CHAIN", "ASSIGNED_TO_EDGE"), ("ENTITY_GROUP", "UNASSIGNED_FROM_EDGE"), ("EDGE", "ADDED")} <= kinds

    client.delete_edge(edge_id)
    with pytest.raises(ApiException) as caught:
        client.get_edge_by_id(edge_id)
    assert caught.value.status == 404
