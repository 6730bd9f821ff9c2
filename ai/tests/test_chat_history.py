"""A chat's history: what is sent to the provider is capped by characters (AI_CHAT_HISTORY_MAX_CHARS), and
GET /api/ai/chats/{id}/messages answers the newest messages, older ones with ``before`` (mocked cloud)."""

import pytest

from ai.models import AiChat, AiChatMessage, AiModel
from ai.tests.conftest import anthropic_config

pytestmark = pytest.mark.django_db


def _chat(api):
    model = api.post("/api/ai/model", {"name": "C", "configuration": anthropic_config()}, format="json").json()
    return f"/api/ai/chats/{api.post('/api/ai/chats', {'aiModelId': model['id']}, format='json').json()['id']}"


def test_the_history_sent_is_capped_by_characters(api, mocked_cloud, settings):
    settings.AI_CHAT_HISTORY_MAX_CHARS = 20
    url = _chat(api)
    for text in ("hi", "again", "more"):
        api.post(f"{url}/messages", {"text": text}, format="json")
    # newest first while they fit: "echo: again" (11) + "again" (5); "echo: hi" (8) would pass 20
    assert [m["content"] for m in mocked_cloud.seen[-1]["body"]["messages"]] == ["again", "echo: again", "more"]
    settings.AI_CHAT_HISTORY_MAX_CHARS = 12
    api.post(f"{url}/messages", {"text": "last"}, format="json")
    # "echo: more" (10) fits but the history never starts with the model's answer
    assert [m["content"] for m in mocked_cloud.seen[-1]["body"]["messages"]] == ["last"]


def test_the_messages_are_paged_newest_first_oldest_first_within(api, tenant, mocked_cloud):
    url = _chat(api)
    chat = AiChat.objects.get()
    AiChatMessage.objects.bulk_create([AiChatMessage(tenant=tenant, chat=chat, role="USER", content=f"m{i}",
                                                     created_time=1_000 + i) for i in range(105)])
    default = api.get(f"{url}/messages").json()
    assert [m["content"] for m in default] == [f"m{i}" for i in range(5, 105)]  # the newest 100, as a list
    page = api.get(f"{url}/messages", {"limit": 3}).json()
    assert [m["content"] for m in page] == ["m102", "m103", "m104"]
    older = api.get(f"{url}/messages", {"limit": 3, "before": page[0]["createdTime"]}).json()
    assert [m["content"] for m in older] == ["m99", "m100", "m101"]
    for params in ({"limit": 0}, {"limit": "x"}, {"limit": 1001}, {"before": "yesterday"}):
        res = api.get(f"{url}/messages", params)
        assert res.status_code == 400 and res.json()["errorCode"] == 31, params
    assert AiModel.objects.count() == 1
