"""Beyond ThingsBoard: a converter's version history, its stored tests and its hourly health.

- :class:`ConverterVersion`: one row per saved change of a converter's script or configuration
  (``Converter.version_number`` is the newest ``number``), written by ``Converter.save`` in the
  same transaction; ``author`` is the user who saved it when the caller says so
  (``converter.changed_by``). Integrations may pin one (integrations.Integration).
- :class:`ConverterTest`: a sample input with metadata and the expected output, run on every
  save (converters/stored_tests.py); ``last_*`` hold the newest run's result.
- :class:`ConverterHealth`: executions, errors and a fixed-bucket execution-time histogram per
  converter per hour, added to once per engine batch (converters/health.py), never per message.
"""

import uuid

from django.conf import settings
from django.db import models

from tbproject.clock import now_ms
from tenants.models import Tenant, TenantScopedQuerySet

__all__ = ["ConverterVersion", "ConverterTest", "ConverterHealth", "HEALTH_BUCKETS_MS"]


class ConverterVersion(models.Model):
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", editable=False)
    converter = models.ForeignKey("converters.Converter", on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    created_time = models.BigIntegerField(default=now_ms)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True,
                               related_name="+")
    author_name = models.CharField(max_length=255, blank=True, help_text="kept when the user is deleted")
    type = models.CharField(max_length=16)
    integration_type = models.CharField(max_length=32, null=True, blank=True)  # noqa: DJ001 (as Converter)
    converter_version = models.PositiveSmallIntegerField(default=1)
    configuration = models.JSONField(default=dict)
    rolled_back_from = models.PositiveIntegerField(null=True, blank=True)

    customer_lookup = None  # the tenant's; customer users see none
    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["converter", "number"], name="converter_version_number")]

    def __str__(self) -> str:
        return f"{self.converter_id} v{self.number}"


class ConverterTest(models.Model):
    """Uplink: ``payload`` + ``metadata`` -> ``expected`` (decoder output or typed converter
    output; null = "runs and its output is valid"). Downlink: ``payload`` is the rule-engine
    message (JSON text), with ``msg_type`` and ``integration_metadata``; ``expected`` is
    ``{contentType, data, metadata}``."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="+", editable=False)
    converter = models.ForeignKey("converters.Converter", on_delete=models.CASCADE, related_name="stored_tests")
    name = models.CharField(max_length=255)
    created_time = models.BigIntegerField(default=now_ms)
    payload = models.BinaryField()
    metadata = models.JSONField(default=dict, blank=True)
    msg_type = models.CharField(max_length=64, blank=True)
    integration_metadata = models.JSONField(default=dict, blank=True)
    expected = models.JSONField(null=True, blank=True)
    last_passed = models.BooleanField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    last_differences = models.JSONField(default=list, blank=True)
    last_run_ts = models.BigIntegerField(null=True, blank=True)
    last_version = models.PositiveIntegerField(null=True, blank=True)

    customer_lookup = None
    objects = TenantScopedQuerySet.as_manager()

    class Meta:
        ordering = ["created_time", "name"]
        constraints = [models.UniqueConstraint(fields=["converter", "name"], name="converter_test_name")]

    def __str__(self) -> str:
        return self.name


#: upper bounds (ms) of the execution-time histogram buckets; the last bucket is "longer"
HEALTH_BUCKETS_MS = (0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000)


class ConverterHealth(models.Model):
    converter = models.ForeignKey("converters.Converter", on_delete=models.CASCADE, related_name="+")
    period_ts = models.BigIntegerField(help_text="start of the hour, ms")
    executions = models.BigIntegerField(default=0)
    errors = models.BigIntegerField(default=0)
    total_us = models.BigIntegerField(default=0)

    class Meta:
        verbose_name_plural = "converter health"
        constraints = [models.UniqueConstraint(fields=["converter", "period_ts"], name="converter_health_period")]

    def __str__(self) -> str:
        return f"{self.converter_id} @ {self.period_ts}: {self.executions}/{self.errors}"

    @property
    def histogram(self) -> list[int]:
        return [getattr(self, f"b{i}") for i in range(len(HEALTH_BUCKETS_MS) + 1)]


for _i in range(len(HEALTH_BUCKETS_MS) + 1):
    ConverterHealth.add_to_class(f"b{_i}", models.BigIntegerField(default=0))
