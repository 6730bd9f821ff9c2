"""The audit app sits above every other app: it subscribes to their signals, none imports it."""

from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "audit"
    verbose_name = "Audit log"

    def ready(self) -> None:
        from audit import alarms, logins, receivers  # noqa: F401  (connect the signal receivers)
