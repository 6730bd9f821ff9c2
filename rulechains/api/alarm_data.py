"""ThingsBoard's alarm data queries (logic in rulechains/alarm_data.py):

    POST /api/alarmsQuery/find      AlarmDataQuery -> PageData<AlarmData>
    POST /api/alarmsQuery/count     AlarmCountQuery -> integer
"""

from rest_framework.response import Response
from rest_framework.views import APIView

from rulechains import alarm_data
from tbproject.api.permissions import IsTenantUser

__all__ = ["AlarmDataFindView", "AlarmDataCountView"]


class AlarmDataFindView(APIView):
    permission_classes = [IsTenantUser]

    def post(self, request):
        return Response(alarm_data.find(request.user, request.data))


class AlarmDataCountView(APIView):
    permission_classes = [IsTenantUser]

    def post(self, request):
        return Response(alarm_data.count(request.user, request.data))
