"""The notification center's records, as ThingsBoard keeps them (3.5+).

Targets, templates, rules and requests belong to a tenant, or to the system administrator (no
tenant: ``tenant`` is null). Their ThingsBoard configurations are stored whole as JSON, checked on
save for the fields the server acts on (notifications/validation.py). A :class:`Notification` is
one user's inbox entry (the WEB delivery method), made when a request is sent.
"""

import uuid

from django.db import models

from tbproject.clock import now_ms
from tenants.choices import Authority
from tenants.models import Tenant, User

__all__ = ["NotificationTarget", "NotificationTemplate", "NotificationRule", "NotificationRequest", "Notification",
           "NotificationSettings", "RequestStatus", "NotificationStatus", "ApiUsageStatus"]


class OwnedQuerySet(models.QuerySet):
    def owned_by(self, user):
        """The rows of the user's owner, as the API shows them: a tenant administrator's tenant's,
        the system administrator's own (tenant-less) ones; nobody else's."""
        if user is None or not user.is_authenticated:
            return self.none()
        if user.authority == Authority.SYS_ADMIN:
            return self.filter(tenant__isnull=True)
        if user.authority == Authority.TENANT_ADMIN:
            return self.filter(tenant_id=user.tenant_id)
        return self.none()

    def for_user(self, user):
        """What the admin lists (tbproject.admin.scope): a system administrator sees every row."""
        if user is not None and user.is_authenticated and user.authority == Authority.SYS_ADMIN:
            return self
        return self.owned_by(user)


class Owned(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="+",
                               editable=False, help_text="Empty: the system administrator's")
    created_time = models.BigIntegerField(default=now_ms, editable=False)

    objects = OwnedQuerySet.as_manager()

    class Meta:
        abstract = True


class NotificationTarget(Owned):
    """Who a notification reaches: platform users (by a users filter), a Slack conversation or a
    Microsoft Teams channel. ``configuration`` is ThingsBoard's NotificationTargetConfig."""

    name = models.CharField(max_length=255)
    configuration = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_time"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="notification_target_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def target_type(self) -> str:
        return str((self.configuration or {}).get("type") or "")


class NotificationTemplate(Owned):
    """What a notification says per delivery method (``configuration.deliveryMethodsTemplates``)."""

    name = models.CharField(max_length=255)
    notification_type = models.CharField(max_length=64, default="GENERAL")
    configuration = models.JSONField(default=dict)

    class Meta:
        ordering = ["-created_time"]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="notification_template_name")]

    def __str__(self) -> str:
        return self.name

    def methods(self) -> list[str]:
        """The enabled delivery methods, in ThingsBoard's order."""
        from notifications.validation import enabled_methods

        return enabled_methods(self.configuration)


class NotificationRule(Owned):
    """Sends its template to its recipients when its trigger fires (notifications/rules.py)."""

    name = models.CharField(max_length=255)
    enabled = models.BooleanField(default=True)
    template = models.ForeignKey(NotificationTemplate, on_delete=models.PROTECT, related_name="rules")
    trigger_type = models.CharField(max_length=64)
    trigger_config = models.JSONField(default=dict)
    recipients_config = models.JSONField(default=dict)
    additional_config = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_time"]
        indexes = [models.Index(fields=["tenant", "trigger_type", "enabled"], name="notification_rule_trigger")]
        constraints = [models.UniqueConstraint(fields=["tenant", "name"], name="notification_rule_name")]

    def __str__(self) -> str:
        return self.name

    def target_ids(self) -> list[str]:
        """Every target id the recipients configuration names (escalation table or list)."""
        config = self.recipients_config or {}
        table = config.get("escalationTable")
        if isinstance(table, dict):
            return [t for ids in table.values() if isinstance(ids, list) for t in ids]
        return list(config.get("targets") or [])


class RequestStatus(models.TextChoices):
    PROCESSING = "PROCESSING"
    SENT = "SENT"
    SCHEDULED = "SCHEDULED"


class NotificationRequest(Owned):
    """One sending of a template to targets: by a user (``POST /api/notification/request``) or by a
    rule. ``template`` holds the template's JSON as it was sent (an inline one has no
    ``template_ref``); a SCHEDULED request is sent at ``send_at`` by the periodic job."""

    targets = models.JSONField(default=list)
    template_ref = models.ForeignKey(NotificationTemplate, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")
    template = models.JSONField(default=dict)
    info = models.JSONField(null=True, blank=True)
    additional_config = models.JSONField(null=True, blank=True)
    originator_type = models.CharField(max_length=32, blank=True)
    originator_id = models.UUIDField(null=True, blank=True)
    rule = models.ForeignKey(NotificationRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    #: what a rule's trigger knows, kept for a delayed (escalation) sending: template ``params`` and the
    #: recipients ``context`` (notifications/recipients.py)
    context = models.JSONField(null=True, blank=True, editable=False)
    sender = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    status = models.CharField(max_length=16, choices=RequestStatus.choices, default=RequestStatus.PROCESSING)
    stats = models.JSONField(null=True, blank=True)
    send_at = models.BigIntegerField(null=True, blank=True, help_text="When a SCHEDULED request is due (ms)")
    #: when a runner of the periodic job claimed it (PROCESSING): claimed again after sending.CLAIM_TIMEOUT_MS
    claimed_at = models.BigIntegerField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_time"]
        indexes = [models.Index(fields=["status", "send_at"], name="notification_request_due"),
                   models.Index(fields=["tenant", "rule", "created_time"], name="notification_request_list"),
                   models.Index(fields=["created_time"], name="notification_request_ttl")]

    def __str__(self) -> str:
        return f"{self.template.get('name') or 'request'} ({self.status})"


class NotificationStatus(models.TextChoices):
    SENT = "SENT"
    READ = "READ"


class Notification(models.Model):
    """One user's inbox entry (delivery method WEB)."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_time = models.BigIntegerField(default=now_ms, editable=False)
    request = models.ForeignKey(NotificationRequest, on_delete=models.CASCADE, related_name="notifications")
    recipient = models.ForeignKey(User, on_delete=models.CASCADE, related_name="+")
    type = models.CharField(max_length=64)
    delivery_method = models.CharField(max_length=16, default="WEB")
    subject = models.TextField(blank=True)
    text = models.TextField()
    additional_config = models.JSONField(null=True, blank=True)
    info = models.JSONField(null=True, blank=True)
    status = models.CharField(max_length=8, choices=NotificationStatus.choices, default=NotificationStatus.SENT)

    class Meta:
        ordering = ["-created_time"]
        indexes = [models.Index(fields=["recipient", "status", "created_time"], name="notification_inbox"),
                   models.Index(fields=["created_time"], name="notification_ttl")]

    def __str__(self) -> str:
        return self.subject or self.text[:40]


class NotificationSettings(models.Model):
    """A tenant's (or the system's: no tenant) delivery method settings: ThingsBoard's
    NotificationSettings ``deliveryMethodsConfigs`` (Slack's ``botToken`` is a secret)."""

    tenant = models.OneToOneField(Tenant, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    delivery_methods_configs = models.JSONField(default=dict)

    class Meta:
        verbose_name_plural = "notification settings"
        constraints = [models.UniqueConstraint(fields=["tenant"], name="notification_settings_owner")]

    def __str__(self) -> str:
        return f"notification settings of {self.tenant_id or 'the system'}"


class ApiUsageStatus(models.Model):
    """A tenant's last seen API usage state per feature (ENABLED, WARNING, DISABLED), so that an
    API_USAGE_LIMIT notification goes out once per change (notifications/usage_states.py)."""

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", editable=False)
    feature = models.CharField(max_length=16, editable=False)
    status = models.CharField(max_length=16, editable=False)
    updated_time = models.BigIntegerField(default=now_ms, editable=False)

    class Meta:
        verbose_name_plural = "API usage statuses"
        constraints = [models.UniqueConstraint(fields=["tenant", "feature"], name="api_usage_status_feature")]

    def __str__(self) -> str:
        return f"{self.feature}: {self.status}"
