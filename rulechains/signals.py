"""Model signals of the rulechains app: every new tenant gets the default root chain."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from tenants.models import Tenant


@receiver(post_save, sender=Tenant, dispatch_uid="rulechains.root_chain")
def create_root_chain(sender, instance: Tenant, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        from rulechains import services

        services.create_root_chain(instance)


def _chains_changed(sender, **kwargs) -> None:
    from rulechains import shortcut

    shortcut.forget()


for _model in ("RuleChain", "RuleNode", "RuleNodeConnection"):
    post_save.connect(_chains_changed, sender=f"rulechains.{_model}", dispatch_uid=f"rulechains.shortcut.{_model}")
    post_delete.connect(_chains_changed, sender=f"rulechains.{_model}", dispatch_uid=f"rulechains.shortcut.d{_model}")
