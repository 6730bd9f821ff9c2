"""AI chats (tb-pe-client ``AiChatControllerApi``; its bodies are untyped, so the shapes are ours), a tenant
administrator's own conversations with the tenant's AI models; another user's chat answers 404:

    POST   /api/ai/chats                     {"aiModelId", "title"?, "systemPrompt"?} -> 201 chat
    GET    /api/ai/chats                     [chat, ...], the latest first
    PATCH  /api/ai/chats/{chatId}            {"title"} -> chat
    DELETE /api/ai/chats/{chatId}            204
    GET    /api/ai/chats/{chatId}/messages   [message, ...], oldest first: the newest ``limit`` (100, at most
           1000) of those created before ``before`` (createdTime ms, optional: the page before a message)
    POST   /api/ai/chats/{chatId}/messages   {"text"} -> [the user's message, the answer | {"role": "ERROR"}]
           (as server-sent events when the request accepts only text/event-stream)

A chat is {"id", "title", "aiModelId", "systemPrompt", "createdTime", "updatedTime"}; a message
{"id", "chatId", "role": "USER" | "ASSISTANT", "content", "createdTime"}.
"""

import json

from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.response import Response

from ai import services
from ai.api.views import _Base, refused
from ai.models import AiChat
from ai.rendering import chat_json, message_json
from tbproject.api.ids import parse_uuid

__all__ = ["ChatListView", "ChatDetailView", "ChatMessagesView"]


class _ChatBase(_Base):
    def chats(self):
        return AiChat.objects.filter(tenant_id=self.request.user.tenant_id, user=self.request.user)

    def chat(self, pk) -> AiChat:
        return get_object_or_404(self.chats().select_related("model"), pk=parse_uuid(pk))


class ChatListView(_ChatBase):
    def post(self, request):
        chat = refused(services.create_chat, request.user.tenant_id, request.user, request.data)
        return Response(chat_json(chat), status=201)

    def get(self, request):
        return Response([chat_json(c) for c in self.chats()[:1000]])


class ChatDetailView(_ChatBase):
    def patch(self, request, chat_id):
        return Response(chat_json(refused(services.rename_chat, self.chat(chat_id), request.data)))

    def delete(self, request, chat_id):
        self.chat(chat_id).delete()
        return Response(status=204)


class EventStreamRenderer(BaseRenderer):
    """Server-sent events: one ``data:`` line per entry of a list (an error body: one event)."""

    media_type, format, charset = "text/event-stream", "sse", "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        entries = data if isinstance(data, list) else [data]
        return "".join(f"data: {json.dumps(e)}\n\n" for e in entries).encode()


class JsonUnlessOnlyEvents(DefaultContentNegotiation):
    """JSON whenever the request accepts it (tb-pe-client sends ``text/event-stream, application/json``),
    events only for a request that accepts nothing else."""

    def select_renderer(self, request, renderers, format_suffix=None):
        accept = request.META.get("HTTP_ACCEPT", "")
        chosen = renderers[-1] if "text/event-stream" in accept and "json" not in accept else renderers[0]
        return chosen, chosen.media_type


#: messages a history read answers by default (tb-pe-client's getChatMessages has no parameters) and at most
DEFAULT_MESSAGES, MAX_MESSAGES = 100, 1000


def _int_param(request, name: str, default, *, low=None, high=None):
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValidationError(f"{name} must be an integer") from None
    if (low is not None and value < low) or (high is not None and value > high):
        raise ValidationError(f"{name} must be from {low} to {high}")
    return value


def _events(entries) -> list:
    return [entry if isinstance(entry, dict) else message_json(entry) for entry in entries]


class ChatMessagesView(_ChatBase):
    renderer_classes = [JSONRenderer, EventStreamRenderer]
    content_negotiation_class = JsonUnlessOnlyEvents

    def get(self, request, chat_id):
        limit = _int_param(request, "limit", DEFAULT_MESSAGES, low=1, high=MAX_MESSAGES)
        before = _int_param(request, "before", None)
        messages = self.chat(chat_id).messages.order_by("-created_time", "-pk")
        if before is not None:
            messages = messages.filter(created_time__lt=before)
        return Response([message_json(m) for m in list(messages[:limit])[::-1]])

    def post(self, request, chat_id):
        return Response(_events(refused(services.send_message, self.chat(chat_id), request.data)))
