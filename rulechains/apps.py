"""Rule chains: the engine that routes messages after storage and drives downlinks (issue 6)."""

from django.apps import AppConfig


class RulechainsConfig(AppConfig):
    name = "rulechains"
    verbose_name = "Rule chains"
