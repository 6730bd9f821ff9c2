"""Alarm actions in the audit log, as ThingsBoard logs them: ALARM_ACK, ALARM_CLEAR,
ALARM_ASSIGNED and ALARM_UNASSIGNED (rulechains.signals.alarm_action, sent with the acting user)
and ALARM_DELETE (the alarm row deleted while a user acts: the API's DELETE /api/alarm/{id}, the
admin).

ThingsBoard files these rows under the alarm's originator (entityId: the device, asset...; its
audit log lists them), names them by the alarm's name (its type) and keeps the alarm's JSON in
``actionData.entity``. Alarm actions no user made (the rule engine's clears, a deleted user's
alarms unassigned) are not audited, as saves no one made are not (audit/context.py).

Comments (rulechains.signals.alarm_comment_action): ADDED_COMMENT (also the SYSTEM comments a
user's action wrote), UPDATED_COMMENT and DELETED_COMMENT, filed as ThingsBoard files them under
the alarm itself (entityType ALARM), with the alarm's JSON and the comment's (``actionData.comment``)."""

from django.db.models.signals import post_delete, pre_delete
from django.dispatch import receiver

from audit.context import actor, scratch
from audit.models import ActionType
from audit.services import record
from rulechains.alarm_comments import comment_json
from rulechains.alarms import alarm_json
from rulechains.models import Alarm, AlarmComment
from rulechains.signals import alarm_action, alarm_comment_action
from tenants.deletion import deletion_started
from tenants.models import Tenant

__all__ = ["ACTIONS"]

#: the alarm_action signal's actions that are audit action types
ACTIONS = {ActionType.ALARM_ACK, ActionType.ALARM_CLEAR, ActionType.ALARM_ASSIGNED, ActionType.ALARM_UNASSIGNED}
_TENANTS = "alarm-tenants"  # the scratch key of tenants being deleted (their log goes too)


def _record(user, alarm: Alarm, action: str) -> None:
    record(user, tenant_id=alarm.tenant_id, entity_type=alarm.originator_type, entity_id=alarm.originator_id,
           entity_name=alarm.type, action_type=action, entity=alarm_json(alarm))


def _tenant_user(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.tenant_id is not None


@receiver(alarm_action, sender=Alarm, dispatch_uid="audit.alarm_action")
def _alarm_action(sender, alarms, action, user=None, **kwargs) -> None:
    if action not in ACTIONS or not _tenant_user(user):
        return
    for alarm in alarms:
        if alarm.tenant_id == user.tenant_id:
            _record(user, alarm, action)


@receiver(alarm_comment_action, sender=AlarmComment, dispatch_uid="audit.alarm_comment_action")
def _alarm_comment_action(sender, comment, action, user=None, **kwargs) -> None:
    alarm = comment.alarm
    if not _tenant_user(user) or alarm.tenant_id != user.tenant_id:
        return
    record(user, tenant_id=alarm.tenant_id, entity_type="ALARM", entity_id=alarm.pk, entity_name=alarm.type,
           action_type=action, entity=alarm_json(alarm), extra={"comment": comment_json(comment)})


@receiver(pre_delete, sender=Tenant, dispatch_uid="audit.alarms.tenant_deleting")
@receiver(deletion_started, sender=Tenant, dispatch_uid="audit.alarms.tenant_deletion_started")  # its batched deletion
def _tenant_deleting(sender, instance, **kwargs) -> None:
    scratch().setdefault(_TENANTS, set()).add(instance.pk)


@receiver(post_delete, sender=Alarm, dispatch_uid="audit.alarm_deleted")
def _alarm_deleted(sender, instance: Alarm, **kwargs) -> None:
    user = actor()
    if not _tenant_user(user) or instance.tenant_id != user.tenant_id \
            or instance.tenant_id in scratch().get(_TENANTS, ()):
        return
    _record(user, instance, ActionType.ALARM_DELETE)
