"""What ``/api/admin/licenseUsageInfo`` counts (tenants/system/info.py): the counted models live in higher layers,
which register a counter here from their ``AppConfig.ready()``; a name nobody registered counts 0.

    usage_counts.register("devicesCount", lambda: Device.objects.count())     # devices/apps.py
"""

from collections.abc import Callable

__all__ = ["register", "counts", "NAMES"]

#: the counts of ThingsBoard's LicenseUsageInfo this server fills
NAMES = ("devicesCount", "assetsCount", "dashboardsCount", "integrationsCount")
_counters: dict[str, Callable[[], int]] = {}


def register(name: str, counter: Callable[[], int]) -> None:
    if name not in NAMES:
        raise ValueError(f"unknown usage count {name!r}: one of {', '.join(NAMES)}")
    _counters[name] = counter


def counts() -> dict[str, int]:
    return {name: (_counters[name]() if name in _counters else 0) for name in NAMES}
