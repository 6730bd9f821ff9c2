"""Periodic jobs of the devices app; thin wrappers over the telemetry services."""

from celery import shared_task

from devices.telemetry import retention


@shared_task(name="devices.tasks.telemetry_retention", ignore_result=True)
def telemetry_retention() -> dict:
    """Create partitions ahead, then drop or delete expired telemetry."""
    return {"created": retention.create_partitions_ahead(), "removed": retention.enforce_ttl()}
