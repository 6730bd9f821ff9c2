"""Signals the rulechains app acts on: every new tenant gets the default root chain, attributes
saved through the API become ATTRIBUTES_UPDATED messages, chain edits reset the shortcut and the
engine's cached chains, a deleted user's alarms are unassigned, a deleted entity is no longer
an alarm's propagation target, and a device moved to another tenant tells both tenants' rule
engines. And the one it sends: :data:`alarm_action`."""

from django.db.models.signals import post_delete, post_save, pre_delete
from django.dispatch import Signal, receiver

from devices.choices import AttributeScope
from devices.models import Asset, Device, EntityView
from devices.services import attributes_saved
from devices.tenant_assign import device_moved
from rulechains.models import Alarm
from tenants.models import Customer, Tenant, User

#: Sent (sender: the Alarm model) after alarms were acknowledged, cleared, assigned or unassigned,
#: with ``alarms`` (the changed rows), ``action`` (ALARM_ACK, ALARM_CLEAR, ALARM_ASSIGNED,
#: ALARM_UNASSIGNED: the rule engine message type, which is ThingsBoard's audit action type too)
#: and ``user``, who acted (None when no one did); ``deleted``: the user being deleted whose alarms
#: were unassigned. The audit log subscribes (rulechains may not import it), and the alarm comments.
alarm_action = Signal()

#: Sent (sender: the AlarmComment model) after a comment was added, edited or deleted, with
#: ``comment``, ``action`` (ThingsBoard's audit action type: ADDED_COMMENT, UPDATED_COMMENT,
#: DELETED_COMMENT) and ``user``, who acted (None: no one did). The audit log subscribes.
alarm_comment_action = Signal()


@receiver(alarm_action, sender=Alarm, dispatch_uid="rulechains.alarm_comments")
def comment_alarm_action(sender, alarms, action, user=None, deleted=None, **kwargs) -> None:
    """ThingsBoard's SYSTEM comment on each alarm a user acknowledged, cleared or (un)assigned."""
    from rulechains import alarm_comments

    alarm_comments.on_action(alarms, action, user, deleted)


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


@receiver(device_moved, sender=Device, dispatch_uid="rulechains.device_moved")
def device_assigned_to_tenant(sender, device, old_tenant_id, new_tenant, user=None, **kwargs) -> None:
    """ENTITY_ASSIGNED_TO_TENANT / ENTITY_ASSIGNED_FROM_TENANT, as ThingsBoard's assignDeviceToTenant sends."""
    from rulechains import services

    services.device_moved(device, old_tenant_id, new_tenant, user)


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


def forget_entity_alarms(sender, instance, **kwargs) -> None:
    """A deleted entity's ``entity_alarm`` rows go with it, as ThingsBoard deletes them. The
    alarms it originated are kept (their lists name the originator "Deleted"), and so are their
    rows for the parents they propagated to."""
    from rulechains.models import EntityAlarm

    EntityAlarm.objects.filter(tenant_id=instance.tenant_id, entity_id=instance.pk).delete()


for _model in (Device, Asset, Customer, EntityView):
    post_delete.connect(forget_entity_alarms, sender=_model,
                        dispatch_uid=f"rulechains.entity_alarms.{_model._meta.label_lower}")
