"""ThingsBoard's AuditLog: one row per configuration change, customer assignment, alarm action,
login or logout, tenant-scoped, never edited."""

import uuid

from django.db import models

from tbproject.clock import now_ms
from tenants.models import Tenant, TenantScopedQuerySet

__all__ = ["AuditLog", "ActionType", "ActionStatus"]


class ActionType(models.TextChoices):
    ADDED = "ADDED"
    UPDATED = "UPDATED"
    DELETED = "DELETED"
    ASSIGNED_TO_CUSTOMER = "ASSIGNED_TO_CUSTOMER"
    UNASSIGNED_FROM_CUSTOMER = "UNASSIGNED_FROM_CUSTOMER"
    ASSIGNED_TO_TENANT = "ASSIGNED_TO_TENANT"
    LOGIN = "LOGIN"
    LOGOUT = "LOGOUT"
    CREDENTIALS_UPDATED = "CREDENTIALS_UPDATED"
    ALARM_ACK = "ALARM_ACK"
    ALARM_CLEAR = "ALARM_CLEAR"
    ALARM_DELETE = "ALARM_DELETE"
    ALARM_ASSIGNED = "ALARM_ASSIGNED"
    ALARM_UNASSIGNED = "ALARM_UNASSIGNED"
    ADDED_COMMENT = "ADDED_COMMENT"
    UPDATED_COMMENT = "UPDATED_COMMENT"
    DELETED_COMMENT = "DELETED_COMMENT"


class ActionStatus(models.TextChoices):
    SUCCESS = "SUCCESS"
    FAILURE = "FAILURE"


class AuditLog(models.Model):
    """Who (``user_id``/``user_name``, kept as text: the log outlives the user) did what
    (``action_type``) to which entity, and ``action_data``: ThingsBoard's ``{"entity": ...}``
    (ADDED, UPDATED) or ``{"entityId": ...}`` (DELETED), plus ours: ``diff``, a list of
    ``{"path", "old", "new"}`` with secrets masked."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", editable=False)
    customer_id = models.UUIDField(null=True, blank=True)
    created_time = models.BigIntegerField(default=now_ms, db_index=True)
    entity_type = models.CharField(max_length=32)
    entity_id = models.UUIDField()
    entity_name = models.CharField(max_length=255, blank=True)
    user_id = models.UUIDField(null=True, blank=True)
    user_name = models.CharField(max_length=255, blank=True)
    action_type = models.CharField(max_length=32, choices=ActionType.choices)
    action_data = models.JSONField(default=dict, blank=True)
    action_status = models.CharField(max_length=16, choices=ActionStatus.choices, default=ActionStatus.SUCCESS)
    action_failure_details = models.TextField(blank=True)

    customer_lookup = None  # tenant administrators read the audit log; customer users see none
    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_time"]
        indexes = [models.Index(fields=["tenant", "created_time"], name="audit_tenant_time"),
                   models.Index(fields=["tenant", "entity_id"], name="audit_tenant_entity"),
                   models.Index(fields=["tenant", "user_id"], name="audit_tenant_user")]

    def __str__(self) -> str:
        return f"{self.user_name or 'system'} {self.action_type} {self.entity_type} {self.entity_name}"
