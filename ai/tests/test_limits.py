"""How long an AI call may hold a thread, against the mocked cloud (ai/tests/fakecloud.py): a provider dripping
its answer is cut at the model's timeout; the rule node's batch has one budget; interactive calls have a total
deadline including retries and a per-tenant cap of calls in flight."""

import uuid

import pytest

from ai import chat as ai_chat
from ai.chat import AiError, ChatRequest, complete
from ai.models import AiChatMessage
from ai.providers.base import USER
from ai.tests.conftest import anthropic_config, openai_config
from ai.tests.test_rule_node import AI, model, node_config
from rulechains.tests.helpers import msg, run_node


def test_a_provider_dripping_its_answer_is_cut_at_the_timeout(mocked_cloud):
    with pytest.raises(AiError, match="did not answer within 1 s"):
        complete(uuid.uuid4(), anthropic_config(timeoutSeconds=1), ChatRequest(None, [(USER, "drip")]))


@pytest.mark.django_db
def test_the_nodes_batch_waits_at_most_its_budget(tenant, mocked_cloud, settings):
    settings.AI_NODE_BATCH_BUDGET_SECONDS = 0.5
    row = model(tenant, openai_config(mocked_cloud))
    batch = [msg(tenant, data={"n": n}) for n in range(10)]  # more than the 8 asked at once
    outs = run_node(tenant, AI, batch, **node_config(row, userPrompt="hang", timeoutSeconds=1))
    assert [o.relation for [o] in outs] == ["Failure"] * 10
    assert all("timed out" in o.error for [o] in outs), [o.error for [o] in outs]
    assert len(mocked_cloud.seen) <= 8  # those still queued when the budget ended were never sent


def _test_chat(api, config, text):
    return api.post("/api/ai/model/chat", {"userMessage": {"contents": [{"contentType": "TEXT", "text": text}]},
                                           "chatModelConfig": config}, format="json")


@pytest.mark.django_db
def test_an_interactive_call_has_one_deadline_including_retries(api, mocked_cloud, settings):
    settings.AI_INTERACTIVE_BUDGET_SECONDS = 0.5
    answer = _test_chat(api, anthropic_config(timeoutSeconds=1, maxRetries=3), "hang").json()
    assert answer["status"] == "FAILURE" and "did not answer within 0.5 s" in answer["errorDetails"]
    assert len(mocked_cloud.seen) == 1  # no retry after the deadline


@pytest.mark.django_db
def test_a_tenant_has_a_cap_of_ai_calls_in_flight(api, tenant, mocked_cloud, settings):
    settings.AI_MAX_CALLS_IN_FLIGHT_PER_TENANT = 1
    model_id = api.post("/api/ai/model", {"name": "C", "configuration": anthropic_config()}, format="json").json()["id"]
    chat = api.post("/api/ai/chats", {"aiModelId": model_id}, format="json").json()
    with ai_chat.in_flight(tenant.pk):
        busy = _test_chat(api, anthropic_config(), "hi")
        assert busy.status_code == 429, busy.content
        assert busy.json()["message"] == "Too many AI requests in progress" and busy.json()["errorCode"] == 33
        sent = api.post(f"/api/ai/chats/{chat['id']}/messages", {"text": "hi"}, format="json")
        assert sent.status_code == 429 and not AiChatMessage.objects.exists()
    assert _test_chat(api, anthropic_config(), "hi").json()["status"] == "SUCCESS"  # the slot was given back
    assert ai_chat._IN_FLIGHT == {}
