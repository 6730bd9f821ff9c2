"""Devices and assets known to exist, by (tenant, entity type, name), cached in this process.

The pipeline's provisioner asks here before it queries: under steady traffic every batch names
the same devices, and looking them up cost a worker about a seventh of a small batch. Only
entities that exist are kept (a missing name is always looked up again, so a device created
elsewhere is found at once), for ``PIPELINE_CACHE_SECONDS``. Any update or deletion of a device,
an asset or a profile in this process drops the whole cache (renames and profile changes are
rare; creations, the common write, drop nothing). Another process's rename or deletion reaches
this one within the TTL, as for the pipeline's integration cache (integrations/config_cache.py).
"""

from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from devices.models import Asset, AssetProfile, Device, DeviceProfile
from tbproject.process_cache import ProcessCache

__all__ = ["recall", "remember", "forget", "generation"]

MAX_ENTRIES = 100_000

#: (tenant id, entity type, name) -> EntityRef
CACHE = ProcessCache(MAX_ENTRIES)
forget = CACHE.forget


def recall(tenant_id, entity_type: str, name: str):
    """The cached EntityRef, or None."""
    return CACHE.get((tenant_id, entity_type, name))


def generation() -> int:
    """Pass to :func:`remember` the value read before the query whose rows it stores."""
    return CACHE.generation


def remember(tenant_id, refs, since: int) -> None:
    """Keep these EntityRefs, unless the cache was dropped after ``since`` (a racing change)."""
    CACHE.put_many((((tenant_id, ref.entity_type, ref.name), ref) for ref in refs), since,
                   settings.PIPELINE_CACHE_SECONDS)


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
    CACHE.forget_now_and_on_commit()  # a lookup between the change and its commit may have read the old row
