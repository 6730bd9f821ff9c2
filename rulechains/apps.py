"""Rule chains: the engine that routes messages after storage and drives downlinks (issue 6)."""

from django.apps import AppConfig


class RulechainsConfig(AppConfig):
    name = "rulechains"
    verbose_name = "Rule chains"

    def ready(self) -> None:
        from integrations import handoff
        from rulechains import services, shortcut, signals  # noqa: F401  (signals: root chains, ATTRIBUTES_UPDATED)

        handoff.connect(shortcut.acts_on_stored, services.submit)  # stored uplinks reach the rule engine
