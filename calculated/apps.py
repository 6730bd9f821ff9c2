from django.apps import AppConfig


class CalculatedConfig(AppConfig):
    name = "calculated"
    verbose_name = "Calculated fields"

    def ready(self) -> None:
        from calculated import receivers

        receivers.connect()
