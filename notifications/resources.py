"""RESOURCES_SHORTAGE: this host's CPU, RAM and storage usage, checked by the periodic job
``notifications.tasks.check_resources`` (every minute, as often as ThingsBoard saves its system info) against
the system administrator's rules' ``cpuThreshold``, ``ramThreshold`` and ``storageThreshold`` (0..1, tb-pe-client's
ResourcesShortageNotificationRuleTriggerConfig; 0.8 when unset).

ThingsBoard fires the trigger on every check at or above a threshold and deduplicates it for an hour per
resource; here a rule fires once per crossing: when a resource's usage goes from below the rule's threshold to
at or above it. The previous reading is kept in the cache, per host; a usage that falls back below and rises
again fires again, and a cleared cache tells a shortage still going on once more. A reading that failed (None)
keeps the previous one, so that the next reading is no new crossing. The rules' thresholds are read (one query)
only in a check where a usage rose, and an event is queued only for a threshold crossed.

Readings (psutil is not a dependency; tenants/system/info.py's, as /api/admin/systemInfo reads them): CPU from
/proc/stat, the share of busy time since the previous sample (the first check has no CPU reading; a check less
than CPU_MIN_INTERVAL seconds after the sample reads no CPU share and keeps the sample for the next one); RAM
from /proc/meminfo (MemTotal - MemAvailable); storage from statvfs of DATA_DIR (else BASE_DIR). The host is the
one the job runs on: the embedded server's, or the Celery worker's that took the job; one run at a time per host
(a cache.add lock), and beat's message expires after a minute (tbproject/periodic.py) so that a backlog does not
run it in bursts. Without a RESOURCES_SHORTAGE rule the job reads nothing and forgets what it kept (one cache
delete, no query).
"""

import socket
import time

from django.core.cache import cache

from notifications.models import NotificationRule
from notifications.triggers import MATCHERS, TriggerEvent, notify, wanted
from tenants.system import info

__all__ = ["RESOURCES", "read", "check"]

RESOURCES = ("CPU", "RAM", "STORAGE")
SERVICE_TYPE = "MONOLITH"  # as /api/admin/systemInfo names this server
CPU_MIN_INTERVAL = 10  # seconds: a CPU share over a shorter window is noise
LOCK_SECONDS = 60


def read(previous_cpu) -> tuple[dict, tuple | None]:
    """({resource: percent used, None when unknown}, this check's CPU sample for the next one)."""
    sample = info.cpu_times()
    return {"CPU": info.cpu_share(previous_cpu, sample), "RAM": info.memory()[0], "STORAGE": info.disk()[0]}, sample


def check() -> int:
    """Read this host's usage and queue a RESOURCES_SHORTAGE event for each resource whose usage crossed a
    rule's threshold since the previous check; returns how many."""
    host = socket.gethostname()
    key = f"notifications:resources:{host}"
    if not wanted("RESOURCES_SHORTAGE", None):
        cache.delete(key)
        return 0
    lock = f"{key}:lock"
    if not cache.add(lock, 1, LOCK_SECONDS):  # another run on this host is going on
        return 0
    try:
        return _check(host, key)
    finally:
        cache.delete(lock)


def _check(host: str, key: str) -> int:
    kept = cache.get(key) or {}
    now, at, sample = time.time(), kept.get("at"), kept.get("cpu")
    if sample and at is not None and 0 <= now - at < CPU_MIN_INTERVAL:
        usage, _ = read(None)  # too soon for a CPU share: the kept sample serves the next check
    else:
        usage, sample = read(sample)
        at = now
    before = kept.get("usage") or {}
    risen = [r for r in RESOURCES if usage.get(r) is not None and usage[r] > before.get(r, 0)]
    cache.set(key, {"cpu": list(sample) if sample else None, "at": at if sample else None,
                    "usage": {**before, **{r: v for r, v in usage.items() if v is not None}}}, None)
    if not risen:
        return 0
    configs = list(NotificationRule.objects.filter(enabled=True, tenant__isnull=True,
                                                   trigger_type="RESOURCES_SHORTAGE")
                   .values_list("trigger_config", flat=True))
    fired = 0
    for resource in risen:
        facts = {"resource": resource, "usage": usage[resource], "before": before.get(resource, 0)}
        if not any(MATCHERS["RESOURCES_SHORTAGE"](config or {}, facts) for config in configs):
            continue
        fired += 1
        params = {"resource": resource, "usage": usage[resource], "serviceId": host, "serviceType": SERVICE_TYPE}
        notify(TriggerEvent("RESOURCES_SHORTAGE", None, params, dict(params), facts=facts))
    return fired
