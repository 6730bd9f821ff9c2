from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "devices"
    verbose_name = "Entities"

    def ready(self) -> None:
        from devices import signals  # noqa: F401  (default profiles for each new tenant)
