"""Which rate limits apply to a tenant: its tenant profile's configuration, cached per process.

The keys are ThingsBoard's DefaultTenantProfileConfiguration names where ThingsBoard has one
(``integrationMsgsPerTenantRateLimit`` for integration uplinks, ``tenantServerRestLimitsConfiguration``
and ``customerServerRestLimitsConfiguration`` for the REST API, ``transport*RateLimit`` for the device
API); the rest follow their pattern.
A key missing or empty in the profile means no limit, except where a setting gives a default
(``debugEventsPerTenantRateLimit``: ThingsBoard's DEBUG_MODE_RATE_LIMITS_PER_TENANT, 50000:3600).

A profile change reaches every process within ``TTL_SECONDS`` (this process: at once).
"""

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from tbproject.process_cache import ProcessCache
from tenants.limits.spec import Window, parse
from tenants.models import Tenant, TenantProfile

__all__ = ["LIMIT_KEYS", "UPLINKS_TENANT", "UPLINKS_INTEGRATION", "REST_TENANT", "REST_CUSTOMER",
           "CONVERTER_TENANT", "DEBUG_TENANT", "TRANSPORT_TENANT_MSG", "TRANSPORT_TENANT_TELEMETRY_MSG",
           "TRANSPORT_TENANT_DATA_POINTS", "TRANSPORT_DEVICE_MSG", "TRANSPORT_DEVICE_TELEMETRY_MSG",
           "TRANSPORT_DEVICE_DATA_POINTS", "TenantLimits", "limits_of", "forget", "TTL_SECONDS", "COUNT_KEYS",
           "ENTITY_KEYS", "SIZE_KEYS",
           "max_entities", "configuration_of", "count_value"]

TTL_SECONDS = 5.0

UPLINKS_TENANT = "integrationMsgsPerTenantRateLimit"  # ThingsBoard PE's name
UPLINKS_INTEGRATION = "integrationMsgsPerIntegrationRateLimit"
REST_TENANT = "tenantServerRestLimitsConfiguration"  # ThingsBoard's name
REST_CUSTOMER = "customerServerRestLimitsConfiguration"  # ThingsBoard's name
CONVERTER_TENANT = "converterExecutionsPerTenantRateLimit"
DEBUG_TENANT = "debugEventsPerTenantRateLimit"
# the device transports' limits (ThingsBoard's names): every message; telemetry messages; their values
TRANSPORT_TENANT_MSG = "transportTenantMsgRateLimit"
TRANSPORT_TENANT_TELEMETRY_MSG = "transportTenantTelemetryMsgRateLimit"
TRANSPORT_TENANT_DATA_POINTS = "transportTenantTelemetryDataPointsRateLimit"
TRANSPORT_DEVICE_MSG = "transportDeviceMsgRateLimit"
TRANSPORT_DEVICE_TELEMETRY_MSG = "transportDeviceTelemetryMsgRateLimit"
TRANSPORT_DEVICE_DATA_POINTS = "transportDeviceTelemetryDataPointsRateLimit"

#: profile key -> what it limits (shown in the admin and in errors)
LIMIT_KEYS = {
    UPLINKS_TENANT: "uplink messages of all integrations of the tenant",
    UPLINKS_INTEGRATION: "uplink messages of each integration",
    REST_TENANT: "REST API requests of the tenant's users",
    REST_CUSTOMER: "REST API requests of each customer's users",
    CONVERTER_TENANT: "uplink converter executions of the tenant",
    DEBUG_TENANT: "debug events the tenant's integrations and converters record",
    TRANSPORT_TENANT_MSG: "device API messages of all the tenant's devices",
    TRANSPORT_TENANT_TELEMETRY_MSG: "device API telemetry messages of all the tenant's devices",
    TRANSPORT_TENANT_DATA_POINTS: "telemetry values the tenant's devices post through the device API",
    TRANSPORT_DEVICE_MSG: "device API messages of each device",
    TRANSPORT_DEVICE_TELEMETRY_MSG: "device API telemetry messages of each device",
    TRANSPORT_DEVICE_DATA_POINTS: "telemetry values each device posts through the device API",
}
#: entity type -> its count limit (ThingsBoard's DefaultTenantProfileConfiguration.getEntitiesLimit, PE's
#: integrations, converters and scheduler events included; no edges here): tenants/limits/entities.py
ENTITY_KEYS = {"DEVICE": "maxDevices", "ASSET": "maxAssets", "CUSTOMER": "maxCustomers", "USER": "maxUsers",
               "DASHBOARD": "maxDashboards", "RULE_CHAIN": "maxRuleChains", "INTEGRATION": "maxIntegrations",
               "CONVERTER": "maxConverters", "SCHEDULER_EVENT": "maxSchedulerEvents"}
#: byte limits: all the tenant's resources, one resource, all its OTA packages' data
SIZE_KEYS = ("maxResourcesInBytes", "maxResourceSize", "maxOtaPackagesInBytes")
#: entity count and size limits (ThingsBoard's names), not rates: tenants/limits/entities.py enforces them
COUNT_KEYS = (*ENTITY_KEYS.values(), *SIZE_KEYS)


def _defaults() -> dict[str, str]:
    return {DEBUG_TENANT: settings.DEBUG_EVENTS_TENANT_RATE_LIMIT}


@dataclass(frozen=True, slots=True)
class TenantLimits:
    """The parsed limits of one tenant: ``windows(key)`` is () when the key sets no limit."""

    tenant_id: str
    by_key: dict
    counts: dict = field(default_factory=dict)  # COUNT_KEYS set to a positive count

    @property
    def limits_uplinks(self) -> bool:
        """Whether an uplink limit is set (the ingress skips the limiter otherwise)."""
        return UPLINKS_TENANT in self.by_key or UPLINKS_INTEGRATION in self.by_key

    def windows(self, key: str) -> tuple[Window, ...]:
        return self.by_key.get(key, ())


_cache = ProcessCache(max_entries=10_000)  # tenant id (str) -> TenantLimits


def configuration_of(tenant_id) -> dict:
    """The tenant profile's ``configuration`` document of the tenant (the default profile's without one)."""
    row = Tenant.objects.filter(pk=tenant_id).values_list("tenant_profile__profile_data", flat=True).first()
    if row is None:
        row = TenantProfile.objects.filter(is_default=True).values_list("profile_data", flat=True).first()
    configuration = row.get("configuration") if isinstance(row, dict) else None
    return configuration if isinstance(configuration, dict) else {}


def max_entities(tenant_id, key: str) -> int:
    """The tenant profile's entity count or size limit ``key`` (one of COUNT_KEYS: ThingsBoard's ``maxDevices``...),
    from the cache :func:`limits_of` keeps: 0, no limit, when unset, 0 or not a count."""
    return limits_of(tenant_id).counts.get(key, 0)


def count_value(value) -> int:
    """A profile's count limit as an int: 0 (no limit) when unset, not positive or not a count."""
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _parse_all(tenant_id, configuration: dict) -> TenantLimits:
    by_key = {}
    for key in LIMIT_KEYS:
        text = configuration.get(key) or _defaults().get(key)
        try:
            windows = parse(text)
        except ValueError:  # the admin and API refuse these; a hand-edited row must not stop traffic
            windows = ()
        if windows:
            by_key[key] = windows
    counts = {key: n for key in COUNT_KEYS if (n := count_value(configuration.get(key)))}
    return TenantLimits(str(tenant_id), by_key, counts)


def limits_of(tenant_id) -> TenantLimits:
    """The tenant's limits (a database read at most every TTL_SECONDS per tenant and process)."""
    key = str(tenant_id)
    return _cache.get_or_load(key, lambda: _parse_all(key, configuration_of(tenant_id)), TTL_SECONDS)


def cached(tenant_id) -> TenantLimits | None:
    """The tenant's limits if this process has them fresh, without a database read (event loops)."""
    return _cache.get(str(tenant_id))


def forget() -> None:
    _cache.forget()


@receiver(post_save, sender=TenantProfile, dispatch_uid="tenants.limits.profile.saved")
@receiver(post_delete, sender=TenantProfile, dispatch_uid="tenants.limits.profile.deleted")
@receiver(post_save, sender=Tenant, dispatch_uid="tenants.limits.tenant.saved")
def _changed(sender, **kwargs) -> None:
    forget()
