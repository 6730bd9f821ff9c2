"""Model signals of the devices app: default profiles per tenant, a new device's access token,
data cleanup on delete; an entity whose owner changed leaves its former owner's groups (devices/group_owners.py).

:data:`group_members_changed` (devices/membership.py, re-exported here) is the one event for entity-group
membership changes: ``sender`` the member model, ``tenant_id``, ``group_type``, ``action`` ("added" or "removed")
and ``pairs`` [(group id, entity id), ...], sent by every path of devices/ that changes members, the "All"
groups' included; subscribe to it, not to ``m2m_changed`` (see devices/membership.py)."""

from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from devices import all_groups, credentials, group_owners, relations
from devices.membership import group_members_changed  # noqa: F401  (re-exported: the membership event)
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


@receiver(post_save, sender=Tenant, dispatch_uid="devices.all_groups.tenant")
@receiver(post_save, sender=Customer, dispatch_uid="devices.all_groups.customer")
def create_all_groups(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """A new tenant or customer gets its "All" device, asset and entity view groups (devices/all_groups.py)."""
    if created and not raw:
        customer = instance.pk if sender is Customer else None
        all_groups.ensure_owner(instance.tenant_id if customer else instance.pk, customer, new=True)


@receiver(post_save, sender=Device, dispatch_uid="devices.all_groups.device")
@receiver(post_save, sender=Asset, dispatch_uid="devices.all_groups.asset")
@receiver(post_save, sender=EntityView, dispatch_uid="devices.all_groups.entity_view")
def join_all_group(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """A new entity saved one at a time joins its owner's "All" group (bulk creations call all_groups.join)."""
    if created and not raw:
        all_groups.join(group_owners.GROUP_TYPES[sender._meta.label], [instance])


_OWNED = "_tb_owned_entities"


@receiver(pre_delete, sender=Customer, dispatch_uid="devices.all_groups.customer_deleting")
def customer_deleting(sender, instance, **kwargs) -> None:
    """Remember the entities the customer owns (one query) for :func:`customer_deleted`."""
    instance.__dict__[_OWNED] = all_groups.owned(instance)


@receiver(post_delete, sender=Customer, dispatch_uid="devices.all_groups.customer_deleted")
def customer_deleted(sender, instance, **kwargs) -> None:
    """A deleted customer's entities are the tenant's now (``SET_NULL``, no save): they, and only they, join its
    "All" groups (the tenant's other entities are not read)."""
    owned = instance.__dict__.pop(_OWNED, None)
    if owned and Tenant.objects.live().filter(pk=instance.tenant_id).exists():
        all_groups.join_owned(instance.tenant_id, owned)
