"""Signals the rulechains app acts on: every new tenant gets the default root chain, attributes
saved through the API become ATTRIBUTES_UPDATED messages, chain edits reset the shortcut and the
engine's cached chains, and a deleted user's alarms are unassigned."""

from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import receiver

from devices.choices import AttributeScope
from devices.services import attributes_saved
from tenants.models import Tenant, User


@receiver(post_save, sender=Tenant, dispatch_uid="rulechains.root_chain")
def create_root_chain(sender, instance: Tenant, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        from rulechains import services

        services.create_root_chain(instance)


@receiver(attributes_saved, dispatch_uid="rulechains.attributes_updated")
def attributes_updated(sender, entity, scope: str, values: dict, **kwargs) -> None:
    """ThingsBoard emits ATTRIBUTES_UPDATED (scope in its metadata) for server and shared saves;
    client attributes come from the device. For SHARED_SCOPE on a device that is what downlink
    rule chains react to."""
    if scope in (AttributeScope.SERVER_SCOPE, AttributeScope.SHARED_SCOPE):
        from rulechains import services

        services.attributes_updated(entity, scope, values)


def _chains_changed(sender, **kwargs) -> None:
    from rulechains import engine, shortcut

    shortcut.forget()
    engine.forget_chains()


for _model in ("RuleChain", "RuleNode", "RuleNodeConnection"):
    post_save.connect(_chains_changed, sender=f"rulechains.{_model}", dispatch_uid=f"rulechains.shortcut.{_model}")
    post_delete.connect(_chains_changed, sender=f"rulechains.{_model}", dispatch_uid=f"rulechains.shortcut.d{_model}")


@receiver(pre_delete, sender=User, dispatch_uid="rulechains.unassign_alarms")
def unassign_alarms(sender, instance: User, origin=None, **kwargs) -> None:
    """A deleted user's alarms are unassigned first (assignTs, ALARM_UNASSIGNED), as ThingsBoard
    does; when its tenant or customer is what is being deleted, the foreign key's SET_NULL is enough."""
    if instance.tenant_id is None or not (isinstance(origin, User) or getattr(origin, "model", None) is User):
        return
    from rulechains import alarms
    from tbproject.clock import now_ms

    alarms.unassign_user(instance, now_ms())
