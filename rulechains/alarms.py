"""Alarms: raising, updating, clearing and acknowledging, and ThingsBoard's Alarm/AlarmInfo JSON.

    raise_alarm(tenant_id, originator, alarm_type, severity, details, now, ...) -> (alarm, created)
    clear(alarm, details, now) / acknowledge(alarm, now)
    alarm_json(alarm, names=None)   # AlarmInfo when ``names`` (originator name/label) is given

The rule nodes (rulechains/nodes/alarms.py) and the API (rulechains/api/alarms.py) both go
through here. Acknowledging or clearing through the API sends ThingsBoard's ``ALARM_ACK`` /
``ALARM_CLEAR`` message (data: the alarm's JSON, originator: the alarm's) to the rule engine
(:func:`announce`).
"""

from devices.models import Asset, Device
from rulechains.models import Alarm, AlarmSeverity
from tbproject.api.ids import entity_id
from tenants.models import Customer

__all__ = ["latest", "raise_alarm", "clear", "acknowledge", "alarm_json", "originator_names", "announce",
           "SEVERITIES", "ORIGINATOR_MODELS"]

SEVERITIES = tuple(AlarmSeverity.values)
ORIGINATOR_MODELS = {"DEVICE": Device, "ASSET": Asset, "CUSTOMER": Customer}


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


def raise_alarm(tenant_id, originator_type: str, originator_id, alarm_type: str, severity: str, details, now: int,
                *, start_ts: int | None = None, propagation: dict | None = None) -> tuple[Alarm, bool]:
    """Update the originator's active alarm of this type, or create one (True) when there is none
    or the latest is cleared."""
    propagation = propagation or {}
    current = latest(tenant_id, originator_id, alarm_type)
    if current is not None and not current.cleared:
        current.severity, current.details, current.end_ts = severity, details, now
        for field, value in propagation.items():
            setattr(current, field, value)
        current.save()
        return current, False
    start = start_ts or now
    alarm = Alarm.objects.create(
        tenant_id=tenant_id, customer_id=_customer_of(tenant_id, originator_type, originator_id),
        originator_type=originator_type, originator_id=originator_id, type=alarm_type, severity=severity,
        details=details, start_ts=start, end_ts=start, created_time=now, **propagation)
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


def originator_names(alarms) -> dict:
    """{originator id: (name, label)} for the alarms' originators, one query per entity type."""
    wanted: dict[str, set] = {}
    for alarm in alarms:
        wanted.setdefault(alarm.originator_type, set()).add(alarm.originator_id)
    names = {}
    for kind, ids in wanted.items():
        model = ORIGINATOR_MODELS.get(kind)
        if model is None:
            continue
        field = "title" if model is Customer else "name"
        label = "title" if model is Customer else "label"
        names.update({pk: (name, lbl) for pk, name, lbl in model.objects.filter(pk__in=ids).values_list(
            "pk", field, label)})
    return names


def alarm_json(alarm: Alarm, names: dict | None = None) -> dict:
    """ThingsBoard's Alarm JSON; with ``names`` (see originator_names) the AlarmInfo fields too."""
    body = {
        "id": entity_id("ALARM", alarm.pk), "createdTime": alarm.created_time,
        "tenantId": entity_id("TENANT", alarm.tenant_id),
        "customerId": entity_id("CUSTOMER", alarm.customer_id),
        "type": alarm.type, "originator": entity_id(alarm.originator_type, alarm.originator_id),
        "severity": alarm.severity, "acknowledged": alarm.acknowledged, "cleared": alarm.cleared,
        "assigneeId": None, "startTs": alarm.start_ts, "endTs": alarm.end_ts, "ackTs": alarm.ack_ts,
        "clearTs": alarm.clear_ts, "assignTs": 0, "details": alarm.details, "propagate": alarm.propagate,
        "propagateToOwner": alarm.propagate_to_owner, "propagateToOwnerHierarchy": False,
        "propagateToTenant": alarm.propagate_to_tenant, "propagateRelationTypes": alarm.propagate_relation_types,
        "name": alarm.type, "status": alarm.status,
    }
    if names is not None:
        name, label = names.get(alarm.originator_id, (None, None))
        body.update(originatorName=name, originatorLabel=label or None,
                    originatorDisplayName=label or name, assignee=None)
    return body


def announce(alarm: Alarm, msg_type: str) -> None:
    """Queue ``msg_type`` (ALARM_ACK, ALARM_CLEAR) about ``alarm`` for the rule engine."""
    from rulechains import services
    from rulechains.messages import Msg

    services.submit([Msg(msg_type, alarm.tenant_id, alarm.originator_type, alarm.originator_id, alarm_json(alarm),
                         {})])
