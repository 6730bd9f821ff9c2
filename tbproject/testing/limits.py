"""Test helper: give a tenant a profile with rate limits."""

import uuid

from tenants.models import TenantProfile

__all__ = ["limit_tenant", "default_tenant_profile"]


def limit_tenant(tenant, **configuration) -> TenantProfile:
    """A fresh tenant profile with ``configuration`` (ThingsBoard keys), assigned to ``tenant``."""
    profile = TenantProfile.objects.create(name=f"limits-{uuid.uuid4().hex[:8]}",
                                           profile_data={"configuration": {"type": "DEFAULT", **configuration}})
    tenant.tenant_profile = profile
    tenant.save()
    return profile


def default_tenant_profile() -> TenantProfile:
    """The default profile the migration creates (made again after a transactional test's flush)."""
    profile, _ = TenantProfile.objects.get_or_create(is_default=True, defaults={"name": "Default"})
    return profile
