from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants and users"

    def ready(self) -> None:
        from tenants.limits import profile, spec  # noqa: F401  (profile: its signal receivers)

        problem = spec.validate(settings.DEBUG_EVENTS_TENANT_RATE_LIMIT)
        if problem:
            raise ImproperlyConfigured(f"DEBUG_EVENTS_TENANT_RATE_LIMIT: {problem}")
