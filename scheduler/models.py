"""Scheduler events (ThingsBoard PE's Scheduler): at each time its ``schedule`` names, an event sends
one message to its tenant's root rule chain (scheduler/firing.py).

``type`` is free text as in ThingsBoard ("updateAttributes", "sendRpcRequest", "generateReport" or
the user's own); ``configuration`` holds the message: ``originatorId``, ``msgType``, ``msgBody`` and
``metadata``. The originator is also kept in two columns, checked to be the tenant's at save.
``next_fire_ms`` is the next time it fires (null: disabled or never again), indexed for the
periodic job; ``last_fire_ms`` and ``last_error`` say what the last firing did.
"""

from django.db import models

from tenants.models import Customer, TenantScopedModel

__all__ = ["SchedulerEvent"]


class SchedulerEvent(TenantScopedModel):
    """One scheduled message (ThingsBoard's SchedulerEvent), owned by the tenant or by one of its customers."""

    customer = models.ForeignKey(Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=255)
    type = models.CharField(max_length=255)
    originator_type = models.CharField(max_length=32, blank=True, default="")
    originator_id = models.UUIDField(null=True, blank=True)
    schedule = models.JSONField(default=dict)
    configuration = models.JSONField(default=dict, blank=True)
    enabled = models.BooleanField(default=True)
    next_fire_ms = models.BigIntegerField(null=True, blank=True, editable=False, help_text="ms since the epoch")
    last_fire_ms = models.BigIntegerField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, default="", editable=False)

    class Meta:
        ordering = ["name", "created_time"]
        indexes = [models.Index(fields=["next_fire_ms"], name="scheduler_event_next_fire"),
                   models.Index(fields=["tenant", "type"], name="scheduler_event_tenant_type")]

    def __str__(self) -> str:
        return self.name
