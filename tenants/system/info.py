"""The system administrator's info pages: ``/api/admin/systemInfo`` (this process's machine, read from /proc
and statvfs), ``featuresInfo`` (what is configured), ``licenseUsageInfo`` (ThingsBoard PE's shape, this
server's real counts; no licence limits: ``maxDevices``/``maxAssets`` are 0, ThingsBoard's "unlimited")
and ``updates`` (never a network call: no update is announced).

The counted models live in higher layers: they register their counts in tenants/system/usage_counts.py from
their ``AppConfig.ready()`` (docs/architecture.md), and an app not installed counts 0.
"""

import os
import socket
import time
from importlib.metadata import PackageNotFoundError, version

from django.conf import settings

from tenants.system import mail, store, usage_counts

__all__ = ["system_info", "features_info", "license_usage_info", "updates", "VERSION", "cpu_times", "cpu_share",
           "memory", "disk"]



def _version() -> str:
    try:
        return version("tbproject")
    except PackageNotFoundError:
        return settings.SPECTACULAR_SETTINGS.get("VERSION", "0.1.0")


VERSION = _version()


def cpu_times() -> tuple[int, int] | None:
    """(all jiffies, idle + iowait jiffies) of the machine since boot: the first 8 fields of /proc/stat's cpu
    line (user nice system idle iowait irq softirq steal; guest and guest_nice are already counted in user and
    nice)."""
    try:
        with open("/proc/stat") as f:
            fields = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    if len(fields) < 4:
        return None
    return sum(fields), fields[3] + (fields[4] if len(fields) > 4 else 0)


def cpu_share(first, second) -> int | None:
    """Percent of CPU time busy between two :func:`cpu_times` samples, 0..100 (iowait may go back)."""
    if not first or not second or second[0] <= first[0]:
        return None
    total, idle = second[0] - first[0], second[1] - first[1]
    return min(100, max(0, round(100 * (total - idle) / total)))


def _cpu_usage(interval: float = 0.1) -> int | None:
    """Percent of the machine's CPU time busy over ``interval`` seconds."""
    first = cpu_times()
    time.sleep(interval)
    return cpu_share(first, cpu_times())


def memory() -> tuple[int | None, int | None]:
    """(percent used, total bytes) from /proc/meminfo."""
    info = {}
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                name, _, rest = line.partition(":")
                info[name] = int(rest.split()[0]) * 1024
    except (OSError, ValueError, IndexError):
        return None, None
    total, available = info.get("MemTotal"), info.get("MemAvailable")
    if not total or available is None:
        return None, total
    return round(100 * (total - available) / total), total


def disk() -> tuple[int | None, int | None]:
    """(percent used, total bytes) of the file system of DATA_DIR (else BASE_DIR)."""
    path = getattr(settings, "DATA_DIR", None) or settings.BASE_DIR
    try:
        st = os.statvfs(path)
    except OSError:
        return None, None
    total = st.f_blocks * st.f_frsize
    used = total - st.f_bfree * st.f_frsize
    return (round(100 * used / total) if total else None), total


def system_info() -> dict:
    memory_usage, total_memory = memory()
    disc_usage, total_disc = disk()
    return {"monolith": True, "systemData": [{
        "serviceId": socket.gethostname(), "serviceType": "MONOLITH", "cpuUsage": _cpu_usage(),
        "cpuCount": os.cpu_count(), "memoryUsage": memory_usage, "totalMemory": total_memory,
        "discUsage": disc_usage, "totalDiscSpace": total_disc}]}


def features_info() -> dict:
    return {"whiteLabelingEnabled": False, "emailEnabled": mail.configured(),
            "smsEnabled": store.read("sms") is not None, "notificationEnabled": False,
            "oauthEnabled": False, "twoFaEnabled": False}


def license_usage_info() -> dict:
    return {"maxDevices": 0, "maxAssets": 0, "whiteLabelingEnabled": False, "development": False,
            "plan": "UNLIMITED", **usage_counts.counts()}


def updates() -> dict:
    return {"updateAvailable": False, "currentVersion": VERSION, "latestVersion": VERSION,
            "upgradeInstructionsUrl": "", "currentVersionReleaseNotesUrl": "", "latestVersionReleaseNotesUrl": ""}
