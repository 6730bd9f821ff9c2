"""REST API rate limits from the tenant profile (ThingsBoard's ``tenantServerRestLimitsConfiguration``
and ``customerServerRestLimitsConfiguration``): over either, DRF answers 429 with ``Retry-After``.

System administrators are not limited, as in ThingsBoard. Counted across processes when
REDIS_URL is set (tenants/limits/).
"""

from rest_framework.throttling import BaseThrottle

from tenants import limits
from tenants.choices import Authority

__all__ = ["TenantProfileThrottle"]


class TenantProfileThrottle(BaseThrottle):
    def allow_request(self, request, view) -> bool:
        user = request.user
        self._wait = None
        if user is None or not getattr(user, "is_authenticated", False) or user.authority == Authority.SYS_ADMIN:
            return True
        tenant_limits = limits.limits_of(user.tenant_id)
        if not tenant_limits.by_key:
            return True
        granted, wait_ms = limits.take_with(tenant_limits, limits.REST_TENANT, user.tenant_id)
        if granted and user.authority == Authority.CUSTOMER_USER:
            granted, wait_ms = limits.take_with(tenant_limits, limits.REST_CUSTOMER, user.customer_id)
        if not granted:
            self._wait = limits.retry_after(wait_ms)
        return bool(granted)

    def wait(self) -> float | None:
        return self._wait
