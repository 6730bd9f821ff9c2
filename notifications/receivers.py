"""What makes notification rules fire (connected in apps.py).

- ALARM: every save of an Alarm row, wherever it comes from (the rule engine's create/clear
  nodes, the alarm API, the admin). ``rulechains.signals.alarm_action`` is sent only for the API's
  acknowledge/clear/assign, not for alarms the rule engine raises or clears, so the row's own
  post_save is what sees them all: a created row is CREATED, and the values it was loaded with
  (kept at post_init, no query) tell SEVERITY_CHANGED, ACKNOWLEDGED and CLEARED apart.
- ALARM_ASSIGNMENT: ``alarm_action`` with ALARM_ASSIGNED / ALARM_UNASSIGNED.
- ALARM_COMMENT: ``alarm_comment_action`` with ADDED_COMMENT / UPDATED_COMMENT.
- A notification rule saved or deleted: the cache of tenants with rules is forgotten, and a deleted
  or disabled rule's escalations still scheduled are deleted (notifications/rules.py).
"""

from django.db.models.signals import post_delete, post_init, post_save, pre_delete

from notifications.models import NotificationRule
from notifications.rules import Event, drop_escalations, forget_rules, person_params, queue
from rulechains.models import Alarm, AlarmComment
from rulechains.signals import alarm_action, alarm_comment_action

__all__ = ["connect"]

_ASSIGNMENT = {"ALARM_ASSIGNED": "ASSIGNED", "ALARM_UNASSIGNED": "UNASSIGNED"}


def _remember(sender, instance, **kwargs) -> None:
    values = instance.__dict__  # never a deferred field's query
    instance._notification_seen = (values.get("severity"), values.get("acknowledged"), values.get("cleared"))


def _alarm_saved(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if raw:
        return
    before = getattr(instance, "_notification_seen", None)
    _remember(sender, instance)
    if created or before is None:
        if created:
            queue(Event("ALARM", instance, "CREATED"))
        return
    severity, acknowledged, cleared = before
    if instance.severity != severity:
        queue(Event("ALARM", instance, "SEVERITY_CHANGED"))
    if instance.acknowledged and not acknowledged:
        queue(Event("ALARM", instance, "ACKNOWLEDGED"))
    if instance.cleared and not cleared:
        queue(Event("ALARM", instance, "CLEARED"))


def _assignment(sender, alarms, action, user=None, deleted=None, **kwargs) -> None:
    if action not in _ASSIGNMENT:
        return
    for alarm in alarms:
        assignee = alarm.assignee if alarm.assignee_id else deleted
        params = {**person_params("assignee", assignee), **person_params("user", user)}
        queue(Event("ALARM_ASSIGNMENT", alarm, _ASSIGNMENT[action], params,
                    affected_user_id=getattr(assignee, "pk", None)))


def _comment(sender, comment, action, user=None, **kwargs) -> None:
    if action not in ("ADDED_COMMENT", "UPDATED_COMMENT"):
        return
    text = comment.comment.get("text") if isinstance(comment.comment, dict) else None
    params = {"comment": str(text or ""), **person_params("user", user)}
    queue(Event("ALARM_COMMENT", comment.alarm, action, params, affected_user_id=comment.alarm.assignee_id,
                user_comment=comment.type == "OTHER"))


def connect() -> None:
    from notifications import report_delivery, trigger_receivers

    trigger_receivers.connect()
    report_delivery.connect()
    post_init.connect(_remember, sender=Alarm, dispatch_uid="notifications.alarm_seen")
    post_save.connect(_alarm_saved, sender=Alarm, dispatch_uid="notifications.alarm_saved")
    alarm_action.connect(_assignment, sender=Alarm, dispatch_uid="notifications.alarm_assignment")
    alarm_comment_action.connect(_comment, sender=AlarmComment, dispatch_uid="notifications.alarm_comment")
    post_save.connect(forget_rules, sender=NotificationRule, dispatch_uid="notifications.rule_saved")
    post_delete.connect(forget_rules, sender=NotificationRule, dispatch_uid="notifications.rule_deleted")
    post_save.connect(drop_escalations, sender=NotificationRule, dispatch_uid="notifications.rule_disabled")
    pre_delete.connect(drop_escalations, sender=NotificationRule, dispatch_uid="notifications.rule_deleting")
