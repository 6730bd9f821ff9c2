"""Reading telemetry: key lists, latest values, and history (raw or aggregated in intervals)."""

from uuid import UUID

from django.db import connection

from devices.telemetry import keys as key_dictionary
from devices.values import decode

__all__ = ["timeseries_keys", "timeseries_keys_many", "latest", "latest_many", "history", "history_many",
           "AGGREGATIONS"]

AGGREGATIONS = ("NONE", "AVG", "MIN", "MAX", "SUM", "COUNT")
_VALUES = "bool_v, long_v, dbl_v, str_v, json_v"


def _eid(entity_id) -> object:
    entity_id = entity_id if isinstance(entity_id, UUID) else UUID(str(entity_id))
    return entity_id if connection.vendor == "postgresql" else entity_id.hex


def _marks(items) -> str:
    return ", ".join(["%s"] * len(items))


def timeseries_keys(entity_id) -> list[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT key FROM ts_kv_latest WHERE entity_id = %s", [_eid(entity_id)])
        ids = [row[0] for row in cur.fetchall()]
    return sorted(key_dictionary.key_names(ids).values())


def timeseries_keys_many(entity_ids) -> list[str]:
    """The sorted distinct keys with a latest value on any of ``entity_ids``, in one query."""
    params = [_eid(e) for e in entity_ids]
    if not params:
        return []
    with connection.cursor() as cur:
        cur.execute(f"SELECT DISTINCT key FROM ts_kv_latest WHERE entity_id IN ({_marks(params)})", params)
        ids = [row[0] for row in cur.fetchall()]
    return sorted(key_dictionary.key_names(ids).values())


def latest(entity_id, keys=None) -> dict[str, tuple[int, object]]:
    """{key: (ts, value)} of the newest value per key; all keys when ``keys`` is None."""
    sql = f"SELECT key, ts, {_VALUES} FROM ts_kv_latest WHERE entity_id = %s"
    params: list = [_eid(entity_id)]
    if keys is not None:
        ids = key_dictionary.lookup_ids(keys)
        if not ids:
            return {}
        sql += f" AND key IN ({_marks(ids)})"
        params += list(ids.values())
    with connection.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    names = key_dictionary.key_names([r[0] for r in rows])
    return {names[r[0]]: (r[1], decode(*r[2:])) for r in rows if r[0] in names}


def latest_many(entity_ids, keys) -> dict[tuple[UUID, str], tuple[int, object]]:
    """{(entity_id, key): (ts, value)} of the newest values of many entities, in one query."""
    entity_ids = [e if isinstance(e, UUID) else UUID(str(e)) for e in entity_ids]
    ids = key_dictionary.lookup_ids(keys)
    if not entity_ids or not ids:
        return {}
    by_key_id = {key_id: name for name, key_id in ids.items()}
    by_param = {_eid(e): e for e in entity_ids}
    with connection.cursor() as cur:
        cur.execute(f"SELECT entity_id, key, ts, {_VALUES} FROM ts_kv_latest WHERE entity_id IN ({_marks(by_param)}) "
                    f"AND key IN ({_marks(by_key_id)})", [*by_param, *by_key_id])
        rows = cur.fetchall()
    return {(by_param.get(r[0]) or UUID(str(r[0])), by_key_id[r[1]]): (r[2], decode(*r[3:])) for r in rows}


def history_many(entity_ids, keys, start_ts: int, end_ts: int, *, limit: int) -> dict[tuple[UUID, str], list]:
    """{(entity_id, key): [(ts, value), ...] newest first}: at most ``limit`` raw values per entity and
    key with start_ts <= ts < end_ts, for many entities and keys in one query."""
    entity_ids = [e if isinstance(e, UUID) else UUID(str(e)) for e in entity_ids]
    ids = key_dictionary.lookup_ids(keys)
    if not entity_ids or not ids or limit <= 0:
        return {}
    by_key_id = {key_id: name for name, key_id in ids.items()}
    by_param = {_eid(e): e for e in entity_ids}
    with connection.cursor() as cur:
        cur.execute(f"SELECT entity_id, key, ts, {_VALUES} FROM (SELECT entity_id, key, ts, {_VALUES}, "
                    "ROW_NUMBER() OVER (PARTITION BY entity_id, key ORDER BY ts DESC) AS n FROM ts_kv "
                    f"WHERE entity_id IN ({_marks(by_param)}) AND key IN ({_marks(by_key_id)}) AND ts >= %s "
                    "AND ts < %s) ranked WHERE n <= %s ORDER BY entity_id, key, ts DESC",
                    [*by_param, *by_key_id, start_ts, end_ts, limit])
        rows = cur.fetchall()
    result: dict = {}
    for r in rows:
        entity = by_param.get(r[0]) or UUID(str(r[0]))
        result.setdefault((entity, by_key_id[r[1]]), []).append((r[2], decode(*r[3:])))
    return result


def history(entity_id, keys, start_ts: int, end_ts: int, *, limit: int = 100, agg: str = "NONE",
            interval: int = 0, order: str = "DESC") -> dict[str, list[tuple[int, object]]]:
    """{key: [(ts, value), ...]} for start_ts <= ts < end_ts, ordered by ts.

    With ``agg`` other than NONE, values are grouped in ``interval``-ms buckets from start_ts and
    each bucket is reported at its middle, as ThingsBoard does; buckets with no data are omitted.
    """
    if agg != "NONE" and interval <= 0:
        raise ValueError("an aggregated history needs an interval > 0 ms")
    ids = key_dictionary.lookup_ids(keys)
    direction = "ASC" if order == "ASC" else "DESC"
    result: dict[str, list] = {}
    with connection.cursor() as cur:
        for name, key_id in ids.items():
            params = [_eid(entity_id), key_id, start_ts, end_ts]
            if agg == "NONE":
                cur.execute(f"SELECT ts, {_VALUES} FROM ts_kv WHERE entity_id = %s AND key = %s "
                            f"AND ts >= %s AND ts < %s ORDER BY ts {direction} LIMIT %s", [*params, limit])
                values = [(row[0], decode(*row[1:])) for row in cur.fetchall()]
            else:
                values = _aggregate(cur, params, agg, interval, start_ts, end_ts, direction, limit)
            if values:
                result[name] = values
    return result


def _aggregate(cur, params, agg, interval, start_ts, end_ts, direction, limit):
    cur.execute(
        "SELECT (ts - %s) / %s AS bucket, COUNT(*), COUNT(long_v), COUNT(dbl_v), SUM(long_v), SUM(dbl_v), "
        "MIN(long_v), MIN(dbl_v), MAX(long_v), MAX(dbl_v) FROM ts_kv WHERE entity_id = %s AND key = %s "
        f"AND ts >= %s AND ts < %s GROUP BY bucket ORDER BY bucket {direction} LIMIT %s",
        [start_ts, interval, *params, limit],
    )
    out = []
    for bucket, count, n_long, n_dbl, s_long, s_dbl, mn_l, mn_d, mx_l, mx_d in cur.fetchall():
        s_long = int(s_long) if s_long is not None else None  # PostgreSQL sums bigint as numeric
        lo = start_ts + bucket * interval
        middle = lo + (min(lo + interval, end_ts) - lo) // 2
        value = _combine(agg, count, n_long, n_dbl, s_long, s_dbl, mn_l, mn_d, mx_l, mx_d)
        if value is not None:
            out.append((middle, value))
    return out


def _combine(agg, count, n_long, n_dbl, s_long, s_dbl, mn_l, mn_d, mx_l, mx_d):
    if agg == "COUNT":
        return count
    if not (n_long or n_dbl):
        return None  # non-numeric values have no AVG/MIN/MAX/SUM
    numbers_are_long = not n_dbl
    if agg == "SUM":
        return int(s_long or 0) if numbers_are_long else (s_long or 0) + (s_dbl or 0.0)
    if agg == "AVG":
        return ((s_long or 0) + (s_dbl or 0.0)) / (n_long + n_dbl)
    candidates = [v for v in ((mn_l, mn_d) if agg == "MIN" else (mx_l, mx_d)) if v is not None]
    picked = min(candidates) if agg == "MIN" else max(candidates)
    return int(picked) if numbers_are_long else float(picked)
