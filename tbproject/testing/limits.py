"""Test helper: give a tenant a profile with rate limits."""

import uuid

from tenants.models import TenantProfile

__all__ = ["limit_tenant", "default_tenant_profile", "forget_account_limits"]


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


def forget_account_limits() -> None:
    """Full budgets of the limits anyone reaches without a login (reset requests, tenants/limits/mail.py;
    failed logins, tenants/limits/login.py; provisioning and failed claims, tenants/limits/device_attempts.py;
    sign-ups, signup/services.py),
    in this process and, when the limiter's store is Redis (the REDIS_URL setting as it is now), in Redis
    too: those buckets outlive a run (an hour for reset requests), and the tests use the same addresses
    every run."""
    from signup import services as signup
    from tenants import limits
    from tenants.limits import device_attempts, login, mail
    from tenants.limits.store import RedisStore

    limits.reset()
    store = limits.get_limiter().store
    if not isinstance(store, RedisStore):
        return
    names = tuple(f"{store.prefix}{name}:".encode() for name in (
        mail.PER_ADDRESS, mail.PER_CLIENT, login.PER_CLIENT, device_attempts.PROVISION_PER_CLIENT,
        device_attempts.PROVISION_PER_KEY, device_attempts.CLAIM_FAILURES_PER_USER, signup.PER_CLIENT))
    try:
        stale = [key for key in store.client.scan_iter(f"{store.prefix}*", count=1000) if key.startswith(names)]
        if stale:
            store.client.delete(*stale)
    except Exception:  # Redis down: the limiter counts in this process, which reset() emptied
        pass
