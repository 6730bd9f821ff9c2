"""The tenant profile's calculated-field limits (ThingsBoard's DefaultTenantProfileConfiguration keys).

A key missing from the profile takes ThingsBoard's default; 0 means no limit, as in ThingsBoard.
Read at save time only (a query; never in the write path), through the tenants app's reading of the
profile (tenants/limits/profile.py).
"""

from dataclasses import dataclass

from tenants.limits.profile import configuration_of, count_value

__all__ = ["Limits", "limits_of", "DEFAULTS", "MAX_ROLLING_POINTS"]

#: ThingsBoard's defaults
DEFAULTS = {"maxCalculatedFieldsPerEntity": 5, "maxArgumentsPerCF": 10, "maxDataPointsPerRollingArg": 1000}
#: what a rolling argument may hold at most even when the profile sets no limit: mean(), max(), std() or
#: median() of this many points run within the default script limits (32 MiB; 70,000 did, 80,000 did not)
MAX_ROLLING_POINTS = 50_000


@dataclass(frozen=True, slots=True)
class Limits:
    fields_per_entity: int  # 0: no limit
    arguments_per_field: int  # 0: no limit
    points_per_rolling_argument: int


def _count(configuration: dict, key: str) -> int:
    """The profile's count ``key``: ThingsBoard's default when missing or not a count, 0 (no limit) when 0."""
    value = configuration.get(key)
    if value in (0, "0") and not isinstance(value, bool):
        return 0
    return count_value(value) or DEFAULTS[key]


def limits_of(tenant_id) -> Limits:
    configuration = configuration_of(tenant_id)
    points = _count(configuration, "maxDataPointsPerRollingArg")
    return Limits(_count(configuration, "maxCalculatedFieldsPerEntity"), _count(configuration, "maxArgumentsPerCF"),
                  min(points, MAX_ROLLING_POINTS) if points else MAX_ROLLING_POINTS)
