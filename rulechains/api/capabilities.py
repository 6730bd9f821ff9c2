"""Small rule chain reads of ThingsBoard's editor:

    GET /api/ruleChain/tbelEnabled              true: TBEL scripts run here (transpiled to JS, in
                                                the converter sandbox)
    GET /api/ruleChain/{ruleChainId}/output/labels   the names of the chain's output nodes, sorted
                                                (the relations a rule chain node calling it can leave by)
"""

from django.shortcuts import get_object_or_404
from rest_framework.response import Response
from rest_framework.views import APIView

from rulechains.models import RuleChain
from rulechains.nodes import RULE_CHAIN_OUTPUT
from tbproject.api.ids import parse_uuid
from tbproject.api.permissions import IsTenantAdmin, IsTenantUser

__all__ = ["TbelEnabledView", "OutputLabelsView"]


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
