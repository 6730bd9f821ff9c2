"""Small factory functions for tests: one row each, with sensible defaults."""

from devices.choices import GroupType
from devices.models import Asset, AssetProfile, Device, DeviceProfile, EntityGroup
from tenants.models import Customer

__all__ = ["make_customer", "make_device", "make_asset", "make_group", "default_profile"]


def default_profile(tenant, model=DeviceProfile):
    return model.objects.get(tenant=tenant, is_default=True)


def make_customer(tenant, title="Customer B", **extra) -> Customer:
    return Customer.objects.create(tenant=tenant, title=title, **extra)


def make_device(tenant, name="dev-1", profile=None, customer=None, **extra) -> Device:
    profile = profile or default_profile(tenant, DeviceProfile)
    return Device.objects.create(tenant=tenant, name=name, profile=profile, customer=customer, **extra)


def make_asset(tenant, name="asset-1", profile=None, customer=None, **extra) -> Asset:
    profile = profile or default_profile(tenant, AssetProfile)
    return Asset.objects.create(tenant=tenant, name=name, profile=profile, customer=customer, **extra)


def make_group(tenant, name="group-1", group_type=GroupType.DEVICE, members=()) -> EntityGroup:
    group = EntityGroup.objects.create(tenant=tenant, name=name, type=group_type)
    if members:
        group.members.add(*members)
    return group
