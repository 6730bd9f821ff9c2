"""ThingsBoard's QueueStatsController: the rule-engine queue statistics entities (rulechains/queue_stats.py
makes them as the worker runs each tenant's messages).

    GET /api/queueStats?pageSize&page&textSearch&sortProperty&sortOrder   PageData of QueueStats (textSearch:
                                                                          in the queue name or the service id)
    GET /api/queueStats/list?queueStatsIds=a,b                            the visible ones, in request order
    GET /api/queueStats/{queueStatsId}

QueueStats: {id {entityType: QUEUE_STATS}, createdTime, tenantId, queueName, serviceId}. A tenant
administrator sees its tenant's, the system administrator every tenant's; customer users none (403).
"""

from dataclasses import replace

from django.db.models import Q
from django.urls import path
from rest_framework.exceptions import NotFound, PermissionDenied
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from rulechains.queue_stats_models import QueueStats
from tbproject.api.ids import entity_id, parse_id_list, parse_uuid
from tbproject.api.pagination import page_data, page_request
from tbproject.api.permissions import RoleChecked
from tenants.choices import Authority

__all__ = ["render", "urlpatterns"]

_SORT = {"createdTime": "created_time", "queueName": "queue_name", "serviceId": "service_id"}


def render(row: QueueStats) -> dict:
    return {"id": entity_id("QUEUE_STATS", row.pk), "createdTime": row.created_time,
            "tenantId": entity_id("TENANT", row.tenant_id), "queueName": row.queue_name,
            "serviceId": row.service_id}


class _View(APIView):
    permission_classes = [IsAuthenticated, RoleChecked]

    def check_permissions(self, request):
        super().check_permissions(request)
        if request.user.authority not in (Authority.SYS_ADMIN, Authority.TENANT_ADMIN):
            raise PermissionDenied("You don't have permission to perform this operation!")

    def rows(self):
        return QueueStats.objects.for_user(self.request.user)


class QueueStatsListView(_View):
    def get(self, request):
        req = page_request(request.query_params)
        rows = self.rows().order_by("created_time", "pk")
        if req.text_search:  # ThingsBoard's: the queue name or the service id
            rows = rows.filter(Q(queue_name__icontains=req.text_search) | Q(service_id__icontains=req.text_search))
        return Response(page_data(rows, replace(req, text_search=""), search_field="queue_name", sort_fields=_SORT,
                                  render=lambda rows: [render(r) for r in rows]))


class QueueStatsByIdsView(_View):
    def get(self, request):
        ids = parse_id_list(request.query_params, "queueStatsIds")
        found = {r.pk: r for r in self.rows().filter(pk__in=ids)}
        return Response([render(found[i]) for i in dict.fromkeys(ids) if i in found])


class QueueStatsDetailView(_View):
    def get(self, request, pk):
        row = self.rows().filter(pk=parse_uuid(pk)).first()
        if row is None:
            raise NotFound(f"Queue stats with id [{pk}] is not found")
        return Response(render(row))


urlpatterns = [
    path("queueStats", QueueStatsListView.as_view(), name="queueStats-list"),
    path("queueStats/list", QueueStatsByIdsView.as_view(), name="queueStats-by-ids"),
    path("queueStats/<str:pk>", QueueStatsDetailView.as_view(), name="queueStats-detail"),
]
