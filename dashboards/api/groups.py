"""A DASHBOARD entity group's dashboards (ThingsBoard PE's DashboardController, rules in dashboards/groups.py):

    GET  /api/entityGroup/{groupId}/dashboards?pageSize&page&...      page of DashboardInfo of the members
    GET  /api/entityGroup/{groupId}/dashboards/export?limit=N         the members as full Dashboards (a list)
    POST /api/entityGroup/{groupId}/dashboards/import?overwrite=      body: a list of Dashboards; 200, no body

Groups here are the tenant's (customer users get 403, as on every group endpoint); another tenant's
group is a 404, a group of another type a 400. The other group paths (entities, addEntities,
deleteEntities, a member by id) are devices/'s, for every group type alike.
"""

from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from dashboards import groups
from dashboards.api.serializers import DashboardSerializer
from dashboards.api.views import DashboardResource, InfoResource
from tbproject.api.params import bool_param
from tbproject.api.permissions import IsTenantAdmin

__all__ = ["GroupListView", "ExportView", "ImportView"]


class GroupListView(InfoResource):
    permission_classes = [IsTenantAdmin]

    def get(self, request, group_id):
        group = groups.dashboard_group(request.user, group_id)
        return Response(self.page(self.get_queryset().filter(groups=group)))


class ExportView(DashboardResource):
    permission_classes = [IsTenantAdmin]

    def get(self, request, group_id):
        group = groups.dashboard_group(request.user, group_id)
        if request.query_params.get("limit") in (None, ""):
            raise ValidationError("Required request parameter 'limit' is not present")
        return Response(self.render(groups.export(group, request.query_params["limit"]), many=True))


class ImportView(DashboardResource):
    permission_classes = [IsTenantAdmin]

    def post(self, request, group_id):
        group = groups.dashboard_group(request.user, group_id)
        overwrite = bool_param(request.query_params, "overwrite", False)
        if not isinstance(request.data, list):
            raise ValidationError("The body must be a JSON array of dashboards")
        items = []
        for index, item in enumerate(request.data):
            if not isinstance(item, dict):
                raise ValidationError(f"Dashboard [{index}] must be a JSON object")
            serializer = DashboardSerializer(data=item, context={"request": request, "view": self})
            if not serializer.is_valid():
                raise ValidationError({f"dashboard[{index}]": serializer.errors})
            items.append(serializer.validated_data)
        groups.import_into(group, items, overwrite)
        return Response(status=200)
