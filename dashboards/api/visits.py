"""A user's last visited and starred dashboards (ThingsBoard's UserController; rules in dashboards/visits.py):

    GET /api/user/lastVisitedDashboards                 UserDashboardsInfo {last, starred}
    GET /api/user/dashboards/{dashboardId}/{action}     action visit|star|unstar (any case): record it and
                                                        answer the new UserDashboardsInfo

Tenant admins and customer users; the dashboard must be one the user may read (else 404).
"""

from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from dashboards import visits
from dashboards.api.views import DashboardResource
from tbproject.api.permissions import IsTenantUser

__all__ = ["LastVisitedView", "ReportActionView"]


class LastVisitedView(DashboardResource):
    permission_classes = [IsTenantUser]

    def get(self, request):
        return Response(visits.dashboards_info(request.user))


class ReportActionView(DashboardResource):
    permission_classes = [IsTenantUser]

    def get(self, request, dashboard_id, action):
        dashboard = self.get_object(dashboard_id)
        try:
            action = visits.parse_action(action)
        except visits.UnknownAction as e:
            raise ValidationError(str(e)) from None
        return Response(visits.report(request.user, dashboard, action))
