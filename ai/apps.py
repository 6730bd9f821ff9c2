from django.apps import AppConfig


class AiConfig(AppConfig):
    name = "ai"
    verbose_name = "AI models"

    def ready(self) -> None:
        from ai import secret_users

        secret_users.connect()  # users of the secrets storage (vault/hooks.py)
