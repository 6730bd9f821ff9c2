"""Integrations with their uplink converter, as the pipeline loads them, cached in this process.

    integrations = config_cache.load({"<integration id>", ...})   # {id: Integration}

Loading an integration with its converter cost a worker about a fifth of a small batch (one ORM
query with a join, a few milliseconds, paid per Celery task). Entries live
``PIPELINE_CACHE_SECONDS`` and are dropped at once when this process saves or deletes an
integration or a converter (signals, again on commit); other processes see a change within that
time, as the ingress routes (integrations/ingress/routes.py) and the rule-engine shortcut
(rulechains/shortcut.py) do. A deleted integration is never cached: its uplinks are dropped by
the pipeline on every batch until the ingress learns of the deletion.

Cached rows are shared by every batch of the process: the pipeline only reads them.
"""

import threading
import time
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from converters.models import Converter
from integrations.models import Integration

__all__ = ["load", "forget"]

MAX_ENTRIES = 10_000

_entries: dict[str, tuple[float, Integration]] = {}
_lock = threading.Lock()
_generation = 0  # bumped by forget(): a load that raced with it does not store what it read


def load(keys: Iterable[str]) -> dict[str, Integration]:
    """The integrations (with ``default_converter``) of these ids that exist; ids that are not
    UUIDs or name no integration are left out."""
    ttl = settings.PIPELINE_CACHE_SECONDS
    now = time.monotonic()
    found: dict[str, Integration] = {}
    missing: list[uuid.UUID] = []
    for key in keys:
        hit = _entries.get(key)
        if hit is not None and hit[0] > now:
            found[key] = hit[1]
            continue
        try:
            missing.append(uuid.UUID(key))
        except ValueError:
            continue
    if not missing:
        return found
    generation = _generation
    rows = {str(row.pk): row for row in Integration.objects.filter(pk__in=missing).select_related("default_converter")}
    found.update(rows)
    if ttl > 0:
        with _lock:
            if generation == _generation:
                if len(_entries) + len(rows) > MAX_ENTRIES:
                    _entries.clear()
                expires = now + ttl
                _entries.update((key, (expires, row)) for key, row in rows.items())
    return found


def forget(*args, **kwargs) -> None:
    global _generation
    with _lock:
        _generation += 1
        _entries.clear()


@receiver(post_save, sender=Integration, dispatch_uid="integrations.config_cache.integration_saved")
@receiver(post_delete, sender=Integration, dispatch_uid="integrations.config_cache.integration_deleted")
@receiver(post_save, sender=Converter, dispatch_uid="integrations.config_cache.converter_saved")
@receiver(post_delete, sender=Converter, dispatch_uid="integrations.config_cache.converter_deleted")
def _changed(sender, **kwargs) -> None:
    # Now, so that this process never runs the old configuration after saving, and again on
    # commit, so that a load between the two (reading the old row) is not kept either.
    forget()
    transaction.on_commit(forget)
