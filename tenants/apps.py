from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class TenantsConfig(AppConfig):
    name = "tenants"
    verbose_name = "Tenants and users"

    def ready(self) -> None:
        from tenants.limits import profile, spec  # noqa: F401  (profile: its signal receivers)
        from tenants.limits.device_attempts import SETTINGS as DEVICE_ATTEMPTS
        from tenants.system import api_keys  # noqa: F401  (its signal receivers: the key cache)

        self._limit_entities()

        for name in ("DEBUG_EVENTS_TENANT_RATE_LIMIT", "ACCOUNT_MAILS_PER_ADDRESS_RATE_LIMIT",
                     "ACCOUNT_MAILS_PER_CLIENT_RATE_LIMIT", "LOGIN_FAILURES_PER_CLIENT_RATE_LIMIT", *DEVICE_ATTEMPTS):
            problem = spec.validate(getattr(settings, name))
            if problem:
                raise ImproperlyConfigured(f"{name}: {problem}")

    @staticmethod
    def _limit_entities() -> None:
        """The tenant profile's maxCustomers and maxUsers (tenants/limits/entities.py)."""
        from tenants.limits import entities
        from tenants.models import Customer, User

        entities.guard(Customer, "CUSTOMER")
        entities.guard(User, "USER")  # a tenant's users, its customers' included; never a system administrator
