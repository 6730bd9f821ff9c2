from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "devices"
    verbose_name = "Entities"

    def ready(self) -> None:
        from devices import entity_views, known, signals  # noqa: F401  (receivers; known-entity cache)
        from devices.models import Asset, Device
        from devices.ota import signals as ota_signals  # noqa: F401  (a device's OTA package may change)
        from tenants.system import usage_counts

        usage_counts.register("devicesCount", Device.objects.count)  # /api/admin/licenseUsageInfo
        usage_counts.register("assetsCount", Asset.objects.count)
        self._limit_entities()

    @staticmethod
    def _limit_entities() -> None:
        """The tenant profile's maxAssets (tenants/limits/entities.py); devices are checked after their insert,
        by devices/device_quota.py, and before it only when saved in autocommit (maxOtaPackagesInBytes:
        devices/ota/packages.py)."""
        from devices.device_quota import DevicesLimitReached
        from devices.models import Asset, Device
        from tenants.limits import entities

        # in a transaction: checked after the insert (device_quota.py); in autocommit, before it
        entities.guard_autocommit(Device, "DEVICE", DevicesLimitReached)
        entities.guard(Asset, "ASSET")
