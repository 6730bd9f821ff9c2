"""The edge family, at ThingsBoard's paths:

    POST /api/edge[?entityGroupId]            save (a new edge gets the edge template root and auto-assign chains)
    GET|DELETE /api/edge/{edgeId}             Edge;  GET /api/edge/info/{edgeId}  EdgeInfo
    GET  /api/tenant/edges?type&textSearch...  page (tenant admin);  GET /api/tenant/edge?edgeName=  one
    GET  /api/tenant/edgeInfos, /api/edgeInfos/all[?includeCustomers], /api/customer/{id}/edgeInfos  EdgeInfo pages
    GET  /api/customer/{customerId}/edges, /api/user/edges, /api/edges?pageSize... (PE: what the caller sees)
    GET  /api/edges?edgeIds=, /api/edges/list?edgeIds=   the visible ones among those ids
    POST /api/edges                           EdgeSearchQuery {parameters, relationType, edgeTypes}
    GET  /api/edge/types                      EntitySubtype per edge type of the tenant
    POST /api/edge/bulk_import                BulkImportRequest (CSV) -> BulkImportResult (edges/bulk_import.py)
"""

from django.http import Http404
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from devices.api.lookups import visible_customer
from devices.api.relation_queries import search_body
from devices.api.telemetry import TelemetryView
from edges import services
from edges.api.serializers import EdgeInfoSerializer, EdgeSerializer
from edges.bulk_import import bulk_import
from edges.models import Edge
from tbproject.api.ids import entity_id, parse_id_list, parse_uuid
from tbproject.api.params import bool_param, required_param
from tbproject.api.permissions import IsTenantAdmin, IsTenantUser
from tbproject.api.resources import EntityResource

__all__ = ["EdgeResource", "InfoDetailView", "InfoListView", "ByNameView", "CustomerListView", "EdgesView",
           "TypesView", "BulkImportView"]


class EdgeResource(EntityResource):
    model = Edge
    serializer_class = EdgeSerializer
    search_lookup = "icontains"
    sort_fields = {"createdTime": "created_time", "name": "name", "type": "type", "label": "label",
                   "customerTitle": "customer__title", "ownerName": "customer__title"}
    duplicate_message = "Edge with such name already exists!"

    def get_queryset(self):
        return super().get_queryset().select_related("customer", "tenant")

    def filter_list(self, queryset):
        kind = self.request.query_params.get("type")
        return queryset.filter(type=kind) if kind else queryset

    def render_info(self, objects, many=False):
        return EdgeInfoSerializer(objects, many=many, context={"request": self.request}).data

    def before_save(self, serializer) -> None:
        self._created = serializer.instance is None

    def after_save(self, obj) -> None:
        if self._created:
            services.set_up_new_edge(obj)


class InfoDetailView(EdgeResource):
    permission_classes = [IsTenantUser]

    def get(self, request, pk):
        return Response(self.render_info(self.get_object(pk)))


class InfoListView(EdgeResource):
    """``scope``: "all" (the caller's own; a tenant admin adds customers' with includeCustomers=true),
    "tenant" (every edge of the tenant), "customer" (one customer's)."""

    permission_classes = [IsTenantUser]
    scope = "all"

    def get(self, request, customer_id=None):
        queryset = self.filter_list(self.get_queryset())
        if self.scope == "customer":
            queryset = queryset.filter(customer=visible_customer(request.user, customer_id))
        elif self.scope == "all" and request.user.customer_id is None:
            if not bool_param(request.query_params, "includeCustomers", False):
                queryset = queryset.filter(customer__isnull=True)
        return Response(self.page(queryset, render=self.render_info))


class ByNameView(EdgeResource):
    permission_classes = [IsTenantAdmin]

    def get(self, request):
        obj = self.get_queryset().filter(name=required_param(request.query_params, "edgeName")).first()
        if obj is None:
            raise Http404("Requested edge wasn't found!")
        return Response(self.render(obj))


class CustomerListView(EdgeResource):
    permission_classes = [IsTenantUser]

    def get(self, request, customer_id):
        customer = visible_customer(request.user, customer_id)
        return Response(self.page(self.filter_list(self.get_queryset().filter(customer=customer))))


class EdgesView(EdgeResource, TelemetryView):
    """``GET /api/edges``: by ids (?edgeIds=) or a page of what the caller sees; ``POST``: by relation query."""

    permission_classes = [IsTenantUser]

    def get(self, request):
        if "edgeIds" in request.query_params:
            ids = parse_id_list(request.query_params, "edgeIds")
            found = {obj.pk: obj for obj in self.get_queryset().filter(pk__in=ids)}
            return Response(self.render([found[i] for i in dict.fromkeys(ids) if i in found], many=True))
        return Response(self.page(self.filter_list(self.get_queryset())))

    def post(self, request):
        found, direction = search_body(self, request.data)
        rel_type, types = request.data.get("relationType"), request.data.get("edgeTypes") or []
        if rel_type is not None and not isinstance(rel_type, str):
            raise ValidationError("'relationType' must be a string")
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise ValidationError("'edgeTypes' must be a list of strings")
        ends = [(r.to_type, r.to_id) if direction == "FROM" else (r.from_type, r.from_id) for r in found
                if not rel_type or r.type == rel_type]
        rows = self.get_queryset().filter(pk__in=[pk for kind, pk in ends if kind == "EDGE"])
        return Response(self.render([row for row in rows if not types or row.type in types], many=True))


class TypesView(EdgeResource):
    permission_classes = [IsTenantUser]

    def get(self, request):
        names = self.get_queryset().order_by("type").values_list("type", flat=True).distinct()
        tenant = entity_id("TENANT", request.user.tenant_id)
        return Response([{"tenantId": tenant, "entityType": "EDGE", "type": name} for name in names])


class BulkImportView(EdgeResource):
    permission_classes = [IsTenantAdmin]

    def post(self, request):
        return Response(bulk_import(self, request.data))


def visible_edge(request, raw_id) -> Edge:
    """The path's edge, if the caller sees it (another tenant's or customer's: 404)."""
    edge = Edge.objects.for_user(request.user).filter(pk=parse_uuid(raw_id)).first()
    if edge is None:
        raise Http404(f"Edge with id [{raw_id!s:.64}] is not found")
    return edge
