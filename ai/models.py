"""Models of the ai app: a tenant's AI models (ThingsBoard's AiModel) and its users' chats with them."""

from django.conf import settings
from django.db import models

from tbproject.clock import now_ms
from tenants.models import TenantScopedModel

__all__ = ["AiModel", "AiChat", "AiChatMessage"]


class AiModel(TenantScopedModel):
    """ThingsBoard's AiModel: a named configuration of one provider's chat model (``configuration``: the
    provider, its ``providerConfig`` with credentials, ``modelId`` and the optional parameters; ai/configs.py).

    Credentials are write-only: the API and the admin show them as ``******`` (a secret placeholder as
    written). ``provider`` and ``model_id`` repeat the configuration's, for sorting and searching.
    """

    name = models.CharField(max_length=255)
    provider = models.CharField(max_length=32, editable=False)
    model_id = models.CharField(max_length=255, editable=False)
    configuration = models.JSONField(default=dict)

    customer_lookup = None  # customer users see no AI models

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class AiChat(TenantScopedModel):
    """A user's conversation with one of the tenant's AI models (``/api/ai/chats``); only its user sees it.
    Deleting the model leaves the chat (and its history) without a model: it can be read, not continued."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    model = models.ForeignKey(AiModel, null=True, blank=True, on_delete=models.SET_NULL, related_name="chats")
    title = models.CharField(max_length=255, blank=True, default="")
    system_prompt = models.TextField(blank=True, default="")
    updated_time = models.BigIntegerField(default=now_ms)

    customer_lookup = None

    class Meta:
        ordering = ["-updated_time"]

    def __str__(self) -> str:
        return self.title or str(self.pk)


class AiChatMessage(TenantScopedModel):
    """One message of a chat: the user's, or the model's answer (the chat's tenant)."""

    class Role(models.TextChoices):
        USER = "USER", "User"
        ASSISTANT = "ASSISTANT", "Assistant"

    chat = models.ForeignKey(AiChat, on_delete=models.CASCADE, related_name="messages")
    role = models.CharField(max_length=16, choices=Role.choices)
    content = models.TextField()

    customer_lookup = None

    class Meta:
        ordering = ["created_time", "pk"]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"
