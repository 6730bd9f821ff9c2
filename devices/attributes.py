"""Attributes: typed key/values per entity and scope, written in batches."""

from collections.abc import Iterable
from functools import partial
from uuid import UUID

from django.db import connection

from devices import attribute_updates, data_events
from devices.choices import AttributeScope
from devices.models import Attribute
from devices.values import COLUMNS, decode, encode
from tbproject.clock import now_ms

__all__ = ["save_attributes", "save_attributes_many", "attribute_values", "get_attributes", "attribute_keys",
           "delete_attributes"]

SCOPES = tuple(AttributeScope.values)
SHARED = AttributeScope.SHARED_SCOPE  # its changes are announced to the devices (devices/attribute_updates.py)


def save_attributes(entity_id: UUID, scope: str, values: dict, ts: int | None = None, *, tenant_id=None) -> int:
    """Upsert ``values`` ({key: value}) in ``scope``; returns how many keys were written (announced
    to the apps above with ``tenant_id``, the entity's tenant when the caller knows it: data_events.py)."""
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
    if scope == SHARED:
        attribute_updates.announce([(entity_id, values, ())])
    data_events.attributes_written(((entity_id, scope, key) for key in values), tenant_id)
    return len(rows)


_UPSERT_CHUNK = 500
_COLS = ("entity_id", "scope", "key", *COLUMNS, "last_update_ts")
_UNNEST = ("SELECT * FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::bool[], %s::bigint[], %s::float8[], "
           "%s::text[], %s::text[], %s::bigint[])")


def save_attributes_many(rows: Iterable[tuple], *, keep_newer: bool = True, tenant_id=None) -> int:
    """Upsert (entity_id, scope, key, value, ts) rows of many entities in a few statements.

    The last row per (entity, scope, key) wins within the call; a stored value with a newer
    ``last_update_ts`` is kept (a replayed old message must not undo a newer value) unless
    ``keep_newer`` is False (API saves overwrite, as :func:`save_attributes` does). Values are
    checked before anything is written (ValueError names the problem). Returns the rows sent.
    The write is announced with ``tenant_id`` (every row's tenant, when known: data_events.py)."""
    newest: dict[tuple, tuple] = {}
    for entity_id, scope, key, value, ts in rows:
        if scope not in SCOPES:
            raise ValueError(f"unknown attribute scope {scope!r}")
        entity_id = entity_id if isinstance(entity_id, UUID) else UUID(str(entity_id))
        newest[(entity_id, scope, key)] = (entity_id, scope, key, *encode(value), int(ts))
    # A fixed order locks rows in the same order in every writer: no deadlock between batches.
    ordered = [newest[k] for k in sorted(newest)]
    if connection.vendor != "postgresql":
        ordered = [(row[0].hex, *row[1:]) for row in ordered]
    table = connection.ops.quote_name(Attribute._meta.db_table)
    updates = ", ".join(f"{c} = excluded.{c}" for c in (*COLUMNS, "last_update_ts"))
    newer = f" WHERE excluded.last_update_ts >= {table}.last_update_ts" if keep_newer else ""
    with connection.cursor() as cur:
        for start in range(0, len(ordered), _UPSERT_CHUNK):
            chunk = ordered[start:start + _UPSERT_CHUNK]
            if connection.vendor == "postgresql":
                # One array per column: a parameter per value made psycopg split and quote a
                # query text of thousands of placeholders (most of a batch of API saves' upsert).
                source, params = _UNNEST, [list(column) for column in zip(*chunk, strict=True)]
            else:
                source = "VALUES " + ", ".join(["(" + ", ".join(["%s"] * len(_COLS)) + ")"] * len(chunk))
                params = [v for row in chunk for v in row]
            cur.execute(f"INSERT INTO {table} ({', '.join(_COLS)}) {source} "
                        f"ON CONFLICT (entity_id, scope, key) DO UPDATE SET {updates}{newer}", params)
    shared: dict[UUID, list] = {}
    for (entity_id, scope, key), row in newest.items():
        if scope == SHARED:
            shared.setdefault(entity_id, []).append((key, row[3:-1]))
    if shared:
        # decoded only for a device found waiting for its updates (devices/attribute_updates.py)
        attribute_updates.announce([(entity_id, partial(_decoded, rows), ()) for entity_id, rows in shared.items()])
    data_events.attributes_written(newest.keys(), tenant_id)
    return len(ordered)


def _decoded(rows) -> dict:
    return {key: decode(*columns) for key, columns in rows}


def attribute_values(entity_ids: Iterable, scope: str, keys: Iterable[str]) -> dict[tuple[UUID, str], tuple]:
    """{(entity_id, key): (last_update_ts, value)} of the stored ones, in one query."""
    entity_ids, keys = list(entity_ids), list(keys)
    if not entity_ids or not keys:
        return {}
    rows = (Attribute.objects.filter(entity_id__in=entity_ids, scope=scope, key__in=keys)
            .values_list("entity_id", "key", "last_update_ts", *COLUMNS))
    return {(e, k): (ts, decode(*vals)) for e, k, ts, *vals in rows}


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
    if scope != SHARED:
        return _query(entity_id, scope, keys).delete()[0]
    gone = list(_query(entity_id, scope, keys).values_list("key", flat=True))
    deleted = _query(entity_id, scope, gone).delete()[0] if gone else 0
    attribute_updates.announce([(entity_id, {}, sorted(gone))])
    return deleted
