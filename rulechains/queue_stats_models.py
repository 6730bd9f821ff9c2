"""ThingsBoard's ``queue_stats``: one row per (tenant, rule-engine queue, service) that ran the tenant's
messages, made by the worker the first time it runs that tenant's messages of that queue
(rulechains/queue_stats.py). A model of the rulechains app, in its own module."""

from django.db import models

from tenants.models import TenantScopedModel

__all__ = ["QueueStats"]


class QueueStats(TenantScopedModel):
    queue_name = models.CharField(max_length=255)
    service_id = models.CharField(max_length=255)

    customer_lookup = None

    class Meta:
        ordering = ["queue_name", "service_id"]
        verbose_name_plural = "queue stats"
        constraints = [models.UniqueConstraint(fields=["tenant", "queue_name", "service_id"],
                                               name="queue_stats_per_service")]

    def __str__(self) -> str:
        return f"{self.queue_name} @ {self.service_id}"
