"""ThingsBoard's generated client (tb-pe-client) driving rule chains and one-way RPC on the real server.

Reuses the server and client fixtures of tests/test_tb_client.py (a fresh server for this module).
"""

import copy
import json

import pytest
from tb_pe_client.models import RuleChain, RuleChainMetaData

from rulechains.tests.helpers import DOWNLINK_EXAMPLE
from tests.test_tb_client import client, device, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server


def test_it_saves_pages_and_fills_a_rule_chain(client):  # noqa: F811
    saved = client.save_rule_chain(RuleChain(name="Client chain", type="CORE"))
    assert saved is not None and saved.id.id and saved.root is False and saved.type == "CORE"
    chain_id = str(saved.id.id)
    page = client.get_rule_chains(page_size=10, page=0, text_search="client")
    assert [c.name for c in page.data] == ["Client chain"]
    roots = [c.name for c in client.get_rule_chains(page_size=10, page=0).data if c.root]
    assert roots == ["Root Rule Chain"]

    metadata = copy.deepcopy(DOWNLINK_EXAMPLE["metadata"])
    metadata["ruleChainId"] = {"entityType": "RULE_CHAIN", "id": chain_id}
    metadata["ruleChainConnections"] = []
    stored = client.save_rule_chain_meta_data(RuleChainMetaData.from_dict(metadata))
    assert stored.first_node_index == 2 and len(stored.nodes) == 9 and stored.rule_chain_connections == []
    read = client.get_rule_chain_meta_data(chain_id)
    assert [n.name for n in read.nodes] == [n["name"] for n in metadata["nodes"]]
    assert sorted((c.from_index, c.to_index, c.type) for c in read.connections) == sorted(
        (c["fromIndex"], c["toIndex"], c["type"]) for c in metadata["connections"])
    assert client.get_rule_chain_by_id(chain_id).first_rule_node_id.id == read.nodes[2].id.id

    root = client.set_root_rule_chain(chain_id)
    assert root.root is True
    client.delete_rule_chain(str([c for c in client.get_rule_chains(page_size=10, page=0).data
                                  if c.name == "Root Rule Chain"][0].id.id))
    assert [c.name for c in client.get_rule_chains(page_size=10, page=0).data] == ["Client chain"]


def test_it_sends_a_one_way_rpc(client, device):  # noqa: F811
    client.handle_one_way_device_rpc_request_v2(str(device.id.id), json.dumps({"method": "reboot", "params": {}}))
