"""``GET /api/ruleChain/tbelEnabled``: whether TBEL scripts run here. They do (transpiled to JS and
run in the converter sandbox), so the answer is always true."""

from rest_framework.response import Response
from rest_framework.views import APIView

from tbproject.api.permissions import IsTenantUser

__all__ = ["TbelEnabledView"]


class TbelEnabledView(APIView):
    permission_classes = [IsTenantUser]

    def get(self, request):
        return Response(True)
