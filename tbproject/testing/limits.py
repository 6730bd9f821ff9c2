"""Test helper: give a tenant a profile with rate limits."""

import uuid

from tenants.models import TenantProfile

__all__ = ["limit_tenant"]


def limit_tenant(tenant, **configuration) -> TenantProfile:
    """A fresh tenant profile with ``configuration`` (ThingsBoard keys), assigned to ``tenant``."""
    profile = TenantProfile.objects.create(name=f"limits-{uuid.uuid4().hex[:8]}",
                                           profile_data={"configuration": {"type": "DEFAULT", **configuration}})
    tenant.tenant_profile = profile
    tenant.save()
    return profile
