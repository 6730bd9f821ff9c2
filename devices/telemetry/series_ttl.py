"""Per-series TTL: points of one entity's key older than its TTL are deleted by the retention job.

    set_ttls([(entity_id, key, ttl_ms), ...])   # the save-timeseries rule node; 0 removes the TTL
    enforce(now_ms) -> rows deleted             # devices.tasks.telemetry_retention

ThingsBoard keeps per-message TTLs on Cassandra only (its PostgreSQL storage has one global TTL,
TELEMETRY_TTL_DAYS here). Here a TTL applies to a series: the last TTL written for an entity's key
wins, and it counts from each point's timestamp (Cassandra counts from the write). Latest values
are kept, as with the global TTL.
"""

from django.db import connection, transaction

from devices.models import SeriesTtl
from devices.telemetry import keys as key_dictionary
from devices.telemetry.reads import _eid

__all__ = ["set_ttls", "enforce"]


def set_ttls(rows) -> int:
    """Record TTLs for (entity id, key name, ttl ms) series; a TTL of 0 removes one."""
    latest = {(entity_id, key): ttl for entity_id, key, ttl in rows}
    if not latest:
        return 0
    ids = key_dictionary.key_ids({key for _, key in latest})
    keep = [SeriesTtl(entity_id=e, key_id=ids[k], ttl_ms=t) for (e, k), t in latest.items() if t > 0]
    with transaction.atomic():
        for (entity_id, key), ttl in latest.items():
            if ttl <= 0:
                SeriesTtl.objects.filter(entity_id=entity_id, key_id=ids[key]).delete()
        SeriesTtl.objects.bulk_create(keep, update_conflicts=True, unique_fields=["entity_id", "key"],
                                      update_fields=["ttl_ms"])
    return len(latest)


def enforce(now_ms: int) -> int:
    """Delete the points past their series' TTL; returns how many."""
    removed = 0
    for entity_id, key_id, ttl_ms in SeriesTtl.objects.values_list("entity_id", "key_id", "ttl_ms").iterator():
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("DELETE FROM ts_kv WHERE entity_id = %s AND key = %s AND ts < %s",
                        [_eid(entity_id), key_id, now_ms - ttl_ms])
            removed += cur.rowcount
    return removed
