from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "devices"
    verbose_name = "Entities"

    def ready(self) -> None:
        from devices import known, signals  # noqa: F401  (known-entity cache; default profiles of new tenants)
