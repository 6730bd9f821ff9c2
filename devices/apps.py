from django.apps import AppConfig


class DevicesConfig(AppConfig):
    name = "devices"
    verbose_name = "Entities"

    def ready(self) -> None:
        from devices import entity_views, known, signals  # noqa: F401  (receivers; known-entity cache)
