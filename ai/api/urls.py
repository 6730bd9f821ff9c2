"""/api/ai/... routes: AI models ("ai-model-": roles AI_MODEL) and chats ("ai-chat-": roles AI)."""

from django.urls import path

from ai.api import chats, views

urlpatterns = [
    path("ai/model", views.AiModelView.as_view(), name="ai-model-save"),
    path("ai/model/chat", views.AiModelChatView.as_view(), name="ai-model-chat"),
    path("ai/model/<str:model_uuid>", views.AiModelDetailView.as_view(), name="ai-model-detail"),
    path("ai/chats", chats.ChatListView.as_view(), name="ai-chat-list"),
    path("ai/chats/<str:chat_id>", chats.ChatDetailView.as_view(), name="ai-chat-detail"),
    path("ai/chats/<str:chat_id>/messages", chats.ChatMessagesView.as_view(), name="ai-chat-messages"),
]
