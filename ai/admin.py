"""AI models and chats in the admin, read-only: a model's credentials show as ****** (ai/configs.py), never
their value; models are made and changed through the API (/api/ai/model), which checks them."""

import json

from django.contrib import admin
from django.utils.html import format_html

from ai.configs import masked
from ai.models import AiChat, AiChatMessage, AiModel
from tbproject.admin import TenantScopedAdmin, format_ms


@admin.register(AiModel)
class AiModelAdmin(TenantScopedAdmin):
    read_only = True
    list_display = ("name", "provider", "model_id", "created")
    list_filter = ("provider",)
    search_fields = ("name", "model_id")
    fields = ("name", "provider", "model_id", "shown_configuration", "id", "created")
    readonly_fields = ("name", "provider", "model_id", "shown_configuration", "id", "created")

    @admin.display(description="Configuration")
    def shown_configuration(self, obj):
        return format_html("<pre>{}</pre>", json.dumps(masked(obj.configuration), indent=2))

    @admin.display(description="Created")
    def created(self, obj):
        return format_ms(obj.created_time)


@admin.register(AiChat)
class AiChatAdmin(TenantScopedAdmin):
    read_only = True
    list_display = ("__str__", "user", "model", "updated")
    fields = ("title", "user", "model", "system_prompt", "id", "updated")
    readonly_fields = fields

    @admin.display(description="Updated")
    def updated(self, obj):
        return format_ms(obj.updated_time)


@admin.register(AiChatMessage)
class AiChatMessageAdmin(TenantScopedAdmin):
    read_only = True
    list_display = ("__str__", "chat", "role", "created")
    list_filter = ("role",)
    fields = ("chat", "role", "content", "id", "created")
    readonly_fields = fields

    @admin.display(description="Created")
    def created(self, obj):
        return format_ms(obj.created_time)
