from django.apps import AppConfig


class EdgesConfig(AppConfig):
    name = "edges"
    verbose_name = "Edges"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from edges import receivers  # noqa: F401  (connect the signal receivers)
