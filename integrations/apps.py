"""Integrations: transports that receive raw uplinks and send downlinks (issue 4)."""

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integration center"

    def ready(self):
        # Each connects its signal receivers: the live debug-event stream, the pipeline cache.
        from integrations import broadcasts, config_cache, device_posts  # noqa: F401
        from integrations.ingress import routes  # noqa: F401  (connects the routing-key cache's signals)
