"""Periodic jobs of the devices app; thin wrappers over the telemetry services."""

from celery import shared_task

from devices.telemetry import retention, series_ttl
from tbproject.clock import now_ms


@shared_task(name="devices.tasks.telemetry_retention", ignore_result=True)
def telemetry_retention() -> dict:
    """Create partitions ahead, then drop or delete expired telemetry (global and per-series TTLs)."""
    return {"created": retention.create_partitions_ahead(), "removed": retention.enforce_ttl(),
            "series": series_ttl.enforce(now_ms())}
