"""Rule chains: the engine that routes messages after storage and drives downlinks (issue 6)."""

from django.apps import AppConfig


class RulechainsConfig(AppConfig):
    name = "rulechains"
    verbose_name = "Rule chains"

    def ready(self) -> None:
        from rulechains import signals  # noqa: F401  (a root chain for each new tenant)
