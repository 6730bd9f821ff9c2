"""The rest of ThingsBoard's edge endpoints:

    GET  /api/edge/{edgeId}/events?pageSize&page&textSearch&sortProperty&sortOrder&startTime&endTime   EdgeEvent page
    POST /api/edge/sync/{edgeId}                       queues ADDED for the edge and everything assigned
    GET  /api/edges/enabled                            true
    GET  /api/edge/{edgeId}/upgrade/available          false (the edge reported no version: nothing connects yet)
    GET  /api/edge/instructions/install/{edgeId}/{method}     EdgeInstructions (docker, ubuntu, centos)
    GET  /api/edge/instructions/upgrade/{version}/{method}    EdgeInstructions: no upgrade applies
    GET  /api/edge/missingToRelatedRuleChains/{edgeId}  JSON text: {chain name: [chains it calls, unassigned]}
    GET  /api/edge/integration/{edgeId}/missingAttributes?integrationIds,
         /api/edge/integration/{integrationId}/allMissingAttributes
                                                        JSON text: {integration or edge name: [attribute keys]}
    POST /api/ruleChain/{id}/edgeTemplateRoot, POST|DELETE /api/ruleChain/{id}/autoAssignToEdge   RuleChain
    GET  /api/ruleChain/autoAssignToEdgeRuleChains      the auto-assign chains
"""

import json
import re
import uuid
from dataclasses import replace

from django.db import transaction
from django.db.models import Q
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from devices.choices import AttributeScope
from devices.models import Attribute
from edges import instructions, services
from edges.api.assignments import _Integrations, _RuleChains
from edges.api.serializers import EdgeEventSerializer
from edges.api.views import visible_edge
from edges.models import Edge, EdgeAssignment, EdgeRuleChainFlags
from rulechains.models import RuleChain, RuleNode
from rulechains.nodes import RULE_CHAIN_INPUT
from tbproject.api.ids import parse_id_list
from tbproject.api.pagination import page_data, page_request
from tbproject.api.params import ms_param
from tbproject.api.permissions import IsTenantAdmin

__all__ = ["EventsView", "SyncView", "EnabledView", "UpgradeAvailableView", "InstallInstructionsView",
           "UpgradeInstructionsView", "MissingRuleChainsView", "MissingAttributesView", "AllMissingAttributesView",
           "TemplateRootView", "AutoAssignView", "AutoAssignListView"]

_PLACEHOLDER = re.compile(r"\$\{\{\s*([^}\s]+)\s*\}\}")


class EventsView(APIView):
    permission_classes = [IsTenantAdmin]
    sort_fields = {"createdTime": "created_time", "seqId": "seq_id", "type": "type", "action": "action"}

    def get(self, request, edge_id):
        edge = visible_edge(request, edge_id)
        params = request.query_params
        req = page_request(params)
        rows = edge.events.all()
        start, end = ms_param(params, "startTime"), ms_param(params, "endTime")
        rows = rows.filter(created_time__gte=start) if start is not None else rows
        rows = rows.filter(created_time__lte=end) if end is not None else rows
        if req.text_search:  # ThingsBoard searches the event's type and action
            rows = rows.filter(Q(type__icontains=req.text_search) | Q(action__icontains=req.text_search))
        return Response(page_data(rows, replace(req, text_search=""),
                                  search_field="type", sort_fields=self.sort_fields,
                                  render=lambda objs: EdgeEventSerializer(objs, many=True).data))


class SyncView(APIView):
    permission_classes = [IsTenantAdmin]

    def post(self, request, edge_id):
        services.sync(visible_edge(request, edge_id))
        return Response("Edge synchronization process started")


class EnabledView(APIView):
    permission_classes = [IsAuthenticated]  # every authority asks, the system administrator too

    def get(self, request):
        return Response(True)


class UpgradeAvailableView(APIView):
    permission_classes = [IsTenantAdmin]

    def get(self, request, edge_id):
        visible_edge(request, edge_id)
        return Response(False)


class InstallInstructionsView(APIView):
    permission_classes = [IsTenantAdmin]

    def get(self, request, edge_id, method):
        edge = visible_edge(request, edge_id)
        if method not in instructions.METHODS:
            raise ValidationError(f"Unsupported installation method for Edge: {method:.32}; "
                                  f"use one of {', '.join(instructions.METHODS)}")
        return Response({"instructions": instructions.install_instructions(edge, method, request.get_host())})


class UpgradeInstructionsView(APIView):
    permission_classes = [IsTenantAdmin]

    def get(self, request, edge_version, method):
        if method not in instructions.METHODS:
            raise ValidationError(f"Unsupported upgrade method for Edge: {method:.32}; "
                                  f"use one of {', '.join(instructions.METHODS)}")
        return Response({"instructions": instructions.NO_UPGRADE})


class MissingRuleChainsView(APIView):
    permission_classes = [IsTenantAdmin]

    def get(self, request, edge_id):
        edge = visible_edge(request, edge_id)
        assigned = set(EdgeAssignment.objects.filter(edge=edge, entity_type="RULE_CHAIN")
                       .values_list("entity_id", flat=True))
        missing: dict[str, list[str]] = {}
        nodes = RuleNode.objects.filter(tenant_id=edge.tenant_id, rule_chain_id__in=assigned,
                                        type=RULE_CHAIN_INPUT).select_related("rule_chain")
        for node in nodes:
            target = str((node.configuration or {}).get("ruleChainId") or "")
            if target and target not in {str(a) for a in assigned}:
                name = _chain_name(edge.tenant_id, target)
                if name:
                    missing.setdefault(node.rule_chain.name, []).append(name)
        return Response(json.dumps({k: sorted(set(v)) for k, v in missing.items()}))


def _chain_name(tenant_id, raw_id) -> str | None:
    try:
        pk = uuid.UUID(raw_id)
    except ValueError:
        return None
    return RuleChain.objects.filter(tenant_id=tenant_id, pk=pk).values_list("name", flat=True).first()


def _missing_keys(integration, edge) -> list[str]:
    wanted = set(_PLACEHOLDER.findall(json.dumps(integration.configuration or {})))
    if not wanted:
        return []
    present = set(Attribute.objects.filter(entity_id=edge.pk, scope=AttributeScope.SERVER_SCOPE, key__in=wanted)
                  .values_list("key", flat=True))
    return sorted(wanted - present)


class MissingAttributesView(_Integrations):
    """For one edge: {integration name: [its ${{placeholders}} the edge has no server attribute for]}."""

    def get(self, request, edge_id):
        edge = visible_edge(request, edge_id)
        ids = parse_id_list(request.query_params, "integrationIds")
        out = {}
        for integration in self.model.objects.for_user(request.user).filter(pk__in=ids):
            keys = _missing_keys(integration, edge)
            if keys:
                out[integration.name] = keys
        return Response(json.dumps(out))


class AllMissingAttributesView(_Integrations):
    """For one integration: {edge name: [missing keys]} over the edges it is assigned to."""

    def get(self, request, pk):
        integration = self.entity(pk)
        edge_ids = EdgeAssignment.objects.filter(entity_type="INTEGRATION", entity_id=integration.pk).values("edge_id")
        out = {}
        for edge in Edge.objects.for_user(request.user).filter(pk__in=edge_ids):
            keys = _missing_keys(integration, edge)
            if keys:
                out[edge.name] = keys
        return Response(json.dumps(out))


class TemplateRootView(_RuleChains):
    def post(self, request, pk):
        chain = self.entity(pk)
        with transaction.atomic():
            services.lock_flags(chain.tenant_id)  # concurrent calls one after the other: one template root
            EdgeRuleChainFlags.objects.filter(tenant_id=chain.tenant_id, template_root=True).exclude(
                rule_chain=chain).update(template_root=False)
            EdgeRuleChainFlags.objects.update_or_create(rule_chain=chain, defaults={
                "tenant_id": chain.tenant_id, "template_root": True})
        return Response(self.render(chain))


class AutoAssignView(_RuleChains):
    def post(self, request, pk):
        return self._set(pk, True)

    def delete(self, request, pk):
        return self._set(pk, False)

    def _set(self, pk, value: bool):
        chain = self.entity(pk)
        with transaction.atomic():
            services.lock_flags(chain.tenant_id)
            EdgeRuleChainFlags.objects.update_or_create(rule_chain=chain, defaults={
                "tenant_id": chain.tenant_id, "auto_assign": value})
        return Response(self.render(chain))


class AutoAssignListView(_RuleChains):
    def get(self, request):
        rows = services.auto_assign_chains(request.user.tenant).prefetch_related("nodes")
        return Response(self.render(rows, many=True))


