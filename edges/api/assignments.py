"""What is assigned to an edge, at ThingsBoard's paths (another tenant's edge or entity: 404):

    POST|DELETE /api/edge/{edgeId}/ruleChain/{ruleChainId}          RuleChain (type EDGE only)
    POST /api/edge/{edgeId}/{ruleChainId}/root                      Edge (assigns the chain when needed)
    GET  /api/edge/{edgeId}/ruleChains?pageSize...                  page of RuleChain (root: the template root)
    POST|DELETE /api/edge/{edgeId}/entityGroup/{groupId}/{groupType}  EntityGroup
    GET  /api/allEntityGroups/edge/{edgeId}/{groupType}             list;  /api/entityGroups/edge/... page
    POST|DELETE /api/edge/{edgeId}/integration/{integrationId}      Integration (edge templates only)
    GET  /api/edge/{edgeId}/integrations, /integrationInfos         pages
    POST|DELETE /api/edge/{edgeId}/schedulerEvent/{eventId}         SchedulerEventInfo
    GET  /api/edge/{edgeId}/allSchedulerEvents (list), /schedulerEvents (page)
"""

from django.http import Http404
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from devices.api.groups import EntityGroupSerializer
from devices.models import EntityGroup
from edges import services
from edges.api.serializers import EdgeSerializer
from edges.api.views import visible_edge
from edges.models import EdgeAssignment
from integrations.api.serializers import IntegrationInfoSerializer, IntegrationSerializer, recent_stats
from integrations.models import Integration
from rulechains.api.serializers import RuleChainSerializer
from rulechains.models import RuleChain, RuleChainType
from scheduler.api.serializers import SchedulerEventInfoSerializer
from scheduler.models import SchedulerEvent
from tbproject.api.ids import parse_uuid
from tbproject.api.pagination import page_data, page_request
from tbproject.api.permissions import IsTenantAdmin, IsTenantAdminOrReadOnly

__all__ = ["RuleChainAssignView", "RootView", "RuleChainsView", "GroupAssignView", "GroupsView",
           "IntegrationAssignView", "IntegrationsView", "SchedulerAssignView", "SchedulerEventsView"]

LIST_LIMIT = 10_000


class _Kind(APIView):
    """One kind of assignable entity: ``entity_type``, ``model``, ``serializer``; ``search``/``sort_fields``
    for its pages."""

    permission_classes = [IsTenantAdminOrReadOnly]
    entity_type = ""
    model = None
    serializer = None
    search_lookup = "icontains"
    sort_fields = {"createdTime": "created_time", "name": "name"}

    def entity(self, raw_id, **kwargs):
        obj = self.model.objects.for_user(self.request.user).filter(pk=parse_uuid(raw_id)).first()
        if obj is None:
            raise Http404(f"{self.entity_type} with id [{raw_id!s:.64}] is not found")
        self.check(obj, **kwargs)
        return obj

    def check(self, obj, **kwargs) -> None:
        """Hook: refuse (ValidationError) what may not be assigned to edges."""

    def render(self, objects, many=False):
        return self.serializer(objects, many=many, context={"request": self.request}).data

    def assigned(self, edge, **kwargs):
        ids = EdgeAssignment.objects.filter(edge=edge, entity_type=self.entity_type).values("entity_id")
        return self.model.objects.for_user(self.request.user).filter(pk__in=ids)

    def page(self, queryset, render=None):
        render = render or self.render
        return page_data(queryset, page_request(self.request.query_params), search_field="name",
                         search_lookup=self.search_lookup, sort_fields=self.sort_fields,
                         render=lambda rows: render(rows, many=True))


class _AssignView(_Kind):
    """POST assigns, DELETE unassigns; both answer the entity."""

    def post(self, request, edge_id, pk, **kwargs):
        edge = visible_edge(request, edge_id)
        obj = self.entity(pk, **kwargs)
        services.assign(edge, self.entity_type, obj.pk, kwargs.get("group_type", ""))
        return Response(self.render(obj))

    def delete(self, request, edge_id, pk, **kwargs):
        edge = visible_edge(request, edge_id)
        obj = self.entity(pk, **kwargs)
        services.unassign(edge, self.entity_type, obj.pk)
        return Response(self.render(obj))


class _RuleChains(_Kind):
    permission_classes = [IsTenantAdmin]  # rule chains are the tenant administrator's
    entity_type = "RULE_CHAIN"
    model = RuleChain
    serializer = RuleChainSerializer
    sort_fields = {"createdTime": "created_time", "name": "name", "type": "type"}

    def check(self, obj, **kwargs) -> None:
        if obj.type != RuleChainType.EDGE:
            raise ValidationError(f"Rule chain [{obj.name}] is of type {obj.type}: only EDGE rule chains may be "
                                  "assigned to edges")


class RuleChainAssignView(_AssignView, _RuleChains):
    pass


class RootView(_RuleChains):
    def post(self, request, edge_id, pk):
        edge = visible_edge(request, edge_id)
        services.set_root(edge, self.entity(pk))
        return Response(EdgeSerializer(edge, context={"request": request}).data)


class RuleChainsView(_RuleChains):
    def get(self, request, edge_id):
        # "root": the chain's own flag (the edge template root), as ThingsBoard answers; its UI marks the
        # edge's root by comparing with the edge's rootRuleChainId
        edge = visible_edge(request, edge_id)
        return Response(self.page(self.assigned(edge).prefetch_related("nodes")))


class _Groups(_Kind):
    entity_type = "ENTITY_GROUP"
    model = EntityGroup
    serializer = EntityGroupSerializer
    search_lookup = "istartswith"

    def check(self, obj, group_type="", **kwargs) -> None:
        if obj.type != group_type.upper():
            raise ValidationError(f"Entity group [{obj.name}] holds {obj.type} entities, not {group_type:.32}")


class GroupAssignView(_AssignView, _Groups):
    pass


class GroupsView(_Groups):
    """``paged``: ``/api/entityGroups/edge/...`` (PageData) or ``/api/allEntityGroups/edge/...`` (a list)."""

    paged = True

    def get(self, request, edge_id, group_type):
        rows = self.assigned(visible_edge(request, edge_id)).filter(type=group_type.upper())
        return Response(self.page(rows) if self.paged else self.render(rows[:LIST_LIMIT], many=True))


class _Integrations(_Kind):
    permission_classes = [IsTenantAdmin]
    entity_type = "INTEGRATION"
    model = Integration
    serializer = IntegrationSerializer
    search_lookup = "istartswith"
    sort_fields = {"createdTime": "created_time", "name": "name", "type": "type", "enabled": "enabled"}

    def check(self, obj, **kwargs) -> None:
        if not obj.edge_template:
            raise ValidationError(f"Integration [{obj.name}] is not an edge template: only edge template "
                                  "integrations may be assigned to edges")


class IntegrationAssignView(_AssignView, _Integrations):
    pass


class IntegrationsView(_Integrations):
    infos = False

    def render_infos(self, rows, many=True):
        return IntegrationInfoSerializer(rows, many=True, context={"request": self.request,
                                                                   "stats": recent_stats(rows)}).data

    def get(self, request, edge_id):
        rows = self.assigned(visible_edge(request, edge_id))
        return Response(self.page(rows, render=self.render_infos if self.infos else None))


class _SchedulerEvents(_Kind):
    entity_type = "SCHEDULER_EVENT"
    model = SchedulerEvent
    serializer = SchedulerEventInfoSerializer
    sort_fields = {"createdTime": "created_time", "name": "name", "type": "type"}

    def assigned(self, edge, **kwargs):
        return super().assigned(edge).select_related("customer")


class SchedulerAssignView(_AssignView, _SchedulerEvents):
    pass


class SchedulerEventsView(_SchedulerEvents):
    paged = True

    def get(self, request, edge_id):
        rows = self.assigned(visible_edge(request, edge_id))
        return Response(self.page(rows) if self.paged else self.render(rows[:LIST_LIMIT], many=True))
