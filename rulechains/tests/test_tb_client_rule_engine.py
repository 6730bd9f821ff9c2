"""ThingsBoard's generated client (tb-pe-client) calling the rule engine through the REST API on the
real ASGI server (daphne): the root chain's rest call reply node answers the call, a message the
chain does not answer is a 408, and a call waiting for its reply holds up no other request.

Reuses the server and client fixtures of tests/test_tb_client.py (a fresh server for this module;
its replies cross Redis when REDIS_URL is set, as in the PostgreSQL/Redis leg of CI).
"""

import ast
import json
import threading

import pytest
from tb_pe_client.exceptions import ApiException
from tb_pe_client.models import RuleChain, RuleChainMetaData

from rulechains import nodes
from rulechains.tests.helpers import chain_json, node
from tests.test_tb_client import client, device, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server

REPLY = "org.thingsboard.rule.engine.rest.TbSendRestApiCallReplyNode"


@pytest.fixture(scope="module")
def replying_root(client):  # noqa: F811
    """Other -> a script filter (``reply`` false: no answer) -> a transform -> rest call reply."""
    saved = client.save_rule_chain(RuleChain(name="Replying root", type="CORE"))
    data = chain_json("Replying root", [
        node(nodes.SWITCH, "Message Type Switch", version=0),
        node(nodes.SCRIPT_FILTER, "Wants a reply", scriptLang="JS", jsScript="return msg.reply !== false;"),
        node(nodes.SCRIPT_TRANSFORM, "Answer", scriptLang="JS",
             jsScript="return {msg: {sum: msg.a + msg.b, type: msgType}, metadata: metadata, msgType: msgType};"),
        node(REPLY, "Reply", serviceIdMetaDataAttribute="serviceId", requestIdMetaDataAttribute="requestUUID"),
    ], [(0, 1, "Other"), (1, 2, "True"), (2, 3, "Success")])
    metadata = {**data["metadata"], "ruleChainId": {"entityType": "RULE_CHAIN", "id": str(saved.id.id)},
                "ruleChainConnections": []}
    client.save_rule_chain_meta_data(RuleChainMetaData.from_dict(metadata))
    client.set_root_rule_chain(str(saved.id.id))
    return saved


def test_the_reply_nodes_data_answers_the_clients_call(client, device, replying_root):  # noqa: F811
    answer = client.handle_rule_engine_request_for_entity("DEVICE", str(device.id.id), json.dumps({"a": 2, "b": 3}))
    assert ast.literal_eval(answer) == {"sum": 5, "type": "REST_API_REQUEST"}
    answer = client.handle_rule_engine_request_for_user(json.dumps({"a": 1, "b": 1}))
    assert ast.literal_eval(answer)["sum"] == 2


def test_a_call_waiting_for_its_reply_holds_up_no_other_request(client, device, replying_root):  # noqa: F811
    failed = []

    def unanswered():
        try:
            client.handle_rule_engine_request_for_entity_with_timeout(
                "DEVICE", str(device.id.id), 3000, json.dumps({"a": 1, "b": 1, "reply": False}))
        except ApiException as e:
            failed.append(e)

    waiting = threading.Thread(target=unanswered)
    waiting.start()
    waiting.join(0.5)  # let it reach the server; it waits up to 3 s there
    answer = client.handle_rule_engine_request_for_entity_with_queue_and_timeout(
        "DEVICE", str(device.id.id), "Main", 2000, json.dumps({"a": 20, "b": 22}))
    assert ast.literal_eval(answer)["sum"] == 42
    assert waiting.is_alive()  # answered while the other call still waits for its reply
    waiting.join(30)
    [error] = failed
    assert error.status == 408 and json.loads(error.body)["status"] == 408
