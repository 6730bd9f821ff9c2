"""Integrations with their uplink converter, as the pipeline loads them, cached in this process.

An integration pinned to a converter version gets that version's stand-in as its
``default_converter`` (converters.history.as_converter).

    integrations = config_cache.load({"<integration id>", ...})   # {id: Integration}

Loading an integration with its converter cost a worker about a fifth of a small batch (one ORM
query with a join, a few milliseconds, paid per Celery task). Entries live
``PIPELINE_CACHE_SECONDS`` and are dropped at once when this process saves or deletes an
integration or a converter, or marks a tenant for deletion (signals, again on commit); other
processes see a change within that time, as the ingress routes (integrations/ingress/routes.py)
and the rule-engine shortcut (rulechains/shortcut.py) do. A deleted integration is never cached:
its uplinks are dropped by the pipeline on every batch until the ingress learns of the deletion.
Each row comes with its tenant, whose ``deleting_ts`` makes the pipeline drop its uplinks too.

Cached rows are shared by every batch of the process: the pipeline only reads them.
"""

import time
import uuid
from collections.abc import Iterable

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from converters import history
from converters.models import Converter
from integrations.models import Integration
from tbproject.process_cache import ProcessCache
from tenants.deletion import tenant_marked
from tenants.models import Tenant

__all__ = ["load", "forget"]

MAX_ENTRIES = 10_000

#: integration id (text) -> Integration with its default_converter
CACHE = ProcessCache(MAX_ENTRIES)
forget = CACHE.forget


def load(keys: Iterable[str]) -> dict[str, Integration]:
    """The integrations (with ``default_converter``) of these ids that exist; ids that are not
    UUIDs or name no integration are left out."""
    now = time.monotonic()
    found: dict[str, Integration] = {}
    missing: list[uuid.UUID] = []
    for key in keys:
        hit = CACHE.get(key, now)
        if hit is not None:
            found[key] = hit
            continue
        try:
            missing.append(uuid.UUID(key))
        except ValueError:
            continue
    if not missing:
        return found
    generation = CACHE.generation  # a load that raced with forget() does not store what it read
    # with its tenant: the pipeline drops the uplinks of a tenant being deleted (tenant.deleting_ts)
    rows = {str(row.pk): row
            for row in Integration.objects.filter(pk__in=missing).select_related("default_converter", "tenant")}
    for row in rows.values():
        if row.pinned_converter_version is not None:  # run the pinned version (the newest if it is gone)
            row.default_converter = history.as_converter(row.default_converter, row.pinned_converter_version) \
                or row.default_converter
    found.update(rows)
    CACHE.put_many(rows.items(), generation, settings.PIPELINE_CACHE_SECONDS, now=now)
    return found


@receiver(post_save, sender=Integration, dispatch_uid="integrations.config_cache.integration_saved")
@receiver(post_delete, sender=Integration, dispatch_uid="integrations.config_cache.integration_deleted")
@receiver(post_save, sender=Converter, dispatch_uid="integrations.config_cache.converter_saved")
@receiver(post_delete, sender=Converter, dispatch_uid="integrations.config_cache.converter_deleted")
@receiver(tenant_marked, sender=Tenant, dispatch_uid="integrations.config_cache.tenant_marked")
def _changed(sender, **kwargs) -> None:
    # So that this process never runs the old configuration after saving (see ProcessCache).
    CACHE.forget_now_and_on_commit()
