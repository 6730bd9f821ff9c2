"""Telemetry TTL and partition upkeep, run by the beat job ``devices.tasks.telemetry_retention``."""

import logging
import time

from django.conf import settings
from django.db import connection, transaction

from devices.choices import StorageKind
from devices.telemetry import storage

__all__ = ["enforce_ttl", "create_partitions_ahead", "cutoff_ms"]

log = logging.getLogger(__name__)


def _now_ms() -> int:
    return int(time.time() * 1000)


def cutoff_ms(now_ms: int | None = None) -> int | None:
    """Points older than this are expired; None when the TTL is 0 (keep forever)."""
    ttl_days = settings.TELEMETRY_TTL_DAYS
    if ttl_days <= 0:
        return None
    return (now_ms if now_ms is not None else _now_ms()) - ttl_days * storage.DAY_MS


def enforce_ttl(now_ms: int | None = None) -> int:
    """Remove expired telemetry; returns rows (plain) or partitions (partitioned) removed.

    TimescaleDB enforces its own retention policy, so nothing is done there. Latest values are
    kept, as ThingsBoard keeps them: a device's last reading outlives its history.
    """
    cutoff = cutoff_ms(now_ms)
    if cutoff is None:
        return 0
    kind, _ = storage.current()
    if kind == StorageKind.PLAIN:
        return _delete_in_batches(cutoff)
    if kind == StorageKind.PARTITIONED:
        return _drop_partitions(cutoff)
    return 0


def _delete_in_batches(cutoff: int) -> int:
    batch, total = settings.TELEMETRY_DELETE_BATCH, 0
    while True:
        # Short transactions keep the writer unblocked between batches.
        with transaction.atomic(), connection.cursor() as cur:
            cur.execute("DELETE FROM ts_kv WHERE rowid IN (SELECT rowid FROM ts_kv WHERE ts < %s LIMIT %s)",
                        [cutoff, batch])
            deleted = cur.rowcount
        total += deleted
        if deleted < batch:
            return total


def _drop_partitions(cutoff: int) -> int:
    dropped = 0
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('ts_kv partitions'))")
        for name, _start, end in storage.list_partitions(cur):
            if end <= cutoff:
                cur.execute(f'DROP TABLE "{name}"')
                dropped += 1
    if dropped:
        storage.reset_cache()
        log.info("telemetry retention: dropped %d expired partitions", dropped)
    return dropped


def create_partitions_ahead(now_ms: int | None = None) -> int:
    """Make sure partitions exist from now to TELEMETRY_PARTITIONS_AHEAD widths ahead."""
    kind, partition_ms = storage.current()
    if kind != StorageKind.PARTITIONED:
        return 0
    first = storage.partition_start(now_ms if now_ms is not None else _now_ms(), partition_ms)
    starts = {first + i * partition_ms for i in range(settings.TELEMETRY_PARTITIONS_AHEAD + 1)}
    return storage.ensure_partitions(starts, partition_ms)
