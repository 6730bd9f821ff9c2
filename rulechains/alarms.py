"""Alarms: raising, updating, clearing and acknowledging, and ThingsBoard's Alarm/AlarmInfo JSON.

    raise_alarm(tenant_id, originator, alarm_type, severity, details, now, ...) -> (alarm, created)
    clear(alarm, details, now) / acknowledge(alarm, now)
    assign(alarm, user, now) / unassign(alarm, now) / unassign_user(user, now)
    alarm_json(alarm, names=None)   # AlarmInfo when ``names`` (see originator_names) is given
    of_entity(rows, tenant_id, entity_id)  # the alarms listed for an entity: its own and those propagated to it
    user_metadata(user)    # the acting user in an ALARM_* message's metadata

The rule nodes (rulechains/nodes/alarms.py) and the API (rulechains/api/alarms.py) both go
through here. Acknowledging, clearing, assigning or unassigning through the API sends
ThingsBoard's ``ALARM_ACK`` / ``ALARM_CLEAR`` / ``ALARM_ASSIGNED`` / ``ALARM_UNASSIGNED`` message
(data: the alarm's JSON, originator: the alarm's, metadata: the acting user's ``userId``,
``userName``, ``userFirstName``, ``userLastName``) to the rule engine (:func:`announce`). Where an
alarm propagates is recorded when it is raised or its propagation changes (rulechains/alarm_propagation.py).
"""

from django.db.models import F

from devices.models import Asset, Device, EntityView
from rulechains import alarm_comments, alarm_propagation
from rulechains.models import Alarm, AlarmSeverity, EntityAlarm
from tbproject.api.ids import entity_id
from tenants.models import Customer, User

__all__ = ["latest", "raise_alarm", "clear", "acknowledge", "assign", "unassign", "unassign_user", "alarm_json",
           "originator_names", "announce", "user_metadata", "of_entity", "SEVERITIES", "ORIGINATOR_MODELS",
           "PROPAGATION_FIELDS"]

SEVERITIES = tuple(AlarmSeverity.values)
ORIGINATOR_MODELS = {"DEVICE": Device, "ASSET": Asset, "ENTITY_VIEW": EntityView, "CUSTOMER": Customer}


def latest(tenant_id, originator_id, alarm_type: str) -> Alarm | None:
    """The newest alarm of this type on the originator (cleared or not)."""
    return (Alarm.objects.filter(tenant_id=tenant_id, originator_id=originator_id, type=alarm_type)
            .order_by("-created_time", "-start_ts").first())


def _customer_of(tenant_id, originator_type: str, originator_id):
    if originator_type == "CUSTOMER":
        return originator_id
    model = ORIGINATOR_MODELS.get(originator_type)
    if model is None:
        return None
    return model.objects.filter(tenant_id=tenant_id, pk=originator_id).values_list("customer_id", flat=True).first()


PROPAGATION_FIELDS = ("propagate", "propagate_to_owner", "propagate_to_tenant", "propagate_relation_types")


def _propagation(alarm: Alarm) -> tuple:
    return tuple(getattr(alarm, name) for name in PROPAGATION_FIELDS)


def _propagate(alarm: Alarm, pending: list | None) -> None:
    if pending is None:
        alarm_propagation.record([alarm])
    else:
        pending.append(alarm)


def _merge(alarm: Alarm, propagation: dict) -> None:
    """Merge a later raise's propagation into an active alarm as ThingsBoard does on update: each
    flag is the OR of old and new, the relation types their union (old ones first), so where an
    alarm once propagated is not withdrawn by a later message."""
    for field in PROPAGATION_FIELDS[:3]:
        if propagation.get(field):
            setattr(alarm, field, True)
    types = list(alarm.propagate_relation_types or ())
    types += [t for t in dict.fromkeys(propagation.get("propagate_relation_types") or ()) if t not in types]
    alarm.propagate_relation_types = types


def raise_alarm(tenant_id, originator_type: str, originator_id, alarm_type: str, severity: str, details, now: int,
                *, start_ts: int | None = None, propagation: dict | None = None,
                pending: list | None = None, user=None) -> tuple[Alarm, bool]:
    """Update the originator's active alarm of this type, or create one (True) when there is none
    or the latest is cleared. An update merges the new ``propagation`` into the alarm's (_merge).
    A new alarm, or one whose propagation changed, has where it propagates recorded; with
    ``pending`` it is appended there instead, for the caller to record a whole batch at once
    (``alarm_propagation.record(pending)``). An update that changes the severity is noted in a
    SYSTEM comment (by ``user``, when a user raised it through the API)."""
    propagation = propagation or {}
    current = latest(tenant_id, originator_id, alarm_type)
    if current is not None and not current.cleared:
        before, old_severity = _propagation(current), current.severity
        current.severity, current.details, current.end_ts = severity, details, now
        _merge(current, propagation)
        current.save()
        alarm_comments.severity_changed(current, old_severity, user)
        if _propagation(current) != before:
            _propagate(current, pending)
        return current, False
    start = start_ts or now
    alarm = Alarm.objects.create(
        tenant_id=tenant_id, customer_id=_customer_of(tenant_id, originator_type, originator_id),
        originator_type=originator_type, originator_id=originator_id, type=alarm_type, severity=severity,
        details=details, start_ts=start, end_ts=start, created_time=now, **propagation)
    _propagate(alarm, pending)
    return alarm, True


def clear(alarm: Alarm, details, now: int) -> bool:
    """Clear an active alarm (``details`` replace the old ones unless None); False if it was cleared."""
    if alarm.cleared:
        return False
    alarm.cleared, alarm.clear_ts = True, now
    if details is not None:
        alarm.details = details
    alarm.save()
    return True


def acknowledge(alarm: Alarm, now: int) -> bool:
    if alarm.acknowledged:
        return False
    alarm.acknowledged, alarm.ack_ts = True, now
    alarm.save()
    return True


def assign(alarm: Alarm, user, now: int) -> bool:
    """Make ``user`` the alarm's assignee (the caller checked they may); False if it already was."""
    if alarm.assignee_id == user.pk:
        return False
    alarm.assignee, alarm.assign_ts = user, now
    alarm.save()
    return True


def unassign(alarm: Alarm, now: int) -> bool:
    if alarm.assignee_id is None:
        return False
    alarm.assignee, alarm.assign_ts = None, now
    alarm.save()
    return True


def unassign_user(user, now: int) -> int:
    """Unassign every alarm of a user about to be deleted (as ThingsBoard does, each an
    ALARM_UNASSIGNED message); returns how many."""
    rows = list(Alarm.objects.filter(tenant_id=user.tenant_id, assignee_id=user.pk))
    if not rows:
        return 0
    Alarm.objects.filter(pk__in=[a.pk for a in rows]).update(assignee=None, assign_ts=now, version=F("version") + 1)
    for alarm in rows:
        alarm.assignee, alarm.assign_ts, alarm.version = None, now, alarm.version + 1
    announce_all(rows, "ALARM_UNASSIGNED", deleted=user)
    return len(rows)


def of_entity(rows, tenant_id, entity_id):
    """The alarms of ``rows`` listed for an entity, as ThingsBoard's per-entity lists answer: those
    it raised and those propagated to it. The two are found apart, each by its own index, and
    their ids joined by a UNION: ``originator = X OR id IN (...)`` makes PostgreSQL scan all the
    tenant's alarms."""
    own = Alarm.objects.filter(tenant_id=tenant_id, originator_id=entity_id).order_by().values("pk")
    spread = EntityAlarm.objects.filter(tenant_id=tenant_id, entity_id=entity_id).order_by().values("alarm_id")
    return rows.filter(pk__in=own.union(spread))


def _assignees(alarms) -> dict:
    ids = {a.assignee_id for a in alarms if a.assignee_id}
    if not ids:
        return {}
    rows = User.objects.filter(pk__in=ids).values_list("pk", "first_name", "last_name", "email")
    return {("assignee", pk): {"id": entity_id("USER", pk), "firstName": first or None, "lastName": last or None,
                               "email": email} for pk, first, last, email in rows}


def originator_names(alarms) -> dict:
    """{originator id: (name, label)} for the alarms' originators, one query per entity type, and
    {("assignee", user id): AlarmAssignee JSON} for their assignees."""
    alarms = list(alarms)
    wanted: dict[str, set] = {}
    for alarm in alarms:
        wanted.setdefault(alarm.originator_type, set()).add(alarm.originator_id)
    names = _assignees(alarms)
    for kind, ids in wanted.items():
        model = ORIGINATOR_MODELS.get(kind)
        if model is None:
            continue
        field = "title" if model is Customer else "name"
        label = "title" if model is Customer else "label" if model in (Device, Asset) else None
        columns = ("pk", field, label) if label else ("pk", field)
        names.update({pk: (name, rest[0] if rest else None) for pk, name, *rest in model.objects.filter(
            pk__in=ids).values_list(*columns)})
    return names


def alarm_json(alarm: Alarm, names: dict | None = None) -> dict:
    """ThingsBoard's Alarm JSON; with ``names`` (see originator_names) the AlarmInfo fields too."""
    body = {
        "id": entity_id("ALARM", alarm.pk), "createdTime": alarm.created_time,
        "tenantId": entity_id("TENANT", alarm.tenant_id),
        "customerId": entity_id("CUSTOMER", alarm.customer_id),
        "type": alarm.type, "originator": entity_id(alarm.originator_type, alarm.originator_id),
        "severity": alarm.severity, "acknowledged": alarm.acknowledged, "cleared": alarm.cleared,
        "assigneeId": entity_id("USER", alarm.assignee_id) if alarm.assignee_id else None,
        "startTs": alarm.start_ts, "endTs": alarm.end_ts, "ackTs": alarm.ack_ts,
        "clearTs": alarm.clear_ts, "assignTs": alarm.assign_ts, "details": alarm.details, "propagate": alarm.propagate,
        "propagateToOwner": alarm.propagate_to_owner, "propagateToOwnerHierarchy": False,
        "propagateToTenant": alarm.propagate_to_tenant, "propagateRelationTypes": alarm.propagate_relation_types,
        "name": alarm.type, "status": alarm.status,
    }
    if names is not None:
        name, label = names.get(alarm.originator_id, (None, None))
        body.update(originatorName=name, originatorLabel=label or None,
                    originatorDisplayName=label or name, assignee=names.get(("assignee", alarm.assignee_id)))
    return body


def user_metadata(user) -> dict:
    """The acting user in an entity-action message's metadata, as ThingsBoard puts it there."""
    if user is None:
        return {}
    return {"userId": str(user.pk), "userName": user.email, "userFirstName": user.first_name or "",
            "userLastName": user.last_name or ""}


def announce(alarm: Alarm, msg_type: str, user=None) -> None:
    """Queue ``msg_type`` (ALARM_ACK, ALARM_CLEAR, ALARM_ASSIGNED...) about ``alarm`` for the rule
    engine; ``user``, who acted, goes in its metadata (none when no user acted)."""
    announce_all([alarm], msg_type, user)


def announce_all(alarms: list[Alarm], msg_type: str, user=None, deleted=None) -> None:
    """announce() for many alarms; ``deleted``: the user being deleted, whose alarms these were."""
    from rulechains import services
    from rulechains.messages import Msg
    from rulechains.signals import alarm_action

    alarm_action.send(sender=Alarm, alarms=alarms, action=msg_type, user=user, deleted=deleted)
    metadata = user_metadata(user)
    services.submit([Msg(msg_type, a.tenant_id, a.originator_type, a.originator_id, alarm_json(a), dict(metadata))
                     for a in alarms])
