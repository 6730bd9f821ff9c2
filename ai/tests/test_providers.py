"""Each provider's wire format against the mocked cloud (ai/tests/fakecloud.py: OpenAI, Anthropic, Gemini,
Vertex AI, Bedrock, Azure OpenAI, Mistral, GitHub Models, Ollama), and what every call shares: the outbound
guard, the timeout, the size cap, retries, secrets resolved and kept out of errors."""

import json
import uuid

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from ai.chat import AiError, ChatRequest, complete
from ai.providers.base import ASSISTANT, USER
from ai.tests.conftest import anthropic_config, openai_config
from ai.tests.fakecloud import KEYS

TENANT = uuid.uuid4()


def ask(configuration, text="hello", system="be brief", fmt=None, **kw):
    return complete(TENANT, configuration, ChatRequest(system, [(USER, text)], fmt), **kw)


def _service_account(cloud) -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return json.dumps({"type": "service_account", "client_email": "bot@proj.iam.gserviceaccount.com",
                       "private_key": pem, "token_uri": cloud.url("/vertex/token")})


def test_it_speaks_openai_chat_completions(mocked_cloud):
    config = openai_config(mocked_cloud, temperature=0.2, maxOutputTokens=64)
    assert ask(config) == "echo: hello"
    sent = mocked_cloud.seen[-1]["body"]
    assert sent["model"] == "gpt-4o-mini" and sent["temperature"] == 0.2 and sent["max_completion_tokens"] == 64
    assert sent["messages"] == [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hello"}]
    assert json.loads(ask(config, fmt={"type": "JSON"})) == {"answer": 42, "asked": "hello"}
    assert mocked_cloud.seen[-1]["body"]["response_format"] == {"type": "json_object"}
    schema = {"type": "object", "properties": {"answer": {"type": "integer"}}}
    ask(config, fmt={"type": "JSON_SCHEMA", "schema": schema})
    assert mocked_cloud.seen[-1]["body"]["response_format"]["json_schema"]["schema"] == schema


def test_it_speaks_anthropic_messages(mocked_cloud):
    history = ChatRequest("be brief", [(USER, "hi"), (ASSISTANT, "hello"), (USER, "again")])
    assert complete(TENANT, anthropic_config(topK=5), history) == "echo: again"
    seen = mocked_cloud.seen[-1]
    assert seen["path"] == "/anthropic/v1/messages" and seen["headers"]["anthropic-version"] == "2023-06-01"
    assert seen["body"]["system"] == "be brief" and seen["body"]["max_tokens"] == 4096 and seen["body"]["top_k"] == 5
    assert [m["role"] for m in seen["body"]["messages"]] == ["user", "assistant", "user"]
    with pytest.raises(AiError, match="do not support the 'JSON' response format"):
        ask(anthropic_config(), fmt={"type": "JSON"})


def test_it_speaks_gemini_vertex_bedrock_azure_mistral_github_and_ollama(mocked_cloud):
    configs = {
        "gemini": {"provider": "GOOGLE_AI_GEMINI", "providerConfig": {"apiKey": KEYS["gemini"]},
                   "modelId": "gemini-2.5-flash", "topK": 3},
        "vertex": {"provider": "GOOGLE_VERTEX_AI_GEMINI", "modelId": "gemini-2.5-pro", "providerConfig": {
            "projectId": "proj-1", "location": "us-central1", "serviceAccountKey": _service_account(mocked_cloud)}},
        "bedrock": {"provider": "AMAZON_BEDROCK", "modelId": "anthropic.claude-3-haiku", "maxOutputTokens": 10,
                    "providerConfig": {"region": "us-east-1", "accessKeyId": "AKIAMOCKED",
                                       "secretAccessKey": "bedrock-secret-mocked"}},
        "azure": {"provider": "AZURE_OPENAI", "modelId": "my-deployment", "providerConfig": {
            "endpoint": mocked_cloud.url("/azure"), "apiKey": KEYS["azure"]}},
        "mistral": {"provider": "MISTRAL_AI", "providerConfig": {"apiKey": KEYS["mistral"]},
                    "modelId": "mistral-small"},
        "github": {"provider": "GITHUB_MODELS", "providerConfig": {"personalAccessToken": KEYS["github"]},
                   "modelId": "openai/gpt-4.1"},
        "ollama": {"provider": "OLLAMA", "modelId": "llama3.2", "contextLength": 2048, "providerConfig": {
            "baseUrl": mocked_cloud.url("/ollama"), "auth": {"type": "TOKEN", "token": KEYS["ollama"]}}},
    }
    for name, config in configs.items():
        assert ask(config, text=f"to {name}") == f"echo: to {name}", name
    bodies = {s["path"].split("/")[1]: s["body"] for s in mocked_cloud.seen if "token" not in s["path"]}
    assert bodies["gemini"]["systemInstruction"] == {"parts": [{"text": "be brief"}]}
    assert bodies["gemini"]["generationConfig"] == {"topK": 3}
    assert bodies["bedrock"]["inferenceConfig"] == {"maxTokens": 10} and bodies["bedrock"]["system"] == [
        {"text": "be brief"}]
    assert "model" not in bodies["azure"] and bodies["ollama"]["options"] == {"num_ctx": 2048}
    assert bodies["ollama"]["stream"] is False
    assert json.loads(ask(configs["ollama"], fmt={"type": "JSON"}))["answer"] == 42
    assert mocked_cloud.seen[-1]["body"]["format"] == "json"


def test_a_provider_error_is_clear_and_never_shows_the_key(mocked_cloud):
    config = openai_config(mocked_cloud)
    config["providerConfig"]["apiKey"] = "sk-wrong-key-never-shown"
    with pytest.raises(AiError) as refused:
        ask(config)
    assert refused.value.permanent and "HTTP 401" in refused.value.message
    assert "Incorrect API key provided: Bearer ******" in refused.value.message
    assert "sk-wrong-key-never-shown" not in refused.value.message


def test_a_private_address_is_refused_unless_allowed(mocked_cloud, settings):
    settings.AI_ALLOW_PRIVATE_URLS = False
    local = {"provider": "OLLAMA", "modelId": "llama3.2", "providerConfig": {"baseUrl": mocked_cloud.url("/ollama")}}
    with pytest.raises(AiError, match="not a public address"):
        ask(local)
    metadata = openai_config(mocked_cloud)
    metadata["providerConfig"]["baseUrl"] = "http://169.254.169.254/v1"
    with pytest.raises(AiError, match="not a public address"):
        ask(metadata)
    assert mocked_cloud.seen == []


def test_replies_are_capped_in_size_and_time(mocked_cloud, settings):
    settings.AI_MAX_RESPONSE_BYTES = 2048
    with pytest.raises(AiError, match="answered more than 2048 bytes"):
        ask(anthropic_config(), text="big")
    with pytest.raises(AiError, match="did not answer within 1 s"):
        ask(anthropic_config(timeoutSeconds=1), text="hang")


def test_it_retries_what_may_pass_as_often_as_the_model_says(mocked_cloud):
    assert ask(anthropic_config(maxRetries=1), text="flaky") == "echo: flaky"
    with pytest.raises(AiError, match="HTTP 503: overloaded"):
        ask(anthropic_config(), text="flaky")  # no retries: the first (odd) call fails


@pytest.mark.django_db
def test_a_secret_placeholder_is_resolved_from_the_tenants_vault(mocked_cloud, tenant, other_tenant):
    from vault import services as secrets

    secrets.save(tenant.pk, {"name": "anthropicKey", "type": "TEXT", "value": KEYS["anthropic"]})
    config = anthropic_config()
    config["providerConfig"]["apiKey"] = "${secret:anthropicKey;type:TEXT}"
    assert complete(tenant.pk, config, ChatRequest(None, [(USER, "vaulted")])) == "echo: vaulted"
    assert mocked_cloud.seen[-1]["headers"]["x-api-key"] == KEYS["anthropic"]
    with pytest.raises(AiError, match="Secret 'anthropicKey' .* is not found"):
        complete(other_tenant.pk, config, ChatRequest(None, [(USER, "vaulted")]))
