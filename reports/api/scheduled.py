"""GET /api/scheduledReports?pageSize&page[&reportTemplateId&userId&includeCustomers&textSearch&sortProperty
&sortOrder]: the scheduler events of type ``generateReport`` as ThingsBoard's ScheduledReportInfo.

Such an event's message (its ``configuration.msgBody``) is the generate report node's configuration:
``reportTemplateId``, ``userId``, ``timezone`` (``{"entityType", "id"}`` or bare ids), and ``targets`` and
``notificationTemplateId`` to notify; the event fires it into the root rule chain, where a "generate report" node
with "use report config from message" makes the report as a report job and notifies the targets (reports/jobs.py).
"""

import uuid

from rest_framework.response import Response
from rest_framework.views import APIView

from reports.api.common import owned
from reports.api.shapes import owner_of
from reports.models import ReportTemplate
from scheduler.models import SchedulerEvent
from tbproject.api.ids import entity_id, parse_uuid
from tbproject.api.pagination import page_data, page_request
from tbproject.api.permissions import IsTenantUser
from tenants.models import User

__all__ = ["ScheduledReportsView", "GENERATE_REPORT"]

GENERATE_REPORT = "generateReport"
SORT = {"createdTime": "created_time", "name": "name", "customerTitle": "customer__title"}


def _uuid(value):
    raw = value.get("id") if isinstance(value, dict) else value
    try:
        return uuid.UUID(str(raw))
    except (TypeError, ValueError, AttributeError):
        return None


def _body(event) -> dict:
    config = event.configuration if isinstance(event.configuration, dict) else {}
    body = config.get("msgBody")
    return body if isinstance(body, dict) else config


class ScheduledReportsView(APIView):
    permission_classes = [IsTenantUser]

    def get(self, request):
        params = request.query_params
        events = owned(SchedulerEvent.objects.for_user(request.user).filter(type=GENERATE_REPORT)
                       .select_related("customer"), request)
        template_id = parse_uuid(params["reportTemplateId"]) if params.get("reportTemplateId") else None
        user_id = parse_uuid(params["userId"]) if params.get("userId") else None
        if template_id or user_id:  # the ids live in the JSON configuration: filter in Python, page the ids
            keep = [e.pk for e in events
                    if (template_id is None or _uuid(_body(e).get("reportTemplateId")) == template_id)
                    and (user_id is None or _uuid(_body(e).get("userId")) == user_id)]
            events = events.filter(pk__in=keep)
        return Response(page_data(events, page_request(params), search_field="name", sort_fields=SORT,
                                  search_lookup="icontains", render=lambda rows: self.render(rows)))

    def render(self, rows) -> list[dict]:
        bodies = {e.pk: _body(e) for e in rows}
        templates = {t.pk: t.name for t in ReportTemplate.objects.filter(
            tenant_id=self.request.user.tenant_id, pk__in=[_uuid(b.get("reportTemplateId")) for b in bodies.values()
                                                           if _uuid(b.get("reportTemplateId"))])}
        users = {u.pk: u.email for u in User.objects.filter(
            tenant_id=self.request.user.tenant_id, pk__in=[_uuid(b.get("userId")) for b in bodies.values()
                                                           if _uuid(b.get("userId"))])}
        out = []
        for e in rows:
            tid, uid = _uuid(bodies[e.pk].get("reportTemplateId")), _uuid(bodies[e.pk].get("userId"))
            out.append({
                "id": entity_id("SCHEDULER_EVENT", e.pk), "createdTime": e.created_time,
                "additionalInfo": e.additional_info, "tenantId": entity_id("TENANT", e.tenant_id),
                "customerId": entity_id("CUSTOMER", e.customer_id),
                "originatorId": entity_id(e.originator_type, e.originator_id) if e.originator_id else None,
                "name": e.name, "type": e.type, "schedule": e.schedule, "enabled": e.enabled, "version": e.version,
                "templateInfo": {"id": entity_id("REPORT_TEMPLATE", tid), "name": templates[tid]}
                if tid in templates else None,
                "customerTitle": e.customer.title if e.customer_id else None, "userName": users.get(uid),
                "ownerId": owner_of(e)})
        return out
