"""AI models and chats: saving, deleting, and a chat turn (thin views call these).

    save_model(tenant_id, data, existing=None) -> AiModel    # ModelRefused (400) naming the problem
    test_chat(tenant_id, data) -> {"status": "SUCCESS", "generatedContent"} | {"status": "FAILURE", "errorDetails"}
    create_chat(tenant_id, user, data) -> AiChat
    send_message(chat, text) -> [user message, answer or error]
"""

import time
import uuid

from django.db import transaction
from rest_framework.exceptions import NotFound

from ai import chat as ai_chat
from ai import conf
from ai.configs import ConfigRefused, clean
from ai.models import AiChat, AiChatMessage, AiModel
from ai.providers.base import ASSISTANT, USER, AiError, ChatRequest
from tbproject.api.exceptions import Conflict
from tbproject.clock import now_ms
from tbproject.text import check_text

__all__ = ["ModelRefused", "save_model", "test_chat", "create_chat", "rename_chat", "send_message",
           "MAX_PROMPT_CHARS", "MAX_HISTORY"]

#: ThingsBoard's AI request node: prompts up to 500,000 characters; the same bounds every text sent here
MAX_PROMPT_CHARS = 500_000
#: the most earlier messages of a chat sent with a new one
MAX_HISTORY = 50


class ModelRefused(ValueError):
    """A request body that cannot be saved or run; the text says why (a 400)."""


def _name(value, what: str = "name", *, required: bool = True, limit: int = 255) -> str:
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise ModelRefused(f"{what} is required")
        return ""
    if not isinstance(value, str):
        raise ModelRefused(f"{what} must be a string")
    if len(value) > limit:
        raise ModelRefused(f"{what} is longer than {limit} characters")
    try:
        return check_text(value.strip())
    except ValueError as e:
        raise ModelRefused(f"{what}: {e}") from None


def save_model(tenant_id, data, existing: AiModel | None = None) -> AiModel:
    """Create (``existing`` None) or update an AI model from ThingsBoard's AiModel JSON."""
    if not isinstance(data, dict):
        raise ModelRefused("Request body must be a JSON object")
    name = _name(data.get("name"))
    version = data.get("version")
    if existing is not None and isinstance(version, int) and not isinstance(version, bool) \
            and version != existing.version:
        raise Conflict(f"AI model '{existing.name}' was changed meanwhile (version {existing.version}, "
                       f"sent {version}): reload it and save again")
    try:
        configuration = clean(data.get("configuration"), existing.configuration if existing else None)
    except ConfigRefused as e:
        raise ModelRefused(str(e)) from None
    row = existing or AiModel(tenant_id=tenant_id)
    row.name, row.configuration = name, configuration
    row.provider, row.model_id = configuration["provider"], configuration["modelId"]
    row.save()
    return row


def _text_of(contents) -> str:
    """The text of TbUserMessage's ``contents`` (TbTextContent parts)."""
    if not isinstance(contents, list) or not contents:
        raise ModelRefused("userMessage.contents must be a non-empty list")
    texts = []
    for part in contents:
        if not isinstance(part, dict) or part.get("contentType") != "TEXT":
            raise ModelRefused("userMessage.contents: only TEXT content is supported")
        texts.append(_name(part.get("text"), "userMessage.contents.text", limit=MAX_PROMPT_CHARS))
    return "\n".join(texts)


def test_chat(tenant_id, data) -> dict:
    """ThingsBoard's sendChatRequest: one prompt to an unsaved model configuration; the provider's failure is
    the answer's FAILURE (a 200), a malformed request a ModelRefused."""
    if not isinstance(data, dict):
        raise ModelRefused("Request body must be a JSON object")
    user = data.get("userMessage")
    if not isinstance(user, dict):
        raise ModelRefused("userMessage is required")
    text = _text_of(user.get("contents"))
    system = _name(data.get("systemMessage"), "systemMessage", required=False, limit=MAX_PROMPT_CHARS) or None
    try:
        configuration = clean(data.get("chatModelConfig"))
    except ConfigRefused as e:
        raise ModelRefused(f"chatModelConfig: {e}") from None
    try:
        with ai_chat.in_flight(tenant_id):
            answer = ai_chat.complete(tenant_id, configuration, ChatRequest(system, [(USER, text)]),
                                      deadline=_deadline())
    except AiError as e:
        return {"status": "FAILURE", "errorDetails": e.message}
    return {"status": "SUCCESS", "generatedContent": answer}


def _deadline() -> float:
    """When an interactive call (a web worker waits) must have answered, retries included."""
    return time.monotonic() + conf.interactive_budget()


def model_of(tenant_id, value) -> AiModel:
    """The tenant's AI model a body names (a uuid or {"entityType": "AI_MODEL", "id"}); ModelRefused (400) for a
    malformed id, NotFound (404, ThingsBoard's answer) for an unknown or another tenant's model."""
    raw = value.get("id") if isinstance(value, dict) else value
    try:
        pk = uuid.UUID(str(raw))
    except (TypeError, ValueError):
        raise ModelRefused("aiModelId must be an AI model id") from None
    row = AiModel.objects.filter(tenant_id=tenant_id, pk=pk).first()
    if row is None:
        raise NotFound(f"AI model with ID: [{pk}] was not found")
    return row


def create_chat(tenant_id, user, data) -> AiChat:
    if not isinstance(data, dict):
        raise ModelRefused("Request body must be a JSON object")
    model = model_of(tenant_id, data.get("aiModelId"))
    return AiChat.objects.create(tenant_id=tenant_id, user=user, model=model,
                                 title=_name(data.get("title"), "title", required=False),
                                 system_prompt=_name(data.get("systemPrompt"), "systemPrompt", required=False,
                                                     limit=MAX_PROMPT_CHARS))


def rename_chat(chat: AiChat, data) -> AiChat:
    if not isinstance(data, dict) or "title" not in data:
        raise ModelRefused("Request body must be a JSON object with a title")
    chat.title, chat.updated_time = _name(data.get("title"), "title"), now_ms()
    chat.save(update_fields=["title", "updated_time", "version"])
    return chat


def _fitting(history: list) -> list:
    """The newest messages of ``history`` (oldest first) whose texts add up to at most AI_CHAT_HISTORY_MAX_CHARS,
    starting with a user's message (providers expect the user to speak first)."""
    budget, kept = conf.history_max_chars(), []
    for message in reversed(history):
        budget -= len(message.content)
        if budget < 0:
            break
        kept.append(message)
    kept.reverse()
    while kept and kept[0].role != AiChatMessage.Role.USER:
        kept.pop(0)
    return kept


def send_message(chat: AiChat, data) -> list:
    """Store the user's message, ask the chat's model with the history, store its answer. A provider's
    failure answers an ``ERROR`` entry (not stored) after the user's message."""
    text = data.get("text", data.get("content")) if isinstance(data, dict) else data
    text = _name(text, "text", limit=MAX_PROMPT_CHARS)
    if chat.model_id is None:
        raise ModelRefused("The chat's AI model was deleted: start a new chat")
    with ai_chat.in_flight(chat.tenant_id):
        return _send(chat, text)


def _send(chat: AiChat, text: str) -> list:
    history = list(chat.messages.order_by("-created_time", "-pk")[:MAX_HISTORY])[::-1]
    # strictly later than the last message: the history's order is the times' (two in one ms would tie)
    now = max(now_ms(), history[-1].created_time + 1 if history else 0)
    with transaction.atomic():
        asked = AiChatMessage.objects.create(tenant_id=chat.tenant_id, chat=chat, role=AiChatMessage.Role.USER,
                                             content=text, created_time=now)
        AiChat.objects.filter(pk=chat.pk).update(updated_time=now)
    turns = [(USER if m.role == AiChatMessage.Role.USER else ASSISTANT, m.content) for m in _fitting(history)]
    request = ChatRequest(chat.system_prompt or None, [*turns, (USER, text)])
    try:
        answer = ai_chat.complete(chat.tenant_id, chat.model.configuration, request, deadline=_deadline())
    except AiError as e:
        return [asked, {"role": "ERROR", "content": e.message, "chatId": str(chat.pk), "createdTime": now_ms()}]
    answered = AiChatMessage.objects.create(tenant_id=chat.tenant_id, chat=chat, role=AiChatMessage.Role.ASSISTANT,
                                            content=answer, created_time=max(now_ms(), now + 1))
    return [asked, answered]
