"""Self-registration and sign-up (ThingsBoard PE)."""
from django.apps import AppConfig
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SignupConfig(AppConfig):
    name = "signup"
    verbose_name = "Self-registration and sign-up"

    def ready(self) -> None:
        from tenants.limits import spec

        problem = spec.validate(settings.SIGNUP_PER_CLIENT_RATE_LIMIT)
        if problem:
            raise ImproperlyConfigured(f"SIGNUP_PER_CLIENT_RATE_LIMIT: {problem}")
