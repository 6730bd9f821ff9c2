"""Telemetry rows a test leaves behind: ts_kv and ts_kv_latest are not Django models, so the flush of a
transactional test does not empty them; tests that commit telemetry remove it with these."""

from django.db import connection

__all__ = ["forget_telemetry", "forget_tenant_telemetry"]


def forget_telemetry(entity_ids) -> None:
    """Delete the telemetry of ``entity_ids`` (UUIDs) from both tables."""
    ids = list(entity_ids)
    if not ids:
        return
    with connection.cursor() as cur:
        for table in ("ts_kv", "ts_kv_latest"):
            if connection.vendor == "postgresql":
                cur.execute(f"DELETE FROM {table} WHERE entity_id = ANY(%s)", [ids])
            else:
                for pk in ids:
                    cur.execute(f"DELETE FROM {table} WHERE entity_id = %s", [pk.hex])


def forget_tenant_telemetry(tenant) -> None:
    """Delete the telemetry of every device of ``tenant``."""
    from devices.models import Device

    forget_telemetry(Device.objects.filter(tenant=tenant).values_list("pk", flat=True))
