"""Integrations: transports that receive raw uplinks and send downlinks (issue 4)."""

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integration center"

    def ready(self):
        from integrations import config_cache  # noqa: F401  (connects the pipeline cache's signals)
        from integrations.ingress import routes  # noqa: F401  (connects the routing-key cache's signals)
