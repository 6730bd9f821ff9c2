"""Every tenant gets its "default" device and asset profiles the moment it is created."""

from django.db.models.signals import post_save
from django.dispatch import receiver

from devices.models import DEFAULT_PROFILE, AssetProfile, DeviceProfile
from tenants.models import Tenant


@receiver(post_save, sender=Tenant, dispatch_uid="devices.default_profiles")
def create_default_profiles(sender, instance: Tenant, created: bool, **kwargs) -> None:
    if not created:
        return
    for model in (DeviceProfile, AssetProfile):
        model.objects.get_or_create(tenant=instance, name=DEFAULT_PROFILE, defaults={"is_default": True})
