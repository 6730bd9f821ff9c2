"""Calculated fields (ThingsBoard 4.0) and their debug events."""

import uuid

from django.db import models

from calculated.choices import FieldEntityType, FieldKind, JobStatus, JobType
from tbproject.clock import now_ms
from tenants.models import Tenant, TenantScopedModel, TenantScopedQuerySet

__all__ = ["CalculatedField", "CalculatedFieldEvent", "Job"]


class CalculatedField(TenantScopedModel):
    """A value computed from an entity's telemetry and attributes whenever an argument changes.

    ``entity_type``/``entity_id`` name a device or asset of the tenant, or a device/asset profile
    (then the field applies to every entity of that profile). ``configuration`` is ThingsBoard's
    CalculatedFieldConfiguration JSON, stored whole (calculated/config.py validates what is acted
    on: arguments, expression, output). Debug settings follow converters' policy
    (converters.events.should_record).
    """

    entity_type = models.CharField(max_length=16, choices=FieldEntityType.choices)
    entity_id = models.UUIDField()
    kind = models.CharField(max_length=16, choices=FieldKind.choices)
    name = models.CharField(max_length=255)
    configuration = models.JSONField(default=dict)
    configuration_version = models.IntegerField(default=1)
    debug_failures_enabled = models.BooleanField(default=False)
    debug_all_enabled_until = models.BigIntegerField(default=0)

    customer_lookup = None  # tenant administrators' configuration: customer users see none

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["tenant", "entity_id"], name="calculated_field_entity")]

    def __str__(self) -> str:
        return self.name


class CalculatedFieldEvent(models.Model):
    """One computation of a field for one entity (ThingsBoard's DEBUG_CALCULATED_FIELD event).

    ``body``: ``entityId``, ``entityType``, ``arguments`` and ``result`` (JSON text), ``error``,
    ``server``, as ThingsBoard's CalculatedFieldDebugEvent carries them. Removed with the field.
    ``entity_type``/``entity_id``/``event_type``/``server`` are the columns of converters'
    DebugEvent, so that ThingsBoard's events API (converters/api/events.py) reads these rows too.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", editable=False)
    field = models.ForeignKey(CalculatedField, on_delete=models.CASCADE, related_name="events")
    entity_type = models.CharField(max_length=16, default="CALCULATED_FIELD", editable=False)
    entity_id = models.UUIDField(editable=False)  # the field's id
    event_type = models.CharField(max_length=32, default="DEBUG_CALCULATED_FIELD", editable=False)
    created_time = models.BigIntegerField(default=now_ms)
    server = models.CharField(max_length=255, blank=True)
    is_error = models.BooleanField(default=False)
    body = models.JSONField(default=dict)

    customer_lookup = None
    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-created_time"]
        indexes = [models.Index(fields=["field", "-created_time"], name="calculated_event_field_time"),
                   models.Index(fields=["entity_id", "event_type", "-created_time"], name="calculated_event_entity")]

    def __str__(self) -> str:
        return f"{self.field_id} @ {self.created_time}"

    def save(self, *args, **kwargs):
        if self.entity_id is None:
            self.entity_id = self.field_id
        super().save(*args, **kwargs)


class Job(TenantScopedModel):
    """A background job (ThingsBoard 4.1's Job): here the reprocessing of a calculated field.

    ``key`` is what at most one active job holds (the field's id); ``entity_id``/``entity_name`` the
    field's. ``configuration`` and ``result`` are ThingsBoard's CfReprocessingJobConfiguration and
    CfReprocessingJobResult JSON (calculated/jobs.py builds them); ``status`` moves QUEUED ->
    RUNNING -> COMPLETED or FAILED, or to CANCELLED when cancelled (the task stops at the next entity).
    """

    kind = models.CharField(max_length=32, choices=JobType.choices, default=JobType.CF_REPROCESSING)
    key = models.CharField(max_length=255)
    entity_type = models.CharField(max_length=32, default="CALCULATED_FIELD")
    entity_id = models.UUIDField()
    entity_name = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=JobStatus.choices, default=JobStatus.QUEUED)
    configuration = models.JSONField(default=dict)
    result = models.JSONField(default=dict)

    customer_lookup = None

    class Meta:
        ordering = ["-created_time"]
        indexes = [models.Index(fields=["tenant", "key", "-created_time"], name="calculated_job_key")]

    def __str__(self) -> str:
        return f"{self.kind} {self.entity_name or self.key} ({self.status})"
