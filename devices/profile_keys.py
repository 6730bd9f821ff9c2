"""The attribute and time-series keys in use by a tenant's devices, for the key pickers of
ThingsBoard's device-profile forms (``GET /api/deviceProfile/devices/keys/...``).

As ThingsBoard: the keys of at most :data:`SAMPLE_DEVICES` of the tenant's devices (of one
profile when given), attribute keys of every scope, sorted. One DISTINCT query each, the device
sample being a subquery of it.
"""

from django.db import connection

from devices.models import Attribute, Device
from devices.telemetry import keys as key_dictionary

__all__ = ["attribute_keys", "timeseries_keys", "SAMPLE_DEVICES"]

#: ThingsBoard reads the keys of this many devices: "a trade-off between accurate results and
#: time-consuming queries" (its API documentation); a tenant's devices mostly share their keys
SAMPLE_DEVICES = 100


def _sample(tenant_id, profile_id):
    devices = Device.objects.filter(tenant_id=tenant_id)
    if profile_id is not None:
        devices = devices.filter(profile_id=profile_id)
    return devices.order_by().values("id")[:SAMPLE_DEVICES]


def attribute_keys(tenant_id, profile_id=None) -> list[str]:
    """The distinct attribute keys (any scope) of the sampled devices, sorted."""
    rows = Attribute.objects.filter(entity_id__in=_sample(tenant_id, profile_id))
    return sorted(set(rows.order_by().values_list("key", flat=True).distinct()))


def timeseries_keys(tenant_id, profile_id=None) -> list[str]:
    """The distinct keys with a latest value on the sampled devices, sorted."""
    sample, params = _sample(tenant_id, profile_id).query.sql_with_params()
    with connection.cursor() as cur:
        cur.execute(f"SELECT DISTINCT key FROM ts_kv_latest WHERE entity_id IN ({sample})", params)
        ids = [row[0] for row in cur.fetchall()]
    return sorted(key_dictionary.key_names(ids).values())
