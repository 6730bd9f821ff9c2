"""``POST /api/v2/entitiesQuery/find/keys``: ThingsBoard's AvailableEntityKeysV2 of the entities
an entity data query finds (its first page, at most MAX_KEYS_PAGE entities, as ThingsBoard caps it):

    {"totalEntities": 42, "entityTypes": ["DEVICE"],
     "timeseries": [{"key": "temperature", "sample": {"ts": 1700000000000, "value": 21.5}}],
     "attributes": {"SERVER_SCOPE": [{"key": "model"}], "CLIENT_SCOPE": [], "SHARED_SCOPE": []}}

``timeseries`` / ``attributes`` are left out when not asked for; ``sample`` (the newest value of
the key among the entities found, typed) only with samples. Attribute scopes default to the ones
the found entity types have: all three with devices, SERVER_SCOPE otherwise; a scope none of them
has is left out, and so is ``attributes`` when no scope is left. Keys are sorted.
"""

from devices.models import Attribute
from devices.queries.engine import key_page
from devices.queries.spec import Key
from devices.queries.values import load_latest_of, timeseries_keys_of
from devices.values import COLUMNS, decode

__all__ = ["find_keys_v2", "SCOPES"]

#: ThingsBoard's AttributeScope order
SCOPES = ("CLIENT_SCOPE", "SERVER_SCOPE", "SHARED_SCOPE")
_DEVICE_ONLY = ("CLIENT_SCOPE", "SHARED_SCOPE")


def find_keys_v2(user, body, *, timeseries: bool = True, attributes: bool = True, scopes=None,
                 samples: bool = False) -> dict:
    total, items = key_page(user, body)
    types = sorted({kind for kind, _ in items})
    answer: dict = {"totalEntities": total, "entityTypes": types}
    if timeseries:
        answer["timeseries"] = _series(items, samples)
    if attributes:
        usable = [s for s in (scopes or SCOPES) if _has_scope(types, s)]
        if usable:
            answer["attributes"] = _attributes([row.pk for _, row in items], usable, samples)
    return answer


def _has_scope(types: list[str], scope: str) -> bool:
    return "DEVICE" in types if scope in _DEVICE_ONLY else bool(types)


def _info(key: str, newest: dict) -> dict:
    if key not in newest:
        return {"key": key}
    ts, value = newest[key]
    return {"key": key, "sample": {"ts": ts, "value": value}}


def _series(items, samples: bool) -> list[dict]:
    keys = timeseries_keys_of(items)
    newest: dict = {}
    if samples and keys:
        for (key, _), (ts, value) in load_latest_of(items, [Key("TIME_SERIES", k) for k in keys]).items():
            if key.key not in newest or ts > newest[key.key][0]:
                newest[key.key] = (ts, value)
    return [_info(k, newest) for k in keys]


def _attributes(ids: list, scopes: list[str], samples: bool) -> dict:
    rows = Attribute.objects.filter(entity_id__in=ids, scope__in=scopes).order_by()
    found: dict = {scope: {} for scope in scopes}
    if samples:
        for scope, key, ts, *values in rows.values_list("scope", "key", "last_update_ts", *COLUMNS):
            if key not in found[scope] or ts > found[scope][key][0]:
                found[scope][key] = (ts, decode(*values))
        return {scope: [_info(k, newest) for k in sorted(newest)] for scope, newest in found.items()}
    for scope, key in rows.values_list("scope", "key").distinct():
        found[scope][key] = None
    return {scope: [{"key": k} for k in sorted(keys)] for scope, keys in found.items()}
