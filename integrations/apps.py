"""Integrations: transports that receive raw uplinks and send downlinks (issue 4)."""

from django.apps import AppConfig


class IntegrationsConfig(AppConfig):
    name = "integrations"
    verbose_name = "Integration center"

    def ready(self):
        # Each connects its signal receivers: the live debug-event stream, the pipeline cache.
        from integrations import broadcasts, config_cache, device_posts  # noqa: F401
        from integrations.ingress import routes  # noqa: F401  (connects the routing-key cache's signals)
        from integrations.models import Integration
        from tenants.system import usage_counts

        usage_counts.register("integrationsCount", Integration.objects.count)  # /api/admin/licenseUsageInfo
        from tenants.limits import entities

        entities.guard(Integration, "INTEGRATION")  # maxIntegrations (tenants/limits/entities.py)
        from integrations import secret_users

        secret_users.connect()  # users of the secrets storage (vault/hooks.py)
        self._drop_data_on_delete()

    @staticmethod
    def _drop_data_on_delete() -> None:
        """An integration's and a converter's attributes, relations and time series go with them."""
        from django.db.models.signals import post_delete

        from converters.models import Converter
        from devices.signals import drop_data_of
        from integrations.models import Integration

        def drop(sender, instance, **kwargs):
            drop_data_of(instance.pk)

        for model in (Integration, Converter):
            post_delete.connect(drop, sender=model, weak=False, dispatch_uid=f"integrations.drop_data.{model.__name__}")
