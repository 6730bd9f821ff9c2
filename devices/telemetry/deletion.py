"""Deleting time series of one entity, as ThingsBoard's
``DELETE /api/plugins/telemetry/{type}/{id}/timeseries/delete`` does.

Points with ``start_ts <= ts < end_ts`` go (all of a key's points with ``delete_all``). The latest
value goes too when it lies in what was deleted (``delete_latest``); with ``rewrite_latest`` the
newest remaining point becomes the latest value instead.
"""

from django.db import connection, transaction

from devices.telemetry import keys as key_dictionary
from devices.telemetry.reads import _eid

__all__ = ["delete_series"]

_VALUES = "bool_v, long_v, dbl_v, str_v, json_v"


def delete_series(entity_id, keys, *, start_ts: int = 0, end_ts: int = 0, delete_all: bool = False,
                  delete_latest: bool = True, rewrite_latest: bool = False) -> int:
    """Remove the keys' points in the range (or all of them). Returns history rows removed."""
    ids = list(key_dictionary.lookup_ids(keys).values())
    if not ids:
        return 0
    eid = _eid(entity_id)
    removed = 0
    with transaction.atomic(), connection.cursor() as cur:
        for key_id in ids:
            removed += _delete_key(cur, eid, key_id, start_ts, end_ts, delete_all)
            if delete_latest:
                _settle_latest(cur, eid, key_id, start_ts, end_ts, delete_all, rewrite_latest)
    return removed


def _delete_key(cur, eid, key_id: int, start_ts: int, end_ts: int, delete_all: bool) -> int:
    if delete_all:
        cur.execute("DELETE FROM ts_kv WHERE entity_id = %s AND key = %s", [eid, key_id])
    else:
        cur.execute("DELETE FROM ts_kv WHERE entity_id = %s AND key = %s AND ts >= %s AND ts < %s",
                    [eid, key_id, start_ts, end_ts])
    return cur.rowcount


def _settle_latest(cur, eid, key_id: int, start_ts: int, end_ts: int, delete_all: bool, rewrite: bool) -> None:
    cur.execute("SELECT ts FROM ts_kv_latest WHERE entity_id = %s AND key = %s", [eid, key_id])
    row = cur.fetchone()
    if row is None or not (delete_all or start_ts <= row[0] < end_ts):
        return
    cur.execute("DELETE FROM ts_kv_latest WHERE entity_id = %s AND key = %s", [eid, key_id])
    if not rewrite:
        return
    cur.execute(f"SELECT ts, {_VALUES} FROM ts_kv WHERE entity_id = %s AND key = %s ORDER BY ts DESC LIMIT 1",
                [eid, key_id])
    newest = cur.fetchone()
    if newest is not None:
        cur.execute(f"INSERT INTO ts_kv_latest (entity_id, key, ts, {_VALUES}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                    [eid, key_id, *newest])
