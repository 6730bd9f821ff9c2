"""Small rule chain reads of ThingsBoard's editor:

    GET /api/ruleChain/tbelEnabled              true: TBEL scripts run here (transpiled to JS, in
                                                the converter sandbox)
    GET /api/ruleChain/{ruleChainId}/output/labels   the names of the chain's output nodes, sorted
                                                (the relations a rule chain node calling it can leave by)
    GET /api/ruleChain/{ruleChainId}/output/labels/usage   RuleChainOutputLabelsUsage of each "rule
                                                chain" node calling it (rulechains/labels.py)
    GET /api/ruleNode/{ruleNodeId}/debugIn      the body of the node's latest IN debug event, as
                                                ThingsBoard's: looked for among its two newest
                                                events; an empty body when there is none
    GET /api/alarm/rules, /api/alarm/rules/names, /api/alarm/rule/{id}   501: ThingsBoard 4.3's alarm
                                                rules (calculated fields of type ALARM) are not kept here;
                                                device profile alarm rules are
"""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from converters.models import DebugEvent
from rulechains.debug import DEBUG_RULE_NODE, RULE_NODE
from rulechains.labels import output_labels_usage
from rulechains.models import RuleChain, RuleNode
from rulechains.nodes import RULE_CHAIN_OUTPUT
from tbproject.api.exceptions import NotSupported
from tbproject.api.ids import parse_uuid
from tbproject.api.permissions import IsTenantAdmin, IsTenantUser

__all__ = ["TbelEnabledView", "OutputLabelsView", "OutputLabelsUsageView", "RuleNodeDebugInView",
           "AlarmRulesView"]


class TbelEnabledView(APIView):
    permission_classes = [IsTenantUser]

    def get(self, request):
        return Response(True)


class OutputLabelsView(APIView):
    permission_classes = [IsTenantAdmin]

    def get(self, request, pk):
        chain = get_object_or_404(RuleChain.objects.for_user(request.user), pk=parse_uuid(pk))
        names = chain.nodes.filter(type=RULE_CHAIN_OUTPUT).values_list("name", flat=True)
        return Response(sorted(set(names)))


class OutputLabelsUsageView(APIView):
    permission_classes = [IsTenantAdmin]

    def get(self, request, pk):
        chain = get_object_or_404(RuleChain.objects.for_user(request.user), pk=parse_uuid(pk))
        return Response(output_labels_usage(chain))


class RuleNodeDebugInView(APIView):
    permission_classes = [IsTenantAdmin]

    def get(self, request, pk):
        node = get_object_or_404(RuleNode.objects.for_user(request.user), pk=parse_uuid(pk))
        newest = DebugEvent.objects.filter(tenant_id=node.tenant_id, entity_type=RULE_NODE, entity_id=node.pk,
                                           event_type=DEBUG_RULE_NODE).order_by("-created_time")[:2]
        body = next((e.body for e in newest if isinstance(e.body, dict) and e.body.get("type") == "IN"), None)
        # ThingsBoard answers null, which Spring sends as a 200 with no body
        return HttpResponse(status=200, content_type="application/json") if body is None else Response(body)


class AlarmRulesView(APIView):
    permission_classes = [IsTenantUser]

    def get(self, request, **kwargs):
        raise NotSupported("Alarm rules (ThingsBoard 4.3's calculated fields of type ALARM) are not kept by this "
                           "server; alarms are raised by device profile alarm rules and rule chains")
