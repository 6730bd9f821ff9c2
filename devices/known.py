"""Devices and assets known to exist, by (tenant, entity type, name), cached in this process.

The pipeline's provisioner asks here before it queries: under steady traffic every batch names
the same devices, and looking them up cost a worker about a seventh of a small batch. Only
entities that exist are kept (a missing name is always looked up again, so a device created
elsewhere is found at once), for ``PIPELINE_CACHE_SECONDS``. Any update or deletion of a device,
an asset or a profile in this process drops the whole cache (renames and profile changes are
rare; creations, the common write, drop nothing). Another process's rename or deletion reaches
this one within the TTL, as for the pipeline's integration cache (integrations/config_cache.py).
"""

import threading
import time

from django.conf import settings
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from devices.models import Asset, AssetProfile, Device, DeviceProfile

__all__ = ["recall", "remember", "forget"]

MAX_ENTRIES = 100_000

_entries: dict[tuple, tuple[float, object]] = {}
_lock = threading.Lock()
_generation = 0


def recall(tenant_id, entity_type: str, name: str):
    """The cached EntityRef, or None."""
    hit = _entries.get((tenant_id, entity_type, name))
    if hit is not None and hit[0] > time.monotonic():
        return hit[1]
    return None


def generation() -> int:
    """Pass to :func:`remember` the value read before the query whose rows it stores."""
    return _generation


def remember(tenant_id, refs, since: int) -> None:
    """Keep these EntityRefs, unless the cache was dropped after ``since`` (a racing change)."""
    ttl = settings.PIPELINE_CACHE_SECONDS
    if ttl <= 0:
        return
    expires = time.monotonic() + ttl
    with _lock:
        if since != _generation:
            return
        if len(_entries) > MAX_ENTRIES:
            _entries.clear()
        for ref in refs:
            _entries[(tenant_id, ref.entity_type, ref.name)] = (expires, ref)


def forget(*args, **kwargs) -> None:
    global _generation
    with _lock:
        _generation += 1
        _entries.clear()


@receiver(post_save, sender=Device, dispatch_uid="devices.known.device_saved")
@receiver(post_save, sender=Asset, dispatch_uid="devices.known.asset_saved")
@receiver(post_save, sender=DeviceProfile, dispatch_uid="devices.known.device_profile_saved")
@receiver(post_save, sender=AssetProfile, dispatch_uid="devices.known.asset_profile_saved")
def _saved(sender, created: bool = False, **kwargs) -> None:
    if not created:
        _changed()


@receiver(post_delete, sender=Device, dispatch_uid="devices.known.device_deleted")
@receiver(post_delete, sender=Asset, dispatch_uid="devices.known.asset_deleted")
@receiver(post_delete, sender=DeviceProfile, dispatch_uid="devices.known.device_profile_deleted")
@receiver(post_delete, sender=AssetProfile, dispatch_uid="devices.known.asset_profile_deleted")
def _deleted(sender, **kwargs) -> None:
    _changed()


def _changed() -> None:
    # Now, and again on commit: a lookup between the two may have read the old row.
    forget()
    transaction.on_commit(forget)
