from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "dashboards"
    verbose_name = "Dashboards"

    def ready(self) -> None:
        # devices/ may not import dashboards/: tell its group endpoints what a DASHBOARD group holds
        from devices import group_types

        group_types.register("DASHBOARD", "dashboards")
        from dashboards.models import Dashboard
        from tenants.system import usage_counts

        usage_counts.register("dashboardsCount", Dashboard.objects.count)  # /api/admin/licenseUsageInfo
        from dashboards.models import Resource
        from tenants.limits import entities

        entities.guard(Dashboard, "DASHBOARD")  # the tenant profile's limits (tenants/limits/entities.py)
        entities.guard_bytes(Resource, entities.RESOURCES, "data")  # images are resources too
        self._drop_data_on_delete()

    @staticmethod
    def _drop_data_on_delete() -> None:
        """A dashboard's attributes, relations and time series go with it."""
        from django.db.models.signals import post_delete

        from dashboards.models import Dashboard
        from devices.signals import drop_data_of

        def drop(sender, instance, **kwargs):
            drop_data_of(instance.pk)

        post_delete.connect(drop, sender=Dashboard, weak=False, dispatch_uid="dashboards.drop_data")
