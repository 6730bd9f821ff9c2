"""API_USAGE_LIMIT: a tenant's API usage state per feature, as ThingsBoard's ApiUsageState keeps it, checked
by the periodic job ``notifications.tasks.check_api_usage`` (every 5 minutes) and notified on change.

A feature's state this month (UTC; what tenants/usage.py counted from the first of the month) against its
tenant profile limit (0 or unset: no limit): DISABLED at or past the limit, WARNING at or past
``warnThreshold`` of it (ThingsBoard's tenant profile key, 0.8 when unset), else ENABLED. Features with a
count here: TRANSPORT (``maxTransportMessages`` against uplink messages, ``maxTransportDataPoints``
against stored data points), JS (``maxJSExecutions``) and TBEL (``maxTbelExecutions``). Nothing is
disabled here: the state is reported, not enforced.

The last state is kept per tenant and feature (ApiUsageStatus); a change (ENABLED is the state before any)
fires the system administrator's API_USAGE_LIMIT rules. Without such a rule the job makes no query.
"""

from datetime import UTC, datetime

from django.db import transaction
from django.db.models import Q, Sum

from notifications.models import ApiUsageStatus
from notifications.triggers import TriggerEvent, notify, wanted
from tbproject.clock import now_ms
from tenants import usage
from tenants.models import Tenant, TenantProfile, TenantUsage

__all__ = ["FEATURES", "state_of", "check"]

#: feature -> (its label, unit label, [(profile key, usage counter)])
FEATURES = {
    "TRANSPORT": ("Device API", "message", [("maxTransportMessages", "messages"),
                                            ("maxTransportDataPoints", "data_points")]),
    "JS": ("JavaScript functions execution", "JavaScript execution", [("maxJSExecutions", "js_executions")]),
    "TBEL": ("TBEL functions execution", "TBEL execution", [("maxTbelExecutions", "tbel_executions")]),
}


def _number(value) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else 0.0


def state_of(config: dict, used: dict, feature: str) -> tuple[str, int, int]:
    """(status, current value, limit) of ``feature``: the worst of its limits."""
    warn = _number(config.get("warnThreshold")) or 0.8
    worst = ("ENABLED", 0, 0)
    rank = {"ENABLED": 0, "WARNING": 1, "DISABLED": 2}
    for key, counter in FEATURES[feature][2]:
        limit = int(_number(config.get(key)))
        if not limit:
            continue
        value = int(used.get(counter, 0))
        status = "DISABLED" if value >= limit else "WARNING" if value >= warn * limit else "ENABLED"
        if rank[status] > rank[worst[0]] or not worst[2]:
            worst = (status, value, limit)
    return worst


def _month_start(now: int) -> int:
    day = datetime.fromtimestamp(now / 1000, UTC)
    return int(day.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)


def _configs() -> tuple[dict, dict]:
    """(profile id -> its configuration, the default profile's), each profile read once."""
    configs, default = {}, {}
    for pk, data, is_default in TenantProfile.objects.values_list("pk", "profile_data", "is_default"):
        configs[pk] = ((data if isinstance(data, dict) else {}).get("configuration")) or {}
        if is_default:
            default = configs[pk]
    return configs, default


def _month_usage(start_ts: int) -> dict:
    """Tenant id -> its counters summed since ``start_ts``: one grouped query over all tenants."""
    rows = (TenantUsage.objects.filter(period_ts__gte=usage.period_start(start_ts)).values("tenant_id")
            .annotate(**{c: Sum(c) for c in usage.COUNTERS}))
    return {row["tenant_id"]: {c: int(row[c] or 0) for c in usage.COUNTERS} for row in rows}


def check(now: int | None = None) -> int:
    """Record each limited tenant's states; returns how many changed (and were notified). A fixed number
    of reads whatever the number of tenants: the tenants, the profiles, the stored states, the month's usage."""
    if not wanted("API_USAGE_LIMIT", None):
        return 0
    now = now_ms() if now is None else now
    configs, default = _configs()
    known: dict = {}
    for tenant_id, feature, status in ApiUsageStatus.objects.values_list("tenant_id", "feature", "status"):
        known.setdefault(tenant_id, {})[feature] = status
    keys = [key for feature in FEATURES.values() for key, _ in feature[2]]
    used_by: dict | None = None
    new, changed_rows, events = [], [], []
    for tenant_id, title, profile_id in Tenant.objects.values_list("pk", "title", "tenant_profile_id").iterator():
        config = configs.get(profile_id, default) if profile_id else default
        if tenant_id not in known and not any(_number(config.get(k)) for k in keys):
            continue
        if used_by is None:
            used_by = _month_usage(_month_start(now))
        used = used_by.get(tenant_id, {})
        for feature, (label, unit, _) in FEATURES.items():
            status, value, limit = state_of(config, used, feature)
            before = known.get(tenant_id, {}).get(feature)
            if status == (before or "ENABLED"):
                continue
            row = ApiUsageStatus(tenant_id=tenant_id, feature=feature, status=status, updated_time=now)
            (new if before is None else changed_rows).append(row)
            params = {"feature": label, "status": status.lower(), "unitLabel": unit, "limit": limit,
                      "currentValue": value, "tenantId": str(tenant_id), "tenantName": title}
            events.append(TriggerEvent("API_USAGE_LIMIT", tenant_id, params,
                                       {**params, "feature": feature, "status": status},
                                       originator=("TENANT", tenant_id), facts={"feature": feature, "status": status}))
    with transaction.atomic():
        ApiUsageStatus.objects.bulk_create(new, batch_size=500, update_conflicts=True,
                                           unique_fields=["tenant", "feature"],
                                           update_fields=["status", "updated_time"])
        for status in {row.status for row in changed_rows}:  # one UPDATE per status
            rows = [r for r in changed_rows if r.status == status]
            for start in range(0, len(rows), 200):
                batch = Q()
                for r in rows[start:start + 200]:
                    batch |= Q(tenant_id=r.tenant_id, feature=r.feature)
                ApiUsageStatus.objects.filter(batch).update(status=status, updated_time=now)
        for event in events:
            notify(event)
    return len(events)
