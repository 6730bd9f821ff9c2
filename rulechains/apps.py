"""Rule chains: the engine that routes messages after storage and drives downlinks (issue 6)."""

from django.apps import AppConfig


class RulechainsConfig(AppConfig):
    name = "rulechains"
    verbose_name = "Rule chains"

    def ready(self) -> None:
        from integrations import handoff
        from rulechains import services, shortcut, signals  # noqa: F401  (signals: root chains, ATTRIBUTES_UPDATED)

        handoff.connect(shortcut.acts_on_stored, services.submit)  # stored uplinks reach the rule engine
        from rulechains.models import RuleChain
        from tenants.limits import entities

        entities.guard(RuleChain, "RULE_CHAIN")  # maxRuleChains (tenants/limits/entities.py)
        from rulechains import secret_users

        secret_users.connect()  # users of the secrets storage (vault/hooks.py)
        self._forget_deleted_originators()

    @staticmethod
    def _forget_deleted_originators() -> None:
        """A deleted entity is not taken as a confirmed originator again in this process."""
        from django.apps import apps
        from django.db.models.signals import post_delete

        from rulechains import originators

        for label in originators.MODELS.values():
            try:
                model = apps.get_model(label)
            except LookupError:
                continue
            post_delete.connect(originators.forget, sender=model, dispatch_uid=f"originators-forget-{label}")
