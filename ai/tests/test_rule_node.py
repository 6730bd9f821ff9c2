"""The AI request rule node (org.thingsboard.rule.engine.ai.TbAiNode) against the mocked cloud
(ai/tests/fakecloud.py): prompts rendered from the message, the answer as the new data, clear failures."""

import json

import pytest

from ai.models import AiModel
from ai.tests.conftest import anthropic_config, openai_config
from rulechains import components
from rulechains.nodes import NODES
from rulechains.nodes.base import ConfigError
from rulechains.tests.helpers import msg, run_node

pytestmark = pytest.mark.django_db
AI = "org.thingsboard.rule.engine.ai.TbAiNode"


def model(tenant, configuration, name="m") -> AiModel:
    return AiModel.objects.create(tenant=tenant, name=name, provider=configuration["provider"],
                                  model_id=configuration["modelId"], configuration=configuration)


def node_config(row, **extra) -> dict:
    return {**NODES.load(AI).defaults, "modelId": {"entityType": "AI_MODEL", "id": str(row.pk)},
            "userPrompt": "Readings: $[*] of ${deviceName}; temperature $[temperature]", **extra}


def test_the_answer_becomes_the_data_and_the_rest_stays(tenant, mocked_cloud):
    row = model(tenant, openai_config(mocked_cloud))
    incoming = msg(tenant, data={"temperature": 25.5}, metadata={"deviceName": "pump-1"})
    [[out]] = run_node(tenant, AI, [incoming], **node_config(row, systemPrompt="Metadata: ${*}"))
    assert out.relation == "Success", out.error
    sent = mocked_cloud.seen[-1]["body"]
    prompt = 'Readings: {"temperature":25.5} of pump-1; temperature 25.5'
    assert sent["messages"] == [{"role": "system", "content": 'Metadata: {"deviceName":"pump-1"}'},
                                {"role": "user", "content": prompt}]
    assert sent["response_format"] == {"type": "json_object"}  # the node's default: JSON
    assert out.msg.data == {"answer": 42, "asked": prompt}
    assert out.msg.metadata == incoming.metadata and out.msg.msg_type == incoming.msg_type


def test_a_text_answer_is_wrapped_and_a_batch_runs_together(tenant, mocked_cloud):
    row = model(tenant, anthropic_config())
    batch = [msg(tenant, data={"temperature": t}, metadata={"deviceName": f"d{t}"}) for t in range(3)]
    outs = run_node(tenant, AI, batch, **node_config(row, responseFormat={"type": "TEXT"}, systemPrompt=None,
                                                     userPrompt="t=$[temperature]"))
    assert [o.relation for [o] in outs] == ["Success"] * 3
    assert [o.msg.data for [o] in outs] == [{"response": f"echo: t={t}"} for t in range(3)]
    assert all("system" not in s["body"] for s in mocked_cloud.seen)


def test_failures_say_why(tenant, other_tenant, mocked_cloud):
    theirs = model(other_tenant, openai_config(mocked_cloud))
    [[missing]] = run_node(tenant, AI, [msg(tenant)], **node_config(theirs))
    assert missing.relation == "Failure" and f"AI model with ID: [{theirs.pk}] was not found" in missing.error
    claude = model(tenant, anthropic_config())
    [[unsupported]] = run_node(tenant, AI, [msg(tenant)], **node_config(claude))
    assert "does not support 'JSON' response format" in unsupported.error
    assert unsupported.msg.metadata["error"] == unsupported.error
    wrong = model(tenant, {**anthropic_config(), "providerConfig": {"apiKey": "sk-ant-wrong"}})
    [[refused]] = run_node(tenant, AI, [msg(tenant)], **node_config(wrong, responseFormat={"type": "TEXT"}))
    assert refused.relation == "Failure" and "HTTP 401" in refused.error and "sk-ant-wrong" not in refused.error


@pytest.mark.parametrize("change, message", [
    ({"modelId": None}, "modelId must name an AI model"),
    ({"userPrompt": "  "}, "userPrompt must not be blank"),
    ({"systemPrompt": ""}, "systemPrompt must not be blank"),
    ({"userPrompt": "x" * 500_001}, "userPrompt is longer than 500000"),
    ({"responseFormat": {"type": "XML"}}, "responseFormat.type must be one of TEXT, JSON, JSON_SCHEMA"),
    ({"responseFormat": {"type": "JSON_SCHEMA"}}, "responseFormat.schema must be a JSON Schema object"),
    ({"timeoutSeconds": 0}, "timeoutSeconds must be an integer from 1 to 600"),
    ({"timeoutSeconds": 601}, "timeoutSeconds must be an integer from 1 to 600"),
    ({"forceAck": "maybe"}, "forceAck must be true or false"),
    ({"resourceIds": ["0d4f7c4e-1111-4a4a-9c9c-000000000001"]}, "AI resources"),
])
def test_a_bad_configuration_is_refused_naming_the_problem(change, message):
    configuration = {**NODES.load(AI).defaults, "modelId": {"entityType": "AI_MODEL",
                                                            "id": "0d4f7c4e-1111-4a4a-9c9c-000000000000"},
                     "userPrompt": "go", **change}
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        components.validate(AI, configuration)


def test_the_palette_offers_it_as_an_external_node_with_thingsboards_defaults():
    [descriptor] = [d for d in components.descriptors(["EXTERNAL"]) if d["clazz"] == AI]
    assert descriptor["name"] == "AI request" and descriptor["type"] == "EXTERNAL"
    defaults = descriptor["configurationDescriptor"]["nodeDefinition"]["defaultConfiguration"]
    assert defaults["responseFormat"] == {"type": "JSON"} and defaults["timeoutSeconds"] == 60
    assert defaults["forceAck"] is True and "valid JSON object" in defaults["systemPrompt"]
    assert json.dumps(defaults)  # plain JSON


def test_a_chain_stores_what_the_model_answered(tenant, mocked_cloud):
    from devices.telemetry import latest
    from rulechains import engine, nodes
    from rulechains.tests.helpers import install_root, node
    from tbproject.testing.factories import make_device

    device = make_device(tenant, "pump-7")
    row = model(tenant, openai_config(mocked_cloud))
    ai_node = node(AI, "ask", True, **node_config(row, userPrompt="$[*]"))
    install_root(tenant, [ai_node, node(nodes.SAVE_TIMESERIES, "store")], [(0, 1, "Success")])
    report = engine.process([msg(tenant, device, data={"temperature": 30}, metadata={"deviceName": "pump-7"})])
    assert report.failures == 0 and report.node_runs == 2
    assert latest(device.pk, ["answer"])["answer"][1] == 42
