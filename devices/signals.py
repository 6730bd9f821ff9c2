"""Model signals of the devices app: default profiles per tenant, a new device's access token,
data cleanup on delete; an entity whose owner changed leaves its former owner's groups (devices/group_owners.py)."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from devices import credentials, group_owners, relations
from devices.models import DEFAULT_PROFILE, Asset, AssetProfile, Attribute, Device, DeviceProfile, EntityView
from tenants.models import Customer, Tenant, User


@receiver(post_save, sender=Tenant, dispatch_uid="devices.default_profiles")
def create_default_profiles(sender, instance: Tenant, created: bool, **kwargs) -> None:
    if not created or kwargs.get("raw"):
        return
    for model in (DeviceProfile, AssetProfile):  # a new tenant has none yet: one insert each
        model.objects.bulk_create([model(tenant=instance, name=DEFAULT_PROFILE, is_default=True)])


@receiver(post_save, sender=Device, dispatch_uid="devices.device_credentials")
def issue_credentials(sender, instance: Device, created: bool, raw: bool = False, **kwargs) -> None:
    """A device saved one at a time gets its access token here (a fixture load brings its own
    rows); the batched creations call credentials.issue_access_tokens themselves."""
    if created and not raw:
        credentials.issue_access_tokens([instance])


@receiver(post_delete, sender=Device, dispatch_uid="devices.drop_device_data")
@receiver(post_delete, sender=Asset, dispatch_uid="devices.drop_asset_data")
@receiver(post_delete, sender=Customer, dispatch_uid="devices.drop_customer_data")
@receiver(post_delete, sender=Tenant, dispatch_uid="devices.drop_tenant_data")
@receiver(post_delete, sender=User, dispatch_uid="devices.drop_user_data")
def drop_entity_data(sender, instance, **kwargs) -> None:
    """Telemetry and attributes are keyed by entity id without a foreign key: remove them here (a
    deleted tenant's own; its devices', assets' and customers' went with each of them). Apps above
    this one connect their own entities' deletes to :func:`drop_data_of` (integrations, dashboards)."""
    drop_data_of(instance.pk)


def drop_data_of(entity_id) -> None:
    """Delete the attributes, relations and time series kept under ``entity_id``."""
    # Imported here: the telemetry package imports models, which import this app.
    from devices.telemetry import delete_entity

    Attribute.objects.filter(entity_id=entity_id).delete()
    relations.delete_all(entity_id)
    delete_entity(entity_id)


group_owners.connect(Device, Asset, EntityView)  # an owner change: out of the former owner's groups
