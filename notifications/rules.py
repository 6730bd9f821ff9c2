"""Notification rules that fire: ALARM, ALARM_ASSIGNMENT and ALARM_COMMENT triggers.

Events arrive from notifications/receivers.py (an alarm saved, assigned or commented) and are
buffered until the surrounding transaction commits (at once outside one), then handled as a
batch: one query finds the enabled rules of the batch's tenants, one the targets they name, and
recipients are resolved once per target; requests and inbox rows are inserted in bulk
(notifications/delivery.py). A rule firing for thousands of alarms makes no query per recipient.

ALARM (``triggerConfig``: ``alarmTypes``, ``alarmSeverities``, ``notifyOn`` CREATED /
SEVERITY_CHANGED / ACKNOWLEDGED / CLEARED, ``clearRule.alarmStatuses``): each entry of
``recipientsConfig.escalationTable`` ({"delay in seconds": [target ids]}) makes a request, sent at
once for "0" and scheduled for the others (the periodic job sends them). When the alarm reaches a
status of the clear rule, the rule's escalations still scheduled for it are cancelled.

Template parameters of an alarm: ``alarmType``, ``alarmId``, ``alarmSeverity``, ``alarmStatus``,
``alarmOriginatorEntityType``, ``alarmOriginatorId``, ``alarmOriginatorName``,
``alarmOriginatorLabel``, ``action`` (created, severity changed, acknowledged, cleared; assigned,
unassigned; added, updated), and for assignments ``assigneeEmail``/``FirstName``/``LastName``/
``Title`` and ``userEmail``/``FirstName``/``LastName``/``Title`` (who acted), for comments
``comment`` and the commenting user's.
"""

import logging
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models.signals import post_save

from notifications import sending
from notifications.delivery import send_batch
from notifications.models import NotificationRequest, NotificationRule, NotificationTarget, RequestStatus
from tbproject.api.ids import entity_id
from tbproject.clock import now_ms
from tbproject.process_cache import ProcessCache

__all__ = ["Event", "queue", "handle", "alarm_params", "person_params", "tenants_with_rules", "rule_keys",
           "rule_keys_loaded", "forget_rules", "drop_escalations", "TTL_SECONDS"]

log = logging.getLogger(__name__)

_ACTION_TEXT = {"CREATED": "created", "SEVERITY_CHANGED": "severity changed", "ACKNOWLEDGED": "acknowledged",
                "CLEARED": "cleared", "ASSIGNED": "assigned", "UNASSIGNED": "unassigned",
                "ADDED_COMMENT": "added", "UPDATED_COMMENT": "updated"}


@dataclass
class Event:
    trigger: str  # ALARM, ALARM_ASSIGNMENT, ALARM_COMMENT
    alarm: object
    action: str  # CREATED... / ASSIGNED, UNASSIGNED / ADDED_COMMENT, UPDATED_COMMENT
    params: dict = field(default_factory=dict)
    affected_user_id: object = None
    user_comment: bool = True


class _Batch:
    def __init__(self):
        self.events: list[Event] = []
        self.done = False

    def flush(self) -> None:
        events, self.events, self.done = self.events, [], True
        if events:
            _handle_safely(events)


def _handle_safely(events: list) -> None:
    """A failing notification never fails the alarm change (or the rule engine batch) that caused it.
    Alarm events are handled here; the other triggers' (notifications/triggers.py) there."""
    alarms = [e for e in events if isinstance(e, Event)]
    others = [e for e in events if not isinstance(e, Event)]
    try:
        if alarms:
            handle(alarms)
    except Exception:
        log.exception("notification rules failed for %d alarm event(s)", len(alarms))
    try:
        if others:
            from notifications import triggers

            triggers.handle(others)
    except Exception:
        log.exception("notification rules failed for %d event(s)", len(others))


def queue(event: Event) -> None:
    """Handle ``event`` with the others of its transaction once it commits (at once outside one).

    Events are batched per savepoint: each batch's flush is registered with ``on_commit`` inside
    the savepoint its events were queued in, so a rolled-back savepoint (the rule engine runs each
    node in one) drops its events' flush with it, and the outer transaction's other events still
    go. The batches hang on the connection for as long as its list of commit callbacks is the same
    (Django replaces the list on commit, rollback and savepoint rollback: then new batches start)."""
    conn = transaction.get_connection()
    if not conn.in_atomic_block:
        _handle_safely([event])
        return
    state = getattr(conn, "_notification_batches", None)
    if state is None or state[0] is not conn.run_on_commit:
        state = conn._notification_batches = (conn.run_on_commit, {})
    key = tuple(conn.savepoint_ids)
    batch = state[1].get(key)
    if batch is None or batch.done:
        batch = state[1][key] = _Batch()
        transaction.on_commit(batch.flush)
    batch.events.append(event)


def person_params(prefix: str, user) -> dict:
    if user is None:
        return {}
    first, last = user.first_name or "", user.last_name or ""
    return {f"{prefix}Email": user.email, f"{prefix}FirstName": first, f"{prefix}LastName": last,
            f"{prefix}Title": " ".join(p for p in (first, last) if p) or user.email}


def alarm_params(alarm, action: str, names: dict) -> dict:
    name, label = names.get(alarm.originator_id, (None, None))
    return {"alarmType": alarm.type, "alarmId": str(alarm.pk), "alarmSeverity": alarm.severity,
            "alarmStatus": alarm.status, "alarmOriginatorEntityType": alarm.originator_type,
            "alarmOriginatorId": str(alarm.originator_id), "alarmOriginatorName": name or "",
            "alarmOriginatorLabel": label or "", "action": _ACTION_TEXT.get(action, action.lower())}


def _info(alarm, action: str, names: dict, trigger: str) -> dict:
    name, label = names.get(alarm.originator_id, (None, None))
    return {"type": trigger, "action": _ACTION_TEXT.get(action, action.lower()), "alarmId": str(alarm.pk),
            "alarmType": alarm.type, "alarmOriginator": entity_id(alarm.originator_type, alarm.originator_id),
            "alarmOriginatorName": name, "alarmOriginatorLabel": label, "alarmSeverity": alarm.severity,
            "alarmStatus": alarm.status, "acknowledged": alarm.acknowledged, "cleared": alarm.cleared,
            "alarmCustomerId": entity_id("CUSTOMER", alarm.customer_id) if alarm.customer_id else None,
            "stateEntityId": entity_id(alarm.originator_type, alarm.originator_id), "dashboardId": None}


_STATUS_MATCH = {"ANY": lambda a: True, "ACTIVE": lambda a: not a.cleared, "CLEARED": lambda a: a.cleared,
                 "ACK": lambda a: a.acknowledged, "UNACK": lambda a: not a.acknowledged}


def _statuses_match(statuses, alarm) -> bool:
    return not statuses or any(_STATUS_MATCH.get(s, lambda a: False)(alarm) for s in statuses)


def _kind_matches(config: dict, alarm) -> bool:
    """The rule's alarm type and severity filters."""
    if config.get("alarmTypes") and alarm.type not in config["alarmTypes"]:
        return False
    return not (config.get("alarmSeverities") and alarm.severity not in config["alarmSeverities"])


def _matches(rule: NotificationRule, event: Event) -> bool:
    config, alarm = rule.trigger_config or {}, event.alarm
    if event.trigger == "ALARM":
        return event.action in (config.get("notifyOn") or ())
    if not _statuses_match(config.get("alarmStatuses"), alarm):
        return False
    if event.trigger == "ALARM_ASSIGNMENT":
        return event.action in (config.get("notifyOn") or ("ASSIGNED", "UNASSIGNED"))
    if config.get("onlyUserComments") and not event.user_comment:
        return False
    return event.action == "ADDED_COMMENT" or bool(config.get("notifyOnCommentUpdate"))


def _settled(rule: NotificationRule, alarm) -> bool:
    """Whether the alarm reached the rule's clear rule (its escalations still waiting are cancelled)."""
    statuses = ((rule.trigger_config or {}).get("clearRule") or {}).get("alarmStatuses")
    return bool(statuses) and _statuses_match(statuses, alarm)


# --- which tenants have enabled rules: a process cache, so that an alarm of a tenant without rules
# costs no query (forgotten when a rule is saved or deleted in this process; TTL_SECONDS elsewhere)
TTL_SECONDS = 5.0
_RULE_TENANTS = ProcessCache(max_entries=2)


def tenants_with_rules() -> frozenset:
    return _RULE_TENANTS.get_or_load(
        "tenants", lambda: frozenset(NotificationRule.objects.filter(enabled=True)
                                     .values_list("tenant_id", flat=True).distinct()), TTL_SECONDS)


def rule_keys() -> frozenset:
    """(owner tenant id as text, or None for the system's; trigger type) of every enabled rule."""
    return _RULE_TENANTS.get_or_load(
        "keys", lambda: frozenset((str(t) if t else None, kind) for t, kind in NotificationRule.objects.filter(
            enabled=True).values_list("tenant_id", "trigger_type").distinct()), TTL_SECONDS)


def rule_keys_loaded() -> bool:
    """Whether :func:`rule_keys` answers from the process cache (no query)."""
    return _RULE_TENANTS.get("keys") is not None


def forget_rules(*args, **kwargs) -> None:
    """After a rule is saved or deleted (a signal receiver): now and when the transaction commits."""
    _RULE_TENANTS.forget_now_and_on_commit()


def drop_escalations(sender, instance, signal=None, **kwargs) -> None:
    """A deleted (pre_delete) or disabled (post_save) rule's escalations still scheduled are not sent."""
    if signal is post_save and instance.enabled:
        return
    NotificationRequest.objects.filter(rule_id=instance.pk, status=RequestStatus.SCHEDULED).delete()


class _Requests:
    """What a batch makes: requests to send now, scheduled ones, and the escalations to cancel."""

    def __init__(self):
        self.now, self.later, self.cancel = [], [], {}


def _fire(rule, events: list, names: dict, targets: dict, now: int, made: _Requests) -> None:
    config = rule.trigger_config or {}
    settled_ids = []
    for event in events:
        if not _kind_matches(config, event.alarm):
            continue
        settled = event.trigger == "ALARM" and _settled(rule, event.alarm)
        if settled:
            settled_ids.append(event.alarm.pk)
        if not _matches(rule, event):
            continue
        params = {**alarm_params(event.alarm, event.action, names), **event.params}
        context = {"params": params, "recipients": {
            "customer_id": str(event.alarm.customer_id) if event.alarm.customer_id else None,
            "affected_user_id": str(event.affected_user_id) if event.affected_user_id else None}}
        table = (rule.recipients_config or {}).get("escalationTable") or {"0": rule.target_ids()}
        for delay, ids in table.items():
            if settled and int(delay) > 0:
                continue  # the alarm reached the clear rule: no further escalation
            request = NotificationRequest(
                tenant_id=rule.tenant_id, targets=[i for i in ids if i in targets], rule=rule,
                template_ref=rule.template, template=_template_json(rule.template), context=context,
                info=_info(event.alarm, event.action, names, event.trigger), originator_type="ALARM",
                originator_id=event.alarm.pk, created_time=now)
            if int(delay) > 0:
                request.status, request.send_at = RequestStatus.SCHEDULED, now + int(delay) * 1000
                made.later.append(request)
            else:
                made.now.append(request)
    if settled_ids:
        made.cancel[rule.pk] = set(settled_ids)


def handle(events: list[Event]) -> int:
    """Fire the rules the events match; returns how many requests were made. One rule's failure
    (logged) loses only what that rule would have made."""
    tenants = {e.alarm.tenant_id for e in events} & tenants_with_rules()
    if not tenants:
        return 0  # no enabled rule in these tenants (cached): no query
    events = [e for e in events if e.alarm.tenant_id in tenants]
    triggers = {e.trigger for e in events}
    rules = list(NotificationRule.objects.filter(tenant_id__in=tenants, trigger_type__in=triggers, enabled=True)
                 .select_related("template"))
    if not rules:
        return 0
    from rulechains.alarms import originator_names

    names = originator_names([e.alarm for e in events])
    wanted = {t for r in rules for t in r.target_ids()}
    targets = {str(t.pk): t for t in NotificationTarget.objects.filter(tenant_id__in=tenants, pk__in=wanted)}
    now, made = now_ms(), _Requests()
    for rule in rules:
        mine = [e for e in events if e.alarm.tenant_id == rule.tenant_id and e.trigger == rule.trigger_type]
        if not mine:
            continue
        sizes = len(made.now), len(made.later)
        try:
            _fire(rule, mine, names, targets, now, made)
        except Exception:
            del made.now[sizes[0]:], made.later[sizes[1]:]
            made.cancel.pop(rule.pk, None)
            log.exception("notification rule %s failed; the other rules went on", rule.pk)
    for rule_id, alarm_ids in made.cancel.items():  # one filtered DELETE per rule and batch
        NotificationRequest.objects.filter(rule_id=rule_id, originator_id__in=alarm_ids,
                                           status=RequestStatus.SCHEDULED).delete()
    later = [r for r in made.later if r.originator_id not in made.cancel.get(r.rule_id, ())]
    if later:
        NotificationRequest.objects.bulk_create(later, batch_size=500)
    if made.now:
        send_batch(sending.jobs_for(made.now, targets))
    return len(made.now) + len(later)


def _template_json(template) -> dict:
    from notifications.shapes import template_json

    return template_json(template)
