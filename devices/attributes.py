"""Attributes: typed key/values per entity and scope, written in batches."""

from uuid import UUID

from devices.choices import AttributeScope
from devices.models import Attribute
from devices.values import COLUMNS, decode, encode
from tenants.models import now_ms

__all__ = ["save_attributes", "get_attributes", "attribute_keys", "delete_attributes"]

SCOPES = tuple(AttributeScope.values)


def save_attributes(entity_id: UUID, scope: str, values: dict, ts: int | None = None) -> int:
    """Upsert ``values`` ({key: value}) in ``scope``; returns how many keys were written."""
    if scope not in SCOPES:
        raise ValueError(f"unknown attribute scope {scope!r}")
    if not values:
        return 0
    ts = now_ms() if ts is None else int(ts)
    rows = [
        Attribute(
            entity_id=entity_id, scope=scope, key=key, last_update_ts=ts, **dict(zip(COLUMNS, encode(v), strict=True))
        )
        for key, v in values.items()
    ]
    Attribute.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["entity_id", "scope", "key"],
        update_fields=[*COLUMNS, "last_update_ts"],
    )
    return len(rows)


def _query(entity_id, scope=None, keys=None):
    qs = Attribute.objects.filter(entity_id=entity_id)
    if scope is not None:
        qs = qs.filter(scope=scope)
    if keys is not None:
        qs = qs.filter(key__in=list(keys))
    return qs


def get_attributes(entity_id: UUID, scope: str | None = None, keys=None) -> list[dict]:
    """[{key, value, lastUpdateTs, scope}] sorted by key; all scopes when ``scope`` is None."""
    rows = (
        _query(entity_id, scope, keys).order_by("key", "scope").values_list("key", "scope", "last_update_ts", *COLUMNS)
    )
    return [{"key": k, "value": decode(*vals), "lastUpdateTs": ts, "scope": sc} for k, sc, ts, *vals in rows]


def attribute_keys(entity_id: UUID, scope: str | None = None) -> list[str]:
    return sorted(set(_query(entity_id, scope).values_list("key", flat=True)))


def delete_attributes(entity_id: UUID, scope: str, keys) -> int:
    return _query(entity_id, scope, keys).delete()[0]
