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
