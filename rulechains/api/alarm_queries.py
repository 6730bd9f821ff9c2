"""More of ThingsBoard's alarm reads:

    GET /api/alarm/types?pageSize&page&textSearch&sortOrder            PageData of EntitySubtype
    GET /api/alarm/highestSeverity/{entityType}/{entityId}?searchStatus&status&assigneeId
                                                                      "CRITICAL"..., or null when none
    GET /api/v2/alarm/{entityType}/{entityId}?statusList&severityList&typeList&...   PageData of AlarmInfo
    GET /api/v2/alarms?...                                            the same over all the caller's alarms

Entities and alarms are those the caller sees (another tenant's or customer's entity is a 404);
an entity's alarms are those it raised and those propagated to it, as in rulechains/api/alarms.py.
"""

from django.db.models import Q
from django.http import HttpResponse
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from rulechains import alarms
from rulechains.api.alarms import SEARCH_STATUSES, STATUSES, AllAlarmsView, EntityAlarmsView, _AlarmResource
from rulechains.models import Alarm
from tbproject.api.ids import entity_id, parse_uuid
from tbproject.api.pagination import page_request
from tbproject.api.params import choice_param

__all__ = ["AlarmTypesView", "HighestSeverityView", "AllAlarmsV2View", "EntityAlarmsV2View"]


def _list_param(params, name: str, allowed) -> list[str]:
    values = [v.strip().upper() for raw in params.getlist(name) for v in raw.split(",") if v.strip()]
    bad = [v for v in values if allowed is not None and v not in allowed]
    if bad:
        raise ValidationError(f"Invalid {name} value: {bad[0]:.32}. Supported: {', '.join(allowed)}")
    return values


class AlarmTypesView(_AlarmResource):
    def get(self, request):
        req = page_request(request.query_params)
        types = Alarm.objects.for_user(request.user).values_list("type", flat=True).distinct()
        names = sorted({t for t in types if req.text_search.lower() in t.lower()}, reverse=req.sort_order == "DESC")
        chunk = names[req.page * req.page_size:(req.page + 1) * req.page_size]
        total_pages = -(-len(names) // req.page_size)
        tenant = entity_id("TENANT", request.user.tenant_id)
        return Response({"data": [{"tenantId": tenant, "entityType": "ALARM", "type": t} for t in chunk],
                         "totalPages": total_pages, "totalElements": len(names),
                         "hasNext": req.page + 1 < total_pages})


class HighestSeverityView(EntityAlarmsView):
    def get(self, request, entity_type, entity_id):
        rows = self.entity_alarms(entity_type, entity_id)
        if request.query_params.get("assigneeId"):
            rows = rows.filter(assignee_id=parse_uuid(request.query_params["assigneeId"]))
        search = choice_param(request.query_params, "searchStatus", SEARCH_STATUSES)
        status = choice_param(request.query_params, "status", STATUSES)
        if search in ("ACTIVE", "CLEARED", "ACK", "UNACK"):
            rows = rows.filter(cleared=search == "CLEARED") if search in ("ACTIVE", "CLEARED") else \
                rows.filter(acknowledged=search == "ACK")
        if status:
            rows = rows.filter(cleared=status.startswith("CLEARED"), acknowledged=status.endswith("_ACK"))
        present = set(rows.values_list("severity", flat=True).distinct())
        highest = next((s for s in alarms.SEVERITIES if s in present), None)
        # JSON null, not an empty body: the generated client cannot parse an empty one as a severity
        return Response(highest) if highest else HttpResponse("null", content_type="application/json")


class AllAlarmsV2View(AllAlarmsView):
    def get(self, request):
        return Response(self.page(self.narrowed(Alarm.objects.for_user(request.user))))

    def narrowed(self, rows):
        params = self.request.query_params
        statuses = set(_list_param(params, "statusList", ("ACTIVE", "CLEARED", "ACK", "UNACK")))
        if statuses & {"ACTIVE", "CLEARED"} and not {"ACTIVE", "CLEARED"} <= statuses:
            rows = rows.filter(cleared="CLEARED" in statuses)
        if statuses & {"ACK", "UNACK"} and not {"ACK", "UNACK"} <= statuses:
            rows = rows.filter(acknowledged="ACK" in statuses)
        severities = _list_param(params, "severityList", alarms.SEVERITIES)
        if severities:
            rows = rows.filter(severity__in=severities)
        types = [t.strip() for raw in params.getlist("typeList") for t in raw.split(",") if t.strip()]
        return rows.filter(Q(type__in=types)) if types else rows


class EntityAlarmsV2View(AllAlarmsV2View, EntityAlarmsView):
    def get(self, request, entity_type, entity_id):
        return Response(self.page(self.narrowed(self.entity_alarms(entity_type, entity_id))))
