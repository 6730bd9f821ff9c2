"""``POST /api/alarm``: ThingsBoard's alarm save. Without an ``id`` it raises an alarm on the
originator (updating the active one of that type, as the create-alarm rule node does); with the id
of a visible alarm it updates that alarm's severity and details. Answers the Alarm JSON.
The originator must be an entity the caller sees (else 404). A new alarm's ``propagate``,
``propagateToOwner``, ``propagateToTenant`` and ``propagateRelationTypes`` are kept, and where it
propagates is recorded (rulechains/alarm_propagation.py)."""

from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from rulechains import alarm_comments, alarms
from rulechains.api.alarms import EntityAlarmsView
from tbproject.api.ids import parse_uuid
from tbproject.clock import now_ms

__all__ = ["SaveAlarmView"]


_FLAGS = {"propagate": "propagate", "propagateToOwner": "propagate_to_owner",
          "propagateToTenant": "propagate_to_tenant"}


def _propagation(body: dict) -> dict:
    """The propagation fields the body gives (those it leaves out stay as they are)."""
    found = {}
    for name, field in _FLAGS.items():
        value = body.get(name)
        if value is not None and not isinstance(value, bool):
            raise ValidationError(f"Alarm '{name}' must be true or false")
        if value is not None:
            found[field] = value
    types = body.get("propagateRelationTypes")
    if types is not None and (not isinstance(types, list) or not all(isinstance(t, str) for t in types)):
        raise ValidationError("Alarm 'propagateRelationTypes' must be a JSON array of strings")
    if types is not None:
        found["propagate_relation_types"] = types
    return found


def _text(body: dict, name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise ValidationError(f"Alarm '{name}' should be specified!")
    return value.strip()


class SaveAlarmView(EntityAlarmsView):
    http_method_names = ["post", "options"]  # the entity list's GET is not this route's

    def post(self, request):
        body = request.data
        if not isinstance(body, dict):
            raise ValidationError("Request body must be a JSON object")
        severity = body.get("severity") or "CRITICAL"
        if severity not in alarms.SEVERITIES:
            supported = ", ".join(alarms.SEVERITIES)
            raise ValidationError(f"Invalid alarm severity: {severity!s:.32}. Supported: {supported}")
        ref = body.get("id")
        if isinstance(ref, dict) and ref.get("id"):
            return Response(alarms.alarm_json(self.updated(self.alarm(ref["id"]), severity, body)))
        originator = body.get("originator")
        if not isinstance(originator, dict) or not originator.get("entityType") or not originator.get("id"):
            raise ValidationError("Alarm originator should be specified!")
        entity_type = str(originator["entityType"]).upper()
        pk = self.originator(entity_type, str(originator["id"]))
        start = body.get("startTs") if isinstance(body.get("startTs"), int) and body["startTs"] > 0 else None
        alarm, _ = alarms.raise_alarm(request.user.tenant_id, entity_type, pk, _text(body, "type"), severity,
                                      body.get("details"), now_ms(), start_ts=start, propagation=_propagation(body),
                                      user=request.user)
        return Response(alarms.alarm_json(alarm))

    def updated(self, alarm, severity: str, body: dict):
        if "type" in body and body["type"] != alarm.type:
            raise ValidationError("Alarm type can't be changed!")
        originator = body.get("originator")
        if isinstance(originator, dict) and originator.get("id"):
            if parse_uuid(originator["id"]) != alarm.originator_id:
                raise ValidationError("Alarm originator can't be changed!")
        old_severity = alarm.severity
        alarm.severity, alarm.details, alarm.end_ts = severity, body.get("details", alarm.details), now_ms()
        alarm.save()
        alarm_comments.severity_changed(alarm, old_severity, self.request.user)
        return alarm
