"""Usage of a tenant: ThingsBoard's ``GET /api/usage`` (UsageInfo) and the hourly series behind it.

    GET /api/usage                                   UsageInfo of the caller's tenant (this month)
    GET /api/usage/hourly?startTs&endTs[&tenantId]   hourly counts as ThingsBoard time series:
        {"transportMsgCountHourly": [{"ts": ms, "value": n}, ...], "storageDataPointsCountHourly": ...,
         "jsExecutionCountHourly": ..., "tbelExecutionCountHourly": ..., "debugEventsCountHourly": ...}

Tenant admins read their own tenant (a ``tenantId`` of another tenant answers 404); the system
administrator names the tenant with ``tenantId``. Customer users get 403, as in ThingsBoard.
The counts come from tenants/usage.py, the entities' from the apps that register them with
tenants/limits/entities.py (the same counts the profile's max* limits are checked against).
"""

from datetime import UTC, datetime

from django.core.exceptions import ValidationError as BadValue
from django.http import Http404
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from tbproject.api.permissions import IsAdministrator
from tbproject.clock import now_ms
from tenants import usage
from tenants.choices import Authority
from tenants.limits import entities
from tenants.limits.profile import count_value
from tenants.models import Tenant

__all__ = ["UsageInfoView", "HourlyUsageView", "MAX_HOURS"]

MAX_HOURS = 24 * 366


def _tenant(request) -> Tenant:
    user, wanted = request.user, request.query_params.get("tenantId") or None
    if user.authority == Authority.SYS_ADMIN:
        if wanted is None:
            raise ValidationError("Required request parameter 'tenantId' is not present")
        tenant_id = wanted
    else:
        if wanted is not None and wanted != str(user.tenant_id):
            raise Http404("Requested tenant wasn't found!")
        tenant_id = user.tenant_id
    try:
        return Tenant.objects.select_related("tenant_profile").get(pk=tenant_id)
    except (Tenant.DoesNotExist, ValueError, BadValue):
        raise Http404("Requested tenant wasn't found!") from None


def _int_param(params, name: str, default: int) -> int:
    raw = params.get(name)
    if raw in (None, ""):
        return default
    try:
        return int(raw)
    except ValueError:
        raise ValidationError(f"Parameter '{name}' must be a number of milliseconds, got '{raw:.32}'") from None


def _configuration(tenant: Tenant) -> dict:
    profile = tenant.tenant_profile
    if profile is None:
        from tenants.models import TenantProfile

        profile = TenantProfile.objects.filter(is_default=True).first()
    return profile.configuration if profile is not None else {}


def _month_start(now: int) -> int:
    day = datetime.fromtimestamp(now / 1000, UTC)
    return int(day.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)


class UsageInfoView(APIView):
    """ThingsBoard's UsageInfo: entity counts (the ones the tenant profile's max* limit, tenants/limits/
    entities.py), and this month's messages and script runs, beside the profile's ``max*`` (0: unlimited).
    Emails, SMS, alarms and edges are not counted here: 0."""

    permission_classes = [IsAdministrator]

    def get(self, request):
        tenant = _tenant(request)
        config = _configuration(tenant)
        used = usage.totals(tenant.pk, _month_start(now_ms()))

        def limit(key: str) -> int:
            return count_value(config.get(key))

        def used_of(entity_type: str) -> int:
            return entities.count(tenant.pk, entity_type)

        return Response({
            "devices": used_of("DEVICE"), "maxDevices": limit("maxDevices"),
            "assets": used_of("ASSET"), "maxAssets": limit("maxAssets"),
            "customers": used_of("CUSTOMER"), "maxCustomers": limit("maxCustomers"),
            "users": used_of("USER"), "maxUsers": limit("maxUsers"),
            "dashboards": used_of("DASHBOARD"), "maxDashboards": limit("maxDashboards"),
            "edges": 0, "maxEdges": limit("maxEdges"),
            "transportMessages": used["messages"], "maxTransportMessages": limit("maxTransportMessages"),
            "jsExecutions": used["js_executions"], "tbelExecutions": used["tbel_executions"],
            "maxJsExecutions": limit("maxJSExecutions"), "maxTbelExecutions": limit("maxTbelExecutions"),
            "emails": 0, "maxEmails": limit("maxEmails"), "sms": 0, "maxSms": limit("maxSms"),
            "smsEnabled": bool(config.get("smsEnabled", False)), "alarms": 0, "maxAlarms": limit("maxCreatedAlarms"),
        })


class HourlyUsageView(APIView):
    """Every hour in [startTs, endTs) (default: the last 24), zeros included, oldest first."""

    permission_classes = [IsAdministrator]

    def get(self, request):
        tenant = _tenant(request)
        now = now_ms()
        end = _int_param(request.query_params, "endTs", usage.period_start(now) + usage.HOUR_MS)
        start = _int_param(request.query_params, "startTs", end - 24 * usage.HOUR_MS)
        if end <= start:
            raise ValidationError("endTs must be later than startTs")
        start = usage.period_start(start)
        if (end - start) // usage.HOUR_MS > MAX_HOURS:
            raise ValidationError(f"At most {MAX_HOURS} hours can be read at once")
        rows = {row["ts"]: row for row in usage.hourly(tenant.pk, start, end)}
        hours = range(start, end, usage.HOUR_MS)
        empty = dict.fromkeys(usage.COUNTERS, 0)
        return Response({
            f"{key}Hourly": [{"ts": ts, "value": rows.get(ts, empty)[counter]} for ts in hours]
            for counter, key in usage.KEYS.items()
        })
