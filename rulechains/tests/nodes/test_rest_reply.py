"""The rest call reply node: the message data goes back to the waiting REST API call named by the
metadata; Failure with ThingsBoard's texts when the metadata cannot name one. In-process hand-over
here (embedded mode); the Redis one is in rulechains/tests/test_replies_redis.py."""

import json
import uuid

import pytest

from rulechains import replies
from rulechains.nodes.rest_reply import EMPTY_BODY, NO_REQUEST_ID, NO_SERVICE_ID
from rulechains.tests.helpers import msg, run_node
from tbproject.clock import now_ms

REPLY = "org.thingsboard.rule.engine.rest.TbSendRestApiCallReplyNode"


@pytest.fixture(autouse=True)
def _embedded(settings):
    settings.REDIS_URL = ""


def request_msg(tenant, request_id, data=None, **extra):
    metadata = {"serviceId": "web-1", "requestUUID": request_id, "expirationTime": str(now_ms() + 5000), **extra}
    return msg(tenant, msg_type=replies.REST_API_REQUEST, data={"answer": 42} if data is None else data,
               metadata=metadata)


def test_it_hands_the_data_to_the_waiting_call_and_passes_the_message_on(tenant):
    request_id = str(uuid.uuid4())
    with replies.expecting(tenant.pk, request_id) as wait:
        sent = request_msg(tenant, request_id, {"answer": [1, "two"]})
        [[out]] = run_node(tenant, REPLY, [sent])
        assert out.relation == "Success" and out.msg == sent
        assert json.loads(wait(5)) == {"answer": [1, "two"]}


def test_it_reads_the_ids_from_the_configured_metadata_keys(tenant):
    request_id = str(uuid.uuid4())
    with replies.expecting(tenant.pk, request_id) as wait:
        sent = msg(tenant, data=["a"], metadata={"srv": "web-1", "rid": request_id})
        [[out]] = run_node(tenant, REPLY, [sent], serviceIdMetaDataAttribute="srv", requestIdMetaDataAttribute="rid")
        assert out.relation == "Success" and json.loads(wait(5)) == ["a"]


@pytest.mark.parametrize(("metadata", "data", "reason"), [
    ({"requestUUID": str(uuid.UUID(int=1))}, {"a": 1}, NO_SERVICE_ID),
    ({"serviceId": "web-1"}, {"a": 1}, NO_REQUEST_ID),
    ({"serviceId": "web-1", "requestUUID": ""}, {"a": 1}, NO_REQUEST_ID),
    ({"serviceId": "web-1", "requestUUID": "not-a-uuid"}, {"a": 1}, "Invalid UUID string: not-a-uuid"),
    ({"serviceId": "web-1", "requestUUID": str(uuid.UUID(int=1))}, "", EMPTY_BODY),
])
def test_a_message_that_names_no_call_fails_with_thingsboards_text(tenant, metadata, data, reason):
    [[out]] = run_node(tenant, REPLY, [msg(tenant, data=data, metadata=metadata)])
    assert out.relation == "Failure" and out.error == reason


def test_a_reply_nobody_waits_for_is_dropped(tenant):
    request_id = str(uuid.uuid4())
    [[out]] = run_node(tenant, REPLY, [request_msg(tenant, request_id)])
    assert out.relation == "Success"
    with replies.expecting(tenant.pk, request_id) as wait:  # a later call with the same id would not see it
        assert wait(0.01) is None


def test_a_reply_node_of_another_tenant_does_not_answer_the_call(tenant, other_tenant):
    """Replies are keyed by (tenant, request id): B's node that learned A's request id answers nobody."""
    request_id = str(uuid.uuid4())
    with replies.expecting(tenant.pk, request_id) as wait:
        [[out]] = run_node(other_tenant, REPLY, [request_msg(other_tenant, request_id, {"forged": True})])
        assert out.relation == "Success"  # as in ThingsBoard: the node does not know who waits
        assert wait(0.05) is None
        [[out]] = run_node(tenant, REPLY, [request_msg(tenant, request_id, {"own": True})])
        assert json.loads(wait(5)) == {"own": True}


def test_a_batch_answers_each_call_its_own_message(tenant):
    ids = [str(uuid.uuid4()) for _ in range(3)]
    with replies.expecting(tenant.pk, ids[0]) as first, replies.expecting(tenant.pk, ids[2]) as third:
        outs = run_node(tenant, REPLY, [request_msg(tenant, ids[0], {"n": 0}), msg(tenant, metadata={}),
                                        request_msg(tenant, ids[2], {"n": 2})])
        assert [o.relation for [o] in outs] == ["Success", "Failure", "Success"]
        assert json.loads(first(5)) == {"n": 0} and json.loads(third(5)) == {"n": 2}


@pytest.mark.parametrize("configuration", [{"serviceIdMetaDataAttribute": 5}, {"requestIdMetaDataAttribute": []}])
def test_a_name_that_is_not_text_is_refused_on_save(configuration):
    from rulechains.nodes import NODES
    from rulechains.nodes.base import ConfigError

    with pytest.raises(ConfigError, match="must be text"):
        NODES.load(REPLY).check(configuration)


def test_empty_names_fall_back_to_thingsboards_defaults():
    from rulechains.nodes import NODES

    config = NODES.load(REPLY).clean_config({"serviceIdMetaDataAttribute": "", "requestIdMetaDataAttribute": None})
    assert config == {"serviceIdMetaDataAttribute": "serviceId", "requestIdMetaDataAttribute": "requestUUID"}
