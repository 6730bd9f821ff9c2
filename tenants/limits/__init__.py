"""Per-tenant and per-integration rate limits in ThingsBoard's format (``"100:1,2000:60"``).

- spec.py: parsing the limit strings;
- store.py: token buckets in this process or in Redis (shared by all processes);
- limiter.py: the process's limiter, reserving tokens from the store in chunks;
- profile.py: which limits a tenant's profile sets, cached.
- entities.py: the profile's entity count and byte limits (maxAssets, maxResourcesInBytes...), enforced on save.

    from tenants import limits
    granted, wait_ms = limits.take(limits.UPLINKS_TENANT, tenant_id, tenant_id, 1)
"""

from django.dispatch import Signal

from tenants.limits.limiter import get_limiter, reset
from tenants.limits.profile import (
    CONVERTER_TENANT,
    DEBUG_TENANT,
    LIMIT_KEYS,
    REST_CUSTOMER,
    REST_TENANT,
    UPLINKS_INTEGRATION,
    UPLINKS_TENANT,
    TenantLimits,
    cached,
    forget,
    limits_of,
)
from tenants.limits.spec import Window, describe, parse, retry_after, validate

__all__ = ["take", "take_with", "retry_after", "get_limiter", "reset", "limits_of", "cached", "forget",
           "TenantLimits", "Window", "parse", "validate", "describe", "LIMIT_KEYS", "UPLINKS_TENANT",
           "UPLINKS_INTEGRATION", "REST_TENANT", "REST_CUSTOMER", "CONVERTER_TENANT", "DEBUG_TENANT", "refused"]

#: Sent (sender: TenantLimits) when a limit refused every token asked for: ``key`` (the profile key),
#: ``subject`` (the tenant, customer, integration or device id) and ``tenant_id``. notifications/
#: subscribes (RATE_LIMITS rules, at most once an hour per limit and subject).
refused = Signal()


def take_with(limits: TenantLimits, key: str, subject, n: int = 1, *, partial: bool = False) -> tuple[int, int]:
    """Take ``n`` tokens of limit ``key`` for ``subject`` (a tenant, integration or customer id)."""
    windows = limits.by_key.get(key)
    if not windows:
        return n, 0
    granted, wait_ms = get_limiter().take(f"{key}:{subject}", windows, n, partial=partial)
    if not granted and refused.receivers:
        refused.send(TenantLimits, key=key, subject=subject, tenant_id=limits.tenant_id)
    return granted, wait_ms


def take(key: str, tenant_id, subject, n: int = 1, *, partial: bool = False) -> tuple[int, int]:
    """:func:`take_with` the tenant's current limits (may read the database: not on an event loop)."""
    return take_with(limits_of(tenant_id), key, subject, n, partial=partial)
