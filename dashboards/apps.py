from django.apps import AppConfig


class DashboardsConfig(AppConfig):
    name = "dashboards"
    verbose_name = "Dashboards"

    def ready(self) -> None:
        # devices/ may not import dashboards/: tell its group endpoints what a DASHBOARD group holds
        from devices import group_types

        group_types.register("DASHBOARD", "dashboards")
