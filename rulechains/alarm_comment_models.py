"""ThingsBoard's alarm comments (since 3.5): a model of the rulechains app, in its own module."""

import uuid

from django.conf import settings
from django.db import models

from tbproject.clock import now_ms
from tenants.models import TenantScopedQuerySet

__all__ = ["AlarmComment", "AlarmCommentType"]


class AlarmCommentType(models.TextChoices):
    OTHER = "OTHER"  # written by a user
    SYSTEM = "SYSTEM"  # written by the platform: acknowledged, cleared, assigned, a comment deleted...


class AlarmComment(models.Model):
    """A comment on an alarm, ThingsBoard's ``alarm_comment`` row. ``comment`` is its JSON object:
    ``text`` and, as ThingsBoard writes them, ``edited``/``editedOn`` once its author changed it, or
    for a SYSTEM comment ``subtype`` (ACK, CLEAR, ASSIGN, SEVERITY_CHANGED, COMMENT_DELETED) with
    ``userId``, ``assigneeId``, ``oldSeverity``/``newSeverity`` or ``userName``. ``user`` is the
    author of an OTHER comment and the user who acted for a SYSTEM one (None: no user did). A
    deleted comment is kept, turned into a SYSTEM note (rulechains/alarm_comments.py)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+", editable=False)
    alarm = models.ForeignKey("rulechains.Alarm", on_delete=models.CASCADE, related_name="comments")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")
    type = models.CharField(max_length=8, choices=AlarmCommentType.choices, default=AlarmCommentType.OTHER)
    comment = models.JSONField(default=dict)
    created_time = models.BigIntegerField(default=now_ms, editable=False)

    customer_lookup = "alarm__customer_id"
    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["alarm", "created_time", "id"]
        indexes = [models.Index(fields=["alarm", "created_time"], name="alarm_comment_alarm")]

    def __str__(self) -> str:
        text = self.comment.get("text") if isinstance(self.comment, dict) else None
        return f"{self.type}: {str(text or '')[:60]}"
