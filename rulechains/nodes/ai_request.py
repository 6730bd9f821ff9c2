"""The AI request node (ThingsBoard 4.2+'s ``TbAiNode``): a prompt made from each message, sent to one of the
tenant's AI models (ai/); the model's answer becomes the message's data."""

import json
import time
import uuid
from concurrent.futures import ThreadPoolExecutor, wait

from ai import conf as ai_conf
from ai.chat import AiError, ChatRequest, prepare, supports
from ai.models import AiModel
from ai.providers.base import USER
from rulechains.messages import FAILURE, SUCCESS, changed
from rulechains.nodes.base import BaseNode, ConfigError, Out, bool_option, field, int_option, substitute

__all__ = ["AiRequestNode", "render"]

FORMATS = ("TEXT", "JSON", "JSON_SCHEMA")
MAX_PROMPT_CHARS = 500_000
MAX_PARALLEL = 8
DEFAULT_SYSTEM_PROMPT = ("You are a helpful AI assistant. Your primary function is to process the user's request "
                         "and respond with a valid JSON object. Do not include any text, explanations, or markdown "
                         "formatting before or after the JSON output.")


def render(pattern: str, msg) -> str:
    """ThingsBoard's prompt templates: ``${*}`` all the metadata and ``$[*]`` all the data as JSON text, then
    ``${key}`` / ``$[path]`` as every node's patterns."""
    if "${*}" in pattern:
        pattern = pattern.replace("${*}", json.dumps(msg.metadata, separators=(",", ":")))
    if "$[*]" in pattern:
        data = msg.data if isinstance(msg.data, str) else json.dumps(msg.data, separators=(",", ":"))
        pattern = pattern.replace("$[*]", data)
    return substitute(pattern, msg)


def _prompt(configuration: dict, key: str, *, required: bool):
    value = configuration.get(key)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{key} must not be blank")
    if len(value) > MAX_PROMPT_CHARS:
        raise ConfigError(f"{key} is longer than {MAX_PROMPT_CHARS} characters")
    return value


def _model_id(value) -> uuid.UUID:
    raw = value.get("id") if isinstance(value, dict) else value
    try:
        return uuid.UUID(str(raw))
    except (TypeError, ValueError, AttributeError):
        raise ConfigError("modelId must name an AI model ({\"entityType\": \"AI_MODEL\", \"id\": ...})") from None


def _response_format(value) -> dict:
    kind = value.get("type") if isinstance(value, dict) else None
    if kind not in FORMATS:
        raise ConfigError(f"responseFormat.type must be one of {', '.join(FORMATS)}")
    if kind != "JSON_SCHEMA":
        return {"type": kind}
    schema = value.get("schema")
    if not isinstance(schema, dict) or not schema:
        raise ConfigError("responseFormat.schema must be a JSON Schema object for JSON_SCHEMA")
    return {"type": kind, "schema": schema}


def answer_data(text: str) -> dict:
    """The answer as the message's data: a JSON object as it is, anything else as {"response": text}."""
    try:
        value = json.loads(text)
    except ValueError:
        value = None
    return value if isinstance(value, dict) else {"response": text}


class AiRequestNode(BaseNode):
    """Sends ``userPrompt`` (and ``systemPrompt``), rendered from the message (``$[*]`` all the data,
    ``${*}`` all the metadata, ``$[key]`` / ``${key}`` one value), to the tenant's AI model ``modelId``, asking
    for ``responseFormat`` TEXT, JSON or JSON_SCHEMA (JSON modes: not Anthropic, Amazon Bedrock, GitHub
    Models), waiting at most ``timeoutSeconds`` (1-600) without retries; a whole batch waits at most that long
    (and at most AI_NODE_BATCH_BUDGET_SECONDS): calls unanswered by then are abandoned, Failure "timed out".
    Success: the answer is the new data
    (a JSON object as it is, anything else as {"response": text}); originator, type and metadata stay.
    Failure: no answer in time, the model missing, the provider's error. ``forceAck`` is kept for
    ThingsBoard's sake (this engine acknowledges a message once it has gone through its chain)."""

    label = "AI request"
    group = "EXTERNAL"
    side_effects = True  # calls a paid service: a test run ("Test this chain") does not
    defaults = {"systemPrompt": DEFAULT_SYSTEM_PROMPT, "responseFormat": {"type": "JSON"}, "timeoutSeconds": 60,
                "forceAck": True}
    fields = (field("modelId", "json", "AI model", help='{"entityType": "AI_MODEL", "id": "<uuid>"}'),
              field("systemPrompt", "text", "System prompt"), field("userPrompt", "text", "User prompt"),
              field("responseFormat", "json", "Response format", help='{"type": "TEXT" | "JSON" | "JSON_SCHEMA"}'),
              field("timeoutSeconds", "number", "Timeout (s)"), field("forceAck", "bool", "Force acknowledgement"))

    @classmethod
    def clean_config(cls, configuration):
        if configuration.get("resourceIds"):
            raise ConfigError("resourceIds: AI resources (attached files) are not supported here; remove them")
        return {**configuration, "model_pk": _model_id(configuration.get("modelId")),
                "system": _prompt(configuration, "systemPrompt", required=False),
                "user": _prompt(configuration, "userPrompt", required=True),
                "format": _response_format(configuration.get("responseFormat")),
                "timeout": int_option(configuration, "timeoutSeconds", None, low=1, high=600, required=True),
                "forceAck": bool_option(configuration, "forceAck")}

    def _prepared(self, ctx):
        """The node's model made ready (once per batch), or the error every message fails with."""
        model = AiModel.objects.filter(tenant_id=ctx.tenant_id, pk=self.config["model_pk"]).first()
        if model is None:
            return f"AI model with ID: [{self.config['model_pk']}] was not found"
        if not supports(model.configuration, self.config["format"]):
            return (f"AI model with ID: [{model.pk}] does not support '{self.config['format']['type']}' "
                    "response format")
        try:
            return prepare(ctx.tenant_id, model.configuration)
        except AiError as e:
            return e.message

    def process_batch(self, ctx, msgs):
        prepared = self._prepared(ctx)
        if isinstance(prepared, str):
            return [[Out(FAILURE, changed(msg, metadata={**msg.metadata, "error": prepared}), prepared)]
                    for msg in msgs]
        # one budget for the batch: the rule-engine worker (shared by every tenant) never waits longer
        budget = min(float(self.config["timeout"]), ai_conf.node_batch_budget())
        deadline = time.monotonic() + budget
        pool = ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(msgs)), thread_name_prefix="ai-node")
        try:
            futures = [pool.submit(self.ask, prepared, m, deadline) for m in msgs]
            wait(futures, timeout=max(0.0, deadline - time.monotonic()))
        finally:
            pool.shutdown(wait=False, cancel_futures=True)  # calls still out end at the deadline by themselves
        return [future.result() if future.done() and not future.cancelled() else self._late(msg, budget)
                for future, msg in zip(futures, msgs, strict=True)]

    @staticmethod
    def _late(msg, budget: float) -> list[Out]:
        error = f"AI request timed out: no answer within the batch's {budget:g} s"
        return [Out(FAILURE, changed(msg, metadata={**msg.metadata, "error": error}), error)]

    def ask(self, prepared, msg, deadline: float | None = None) -> list[Out]:
        config = self.config
        system = render(config["system"], msg) if config["system"] else None
        request = ChatRequest(system, [(USER, render(config["user"], msg))], config["format"])
        try:
            text = prepared.call(request, timeout=config["timeout"], retries=0, deadline=deadline)
        except AiError as e:
            return [Out(FAILURE, changed(msg, metadata={**msg.metadata, "error": e.message[:1024]}), e.message)]
        return [Out(SUCCESS, changed(msg, data=answer_data(text)))]
