"""Alarm endpoints at ThingsBoard's paths (tenant admins, and customer users for their customer's
alarms; another tenant's alarm or entity is a 404):

    GET    /api/alarm/{alarmId}                      Alarm
    GET    /api/alarm/info/{alarmId}                 AlarmInfo (with the originator's name and label)
    POST   /api/alarm/{alarmId}/ack                  acknowledge; AlarmInfo
    POST   /api/alarm/{alarmId}/clear                clear; AlarmInfo
    DELETE /api/alarm/{alarmId}                      true (the ALARM resource's DELETE)
    GET    /api/alarm/{entityType}/{entityId}?pageSize&page&searchStatus&status&assigneeId&textSearch
           &sortProperty&sortOrder&startTime&endTime&fetchOriginator   PageData of AlarmInfo, newest first
    GET    /api/alarms?...                           the same over all the caller's alarms

An entity's list holds, as ThingsBoard's does, the alarms it raised and those propagated to it
(rulechains/alarm_propagation.py); ``entityType`` is DEVICE, ASSET, ENTITY_VIEW, CUSTOMER or TENANT
(the caller's own tenant, for tenant administrators).

A customer user also reads the alarms of the entities a group shared with it lets it read (READ in the
group's roles, roles/group_access.py): raised on them, or propagated to them (their EntityAlarm rows) when the
alarm is the tenant's or its own customer's. A propagation grants READ only. Every change to an alarm (ack,
clear, assign, unassign, comments, update; delete) needs, on an originator it reaches only through shared
groups, WRITE (delete: DELETE) in those groups' roles, as ThingsBoard checks the ALARM resource's operation on
the originator: a READ share, or an alarm read only through a propagation, answers 403 and changes nothing.
Its own customer's alarms: its authority, and for a delete its roles' ALARM DELETE ("Customer Administrator";
"Customer User" has none).
"""

from dataclasses import replace

from django.db.models import Q
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import SAFE_METHODS
from rest_framework.response import Response
from rest_framework.views import APIView

from roles import group_access
from roles.rights import rights_of
from rulechains import alarms
from rulechains.models import Alarm
from tbproject.api.ids import parse_uuid
from tbproject.api.pagination import page_data, page_request
from tbproject.api.params import choice_param, ms_param
from tbproject.api.permissions import IsTenantUser
from tbproject.clock import now_ms
from tenants.choices import Authority

__all__ = ["AlarmView", "AlarmInfoView", "AckView", "ClearView", "EntityAlarmsView", "AllAlarmsView"]

NO_PERMISSION = "You don't have permission to perform this operation!"
SEARCH_STATUSES = ("ANY", "ACTIVE", "CLEARED", "ACK", "UNACK")
STATUSES = ("ACTIVE_UNACK", "ACTIVE_ACK", "CLEARED_UNACK", "CLEARED_ACK")
SORT_FIELDS = {"createdTime": "created_time", "startTs": "start_ts", "endTs": "end_ts", "ackTs": "ack_ts",
               "clearTs": "clear_ts", "type": "type", "severity": "severity", "status": "cleared",
               "assignTs": "assign_ts"}
_SEARCH = {"ACTIVE": Q(cleared=False), "CLEARED": Q(cleared=True), "ACK": Q(acknowledged=True),
           "UNACK": Q(acknowledged=False)}


def _infos(rows) -> list[dict]:
    names = alarms.originator_names(rows)
    return [alarms.alarm_json(a, names) for a in rows]


class _AlarmResource(APIView):
    permission_classes = [IsTenantUser]

    def alarm(self, pk, operation: str | None = None) -> Alarm:
        """A visible alarm (else 404); a change (``operation``: by default READ for GET, else WRITE) needs that
        operation where shared groups decide on the originator (else 403)."""
        user = self.request.user
        alarm = Alarm.objects.for_user(user).filter(pk=parse_uuid(pk)).first()
        if alarm is None:
            raise NotFound(f"Alarm with id [{pk}] is not found")
        operation = operation or ("READ" if self.request.method in SAFE_METHODS else "WRITE")
        if operation != "READ" and group_access.row_decides(user, operation, alarm) is False:
            raise PermissionDenied(NO_PERMISSION)
        return alarm

    def info(self, alarm: Alarm) -> dict:
        return alarms.alarm_json(alarm, alarms.originator_names([alarm]))


class AlarmView(_AlarmResource):
    def get(self, request, pk):
        return Response(alarms.alarm_json(self.alarm(pk)))

    def delete(self, request, pk):
        alarm = self.alarm(pk, "DELETE")
        user = request.user
        if user.authority == Authority.CUSTOMER_USER and not rights_of(user).allows("ALARM", "DELETE") and \
                group_access.row_decides(user, "DELETE", alarm) is not True:
            raise PermissionDenied(NO_PERMISSION)  # tenant administrators: roles/enforcement.py's table
        alarm.delete()
        return Response(True)


class AlarmInfoView(_AlarmResource):
    def get(self, request, pk):
        return Response(self.info(self.alarm(pk)))


class AckView(_AlarmResource):
    def post(self, request, pk):
        alarm = self.alarm(pk)
        if not alarms.acknowledge(alarm, now_ms()):
            raise ValidationError("Alarm was already acknowledged!")
        alarms.announce(alarm, "ALARM_ACK", request.user)
        return Response(self.info(alarm))


class ClearView(_AlarmResource):
    def post(self, request, pk):
        alarm = self.alarm(pk)
        if not alarms.clear(alarm, None, now_ms()):
            raise ValidationError("Alarm was already cleared!")
        alarms.announce(alarm, "ALARM_CLEAR", request.user)
        return Response(self.info(alarm))


class AllAlarmsView(_AlarmResource):
    def get(self, request):
        return Response(self.page(Alarm.objects.for_user(request.user)))

    def page(self, queryset) -> dict:
        params = self.request.query_params
        search = choice_param(params, "searchStatus", SEARCH_STATUSES)
        status = choice_param(params, "status", STATUSES)
        if search in _SEARCH:
            queryset = queryset.filter(_SEARCH[search])
        if status:
            queryset = queryset.filter(cleared=status.startswith("CLEARED"), acknowledged=status.endswith("_ACK"))
        if params.get("assigneeId"):
            queryset = queryset.filter(assignee_id=parse_uuid(params["assigneeId"]))
        start, end = ms_param(params, "startTime"), ms_param(params, "endTime")
        if start is not None:
            queryset = queryset.filter(created_time__gte=start)
        if end is not None:
            queryset = queryset.filter(created_time__lte=end)
        req = page_request(params)
        if req.text_search:  # ThingsBoard: substring of the type, severity or status
            text = req.text_search
            queryset = queryset.filter(Q(type__icontains=text) | Q(severity__icontains=text))
        if not req.sort_property:
            queryset = queryset.order_by("-created_time", "-pk")
        queryset = queryset.select_related("assignee")
        return page_data(queryset, replace(req, text_search=""), search_field="type", sort_fields=SORT_FIELDS,
                         render=_infos)


class EntityAlarmsView(AllAlarmsView):
    def get(self, request, entity_type, entity_id):
        return Response(self.page(self.entity_alarms(entity_type, entity_id)))

    def entity_alarms(self, entity_type: str, entity_id: str):
        """The caller's alarms listed for a visible entity: raised on it or propagated to it."""
        pk = self.originator(entity_type, entity_id, tenant=True)
        user = self.request.user
        return alarms.of_entity(Alarm.objects.for_user(user), user.tenant_id, pk)

    def originator(self, entity_type: str, entity_id: str, *, tenant: bool = False):
        """The id of a visible entity alarms may be raised on (with ``tenant``, or listed for: the
        caller's tenant too); 400 for another type, 404 if unseen."""
        kind, user = entity_type.upper(), self.request.user
        model = alarms.ORIGINATOR_MODELS.get(kind)
        if model is None and not (tenant and kind == "TENANT"):
            supported = [*alarms.ORIGINATOR_MODELS, *(["TENANT"] if tenant else [])]
            raise ValidationError(f"Unsupported entity type: {entity_type:.32}. Supported: {', '.join(supported)}")
        pk = parse_uuid(entity_id)
        if model is None:
            seen = pk == user.tenant_id and user.authority == Authority.TENANT_ADMIN
        else:
            seen = model.objects.for_user(user).filter(pk=pk).exists()
        if not seen:
            raise NotFound(f"{kind.replace('_', ' ').capitalize()} with id [{pk}] is not found")
        if not tenant and not group_access.user_may(user, kind, "WRITE", pk):
            raise PermissionDenied(NO_PERMISSION)  # a READ share
        return pk
