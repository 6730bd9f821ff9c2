"""/api/ai/model and /api/ai/chats through the Django test client: ThingsBoard's AiModel JSON, write-only
credentials, clear 400s, tenancy, the test chat and chats against the mocked cloud (ai/tests/fakecloud.py)."""

import json
import logging

import pytest

from ai.configs import MASK
from ai.models import AiChat, AiModel
from ai.tests.conftest import anthropic_config, openai_config
from ai.tests.fakecloud import KEYS

pytestmark = pytest.mark.django_db


def save(api, name="GPT", configuration=None, **extra):
    return api.post("/api/ai/model", {"name": name, "configuration": configuration, **extra}, format="json")


def test_it_saves_reads_lists_and_deletes_a_model(api, mocked_cloud, caplog):
    caplog.set_level(logging.DEBUG)
    res = save(api, configuration=openai_config(mocked_cloud, temperature=0.5, unknownKey=1))
    assert res.status_code == 200, res.content
    model = res.json()
    assert model["id"]["entityType"] == "AI_MODEL" and model["tenantId"]["entityType"] == "TENANT"
    assert model["version"] == 1 and model["createdTime"] > 0 and model["name"] == "GPT"
    assert model["configuration"] == {"provider": "OPENAI", "modelId": "gpt-4o-mini", "modelType": "CHAT",
                                      "temperature": 0.5, "providerConfig": {"baseUrl": mocked_cloud.url("/openai/v1"),
                                                                             "apiKey": MASK}}
    pk = model["id"]["id"]
    assert api.get(f"/api/ai/model/{pk}").json() == model
    save(api, "Claude", anthropic_config())
    page = api.get("/api/ai/model", {"pageSize": 10, "page": 0, "sortProperty": "provider", "sortOrder": "DESC"})
    assert [m["name"] for m in page.json()["data"]] == ["GPT", "Claude"] and page.json()["totalElements"] == 2
    found = api.get("/api/ai/model", {"pageSize": 10, "page": 0, "textSearch": "claude-sonnet"}).json()
    assert [m["name"] for m in found["data"]] == ["Claude"]
    assert api.delete(f"/api/ai/model/{pk}").json() is True
    assert api.get(f"/api/ai/model/{pk}").status_code == 404
    assert api.delete(f"/api/ai/model/{pk}").status_code == 404
    assert KEYS["openai"] not in caplog.text


def test_credentials_are_write_only_and_the_mask_keeps_them(api, mocked_cloud):
    model = save(api, configuration=openai_config(mocked_cloud)).json()
    model["name"] = "Renamed"
    again = api.post("/api/ai/model", model, format="json")
    assert again.status_code == 200 and again.json()["version"] == 2
    row = AiModel.objects.get(pk=model["id"]["id"])
    assert row.name == "Renamed" and row.configuration["providerConfig"]["apiKey"] == KEYS["openai"]
    stale = api.post("/api/ai/model", model, format="json")  # version 1 sent, 2 stored
    assert stale.status_code == 409
    copied = {"name": "Copy", "configuration": model["configuration"]}  # the mask without a stored key
    refused = api.post("/api/ai/model", copied, format="json")
    assert refused.status_code == 400 and "apiKey: no secret is stored to keep" in refused.json()["message"]
    placeholder = openai_config(mocked_cloud)
    placeholder["providerConfig"]["apiKey"] = "${secret:openaiKey;type:TEXT}"
    shown = save(api, "Vaulted", placeholder).json()
    assert shown["configuration"]["providerConfig"]["apiKey"] == "${secret:openaiKey;type:TEXT}"


@pytest.mark.parametrize("body, message", [
    ({"configuration": {"provider": "OPENAI", "modelId": "m", "providerConfig": {}}}, "name is required"),
    ({"name": "x"}, "configuration must be an object with a provider"),
    ({"name": "x", "configuration": {"provider": "SKYNET"}}, "configuration.provider must be one of"),
    ({"name": "x", "configuration": {"provider": "ANTHROPIC", "modelId": "m", "providerConfig": {}}},
     "providerConfig.apiKey is required"),
    ({"name": "x", "configuration": {"provider": "ANTHROPIC", "providerConfig": {"apiKey": "k"}}},
     "modelId is required"),
    ({"name": "x", "configuration": {**anthropic_config(), "temperature": "hot"}}, "temperature must be a number"),
    ({"name": "x", "configuration": {**anthropic_config(), "topP": 3}}, "topP must be from 0 to 1"),
    ({"name": "x", "configuration": {**anthropic_config(), "maxOutputTokens": 1.5}}, "maxOutputTokens must be an"),
    ({"name": "x", "configuration": {**anthropic_config(), "modelType": "EMBEDDING"}}, "modelType must be CHAT"),
    ({"name": "x", "configuration": {"provider": "OLLAMA", "modelId": "m", "providerConfig": {
        "baseUrl": "ftp://host"}}}, "providerConfig.baseUrl must be an http(s) URL"),
    ({"name": "x", "configuration": {"provider": "OLLAMA", "modelId": "m", "providerConfig": {
        "baseUrl": "https://ollama.example.com", "auth": {"type": "BASIC", "username": "u"}}}},
     "providerConfig.auth.password is required"),
    ({"name": "x", "configuration": {"provider": "AMAZON_BEDROCK", "modelId": "m", "providerConfig": {
        "region": "evil.com/#", "accessKeyId": "a", "secretAccessKey": "s"}}}, "providerConfig.region must be"),
    ({"name": "x", "configuration": {"provider": "GOOGLE_VERTEX_AI_GEMINI", "modelId": "m", "providerConfig": {
        "projectId": "p", "location": "l", "serviceAccountKey": "not json"}}}, "must be a service account key"),
    ([1, 2], "Request body must be a JSON object"),
])
def test_a_bad_model_is_a_clear_400_and_nothing_is_saved(api, body, message):
    res = api.post("/api/ai/model", body, format="json")
    assert res.status_code == 400, res.content
    assert message in res.json()["message"] and res.json()["errorCode"] == 31
    assert AiModel.objects.count() == 0


def test_a_private_base_url_is_refused_when_saved_unless_allowed(api, settings):
    settings.AI_ALLOW_PRIVATE_URLS = False
    for url in ("http://127.0.0.1:11434", "http://localhost:11434", "http://[::1]:11434", "http://10.1.2.3"):
        res = save(api, configuration={"provider": "OLLAMA", "modelId": "m", "providerConfig": {"baseUrl": url}})
        assert res.status_code == 400 and "not a public address" in res.json()["message"], url
    settings.AI_ALLOW_PRIVATE_URLS = True
    res = save(api, configuration={"provider": "OLLAMA", "modelId": "m", "providerConfig": {
        "baseUrl": "http://127.0.0.1:11434"}})
    assert res.status_code == 200 and res.json()["configuration"]["providerConfig"]["auth"] == {"type": "NONE"}


def test_another_tenants_model_and_customers_are_kept_out(api, mallory_api, customer_api, mocked_cloud):
    pk = save(api, configuration=anthropic_config()).json()["id"]["id"]
    for call in (mallory_api.get, mallory_api.delete):
        res = call(f"/api/ai/model/{pk}")
        assert res.status_code == 404 and res.json()["errorCode"] == 32
    update = mallory_api.post("/api/ai/model", {"id": {"entityType": "AI_MODEL", "id": pk}, "name": "stolen",
                                                "configuration": anthropic_config()}, format="json")
    assert update.status_code == 404
    assert mallory_api.get("/api/ai/model", {"pageSize": 10, "page": 0}).json()["totalElements"] == 0
    assert customer_api.get("/api/ai/model", {"pageSize": 10, "page": 0}).status_code == 403
    assert customer_api.get(f"/api/ai/model/{pk}").status_code == 403
    assert api.get("/api/ai/model/not-a-uuid").status_code == 400
    assert AiModel.objects.get(pk=pk).name == "GPT"


def _chat_request(config, text="ping", system=None):
    return {"systemMessage": system, "userMessage": {"contents": [{"contentType": "TEXT", "text": text}]},
            "chatModelConfig": config}


def test_the_test_chat_answers_success_or_failure(api, mocked_cloud):
    ok = api.post("/api/ai/model/chat", _chat_request(openai_config(mocked_cloud), system="terse"), format="json")
    assert ok.json() == {"status": "SUCCESS", "generatedContent": "echo: ping"}
    assert mocked_cloud.seen[-1]["body"]["messages"][0] == {"role": "system", "content": "terse"}
    wrong = anthropic_config()
    wrong["providerConfig"]["apiKey"] = "sk-ant-wrong"
    failed = api.post("/api/ai/model/chat", _chat_request(wrong), format="json").json()
    assert failed["status"] == "FAILURE" and "HTTP 401" in failed["errorDetails"]
    for body, message in [({"userMessage": {}}, "userMessage.contents must be a non-empty list"),
                          (_chat_request(openai_config(mocked_cloud), text=""), "contents.text is required"),
                          (_chat_request({"provider": "OPENAI", "providerConfig": {}}),
                           "chatModelConfig: modelId is required"),
                          ({"chatModelConfig": anthropic_config()}, "userMessage is required")]:
        res = api.post("/api/ai/model/chat", body, format="json")
        assert res.status_code == 400 and message in res.json()["message"], body


def test_a_chat_keeps_its_history_and_belongs_to_its_user(api, mallory_api, tenant, mocked_cloud):
    model = save(api, configuration=anthropic_config()).json()
    created = api.post("/api/ai/chats", {"aiModelId": model["id"], "title": "Ops", "systemPrompt": "be kind"},
                       format="json")
    assert created.status_code == 201, created.content
    chat = created.json()
    assert chat["title"] == "Ops" and chat["aiModelId"] == model["id"]
    url = f"/api/ai/chats/{chat['id']}"
    first = api.post(f"{url}/messages", {"text": "hi"}, format="json").json()
    assert [m["role"] for m in first] == ["USER", "ASSISTANT"] and first[1]["content"] == "echo: hi"
    api.post(f"{url}/messages", {"text": "again"}, format="json")
    sent = mocked_cloud.seen[-1]["body"]
    assert sent["system"] == "be kind" and [m["content"] for m in sent["messages"]] == ["hi", "echo: hi", "again"]
    history = api.get(f"{url}/messages").json()
    assert [m["content"] for m in history] == ["hi", "echo: hi", "again", "echo: again"]
    events = api.post(f"{url}/messages", {"text": "sse"}, format="json", HTTP_ACCEPT="text/event-stream")
    assert events["Content-Type"].startswith("text/event-stream")
    assert json.loads(events.content.decode().split("\n\n")[1].removeprefix("data: "))["content"] == "echo: sse"
    assert api.patch(url, {"title": "Renamed"}, format="json").json()["title"] == "Renamed"
    assert [c["title"] for c in api.get("/api/ai/chats").json()] == ["Renamed"]
    assert mallory_api.get(f"{url}/messages").status_code == 404 and mallory_api.delete(url).status_code == 404
    assert mallory_api.post(f"{url}/messages", {"text": "x"}, format="json").status_code == 404
    assert mallory_api.patch(url, {"title": "x"}, format="json").status_code == 404
    assert mallory_api.get("/api/ai/chats").json() == []
    assert api.delete(url).status_code == 204 and not AiChat.objects.exists()


def test_chat_errors_are_clear(api, mocked_cloud):
    assert api.post("/api/ai/chats", {"title": "no model"}, format="json").status_code == 400
    model = save(api, configuration=anthropic_config()).json()
    chat = api.post("/api/ai/chats", {"aiModelId": model["id"]["id"]}, format="json").json()
    url = f"/api/ai/chats/{chat['id']}"
    assert api.post(f"{url}/messages", {"text": ""}, format="json").status_code == 400
    assert api.patch(url, {"name": "x"}, format="json").status_code == 400
    AiModel.objects.filter(pk=model["id"]["id"]).update(configuration={**anthropic_config(), "providerConfig": {
        "apiKey": "sk-ant-wrong"}})
    answer = api.post(f"{url}/messages", {"text": "hi"}, format="json").json()
    assert answer[0]["role"] == "USER" and answer[1]["role"] == "ERROR" and "HTTP 401" in answer[1]["content"]
    api.delete(f"/api/ai/model/{model['id']['id']}")
    gone = api.post(f"{url}/messages", {"text": "hi"}, format="json")
    assert gone.status_code == 400 and "AI model was deleted" in gone.json()["message"]
    assert [m["content"] for m in api.get(f"{url}/messages").json()] == ["hi"]  # the history stays readable


def test_a_secret_an_ai_model_names_cannot_be_deleted(api, tenant, mocked_cloud):
    from vault import services as secrets

    secret = secrets.save(tenant.pk, {"name": "antKey", "type": "TEXT", "value": KEYS["anthropic"]})
    config = anthropic_config()
    config["providerConfig"]["apiKey"] = "${secret:antKey;type:TEXT}"
    save(api, "Vaulted", config)
    res = api.delete(f"/api/secret/{secret.pk}")
    assert res.status_code == 400 and res.json()["references"]["AI_MODEL"][0]["name"] == "Vaulted"


def test_no_admin_page_shows_a_credential(client, tenant_admin, api, mocked_cloud):
    pk = save(api, configuration=anthropic_config()).json()["id"]["id"]
    client.force_login(tenant_admin)
    for url in ("/admin/ai/aimodel/", f"/admin/ai/aimodel/{pk}/change/"):
        page = client.get(url)
        assert page.status_code == 200 and KEYS["anthropic"] not in page.content.decode(), url
