"""ThingsBoard's own generated client (tb-pe-client ``AiModelControllerApi``) against the real server: an AI model
saved, read, listed and deleted, its key never in the answers; the test chat's FAILURE read into TbChatResponse
(a key naming a secret the tenant does not have: no call leaves the server)."""

import pytest
from tb_pe_client.exceptions import ApiException
from tb_pe_client.models import (
    AiModel,
    AnthropicChatModelConfig,
    AnthropicProviderConfig,
    ModelNone,
    OllamaChatModelConfig,
    OllamaProviderConfig,
    TbChatRequest,
    TbTextContent,
    TbUserMessage,
)

from tests.test_tb_client import client, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server
KEY = "sk-ant-client-never-shown"


def test_the_client_manages_an_ai_model_and_tries_one(client):  # noqa: F811
    config = AnthropicChatModelConfig(provider="ANTHROPIC", provider_config=AnthropicProviderConfig(api_key=KEY),
                                      model_id="claude-sonnet-4-5", temperature=0.3, max_output_tokens=100)
    saved = client.save_ai_model(AiModel(name="Claude via client", configuration=config))
    assert isinstance(saved, AiModel) and saved.id.entity_type == "AI_MODEL" and saved.version == 1
    assert isinstance(saved.configuration, AnthropicChatModelConfig)
    assert KEY not in saved.to_json() and saved.configuration.provider_config.api_key == "******"
    model_id = saved.id.id
    assert client.get_ai_model_by_id(model_id).name == "Claude via client"
    page = client.get_ai_models(page_size=10, page=0, text_search="claude", sort_property="name", sort_order="ASC")
    assert [m.name for m in page.data] == ["Claude via client"] and page.has_next is False
    saved.name = "Renamed"
    assert client.save_ai_model(saved).version == 2  # the masked key posted back keeps the stored one
    vaulted = AnthropicChatModelConfig(provider="ANTHROPIC", model_id="claude-sonnet-4-5", provider_config=
                                       AnthropicProviderConfig(api_key="${secret:noSuchKey;type:TEXT}"))
    request = TbChatRequest(system_message="be brief", chat_model_config=vaulted, user_message=TbUserMessage(
        contents=[TbTextContent(content_type="TEXT", text="hello")]))
    answer = client.send_chat_request(request)
    assert answer.status == "FAILURE" and "Secret 'noSuchKey'" in answer.error_details
    local = OllamaChatModelConfig(provider="OLLAMA", model_id="llama3.2", provider_config=OllamaProviderConfig(
        base_url="http://127.0.0.1:11434", auth=ModelNone(type="NONE")))
    with pytest.raises(ApiException) as refused:  # the outbound guard: no AI_ALLOW_PRIVATE_URLS on that server
        client.save_ai_model(AiModel(name="Local", configuration=local))
    assert refused.value.status == 400 and "not a public address" in refused.value.body
    assert client.delete_ai_model_by_id(model_id) is True
    with pytest.raises(ApiException) as missing:
        client.get_ai_model_by_id(model_id)
    assert missing.value.status == 404
