"""ThingsBoard's entity and alarm data queries (``POST /api/entitiesQuery/find``, ``.../count``,
``.../find/keys``, ``POST /api/alarmsQuery/find``, ``.../count``): the dashboard query language,
outside an integration center's scope. Each answers a 501 that names the endpoints to use instead,
never a 404 that reads like a missing entity."""

from rest_framework.views import APIView

from tbproject.api.exceptions import NotSupported
from tbproject.api.permissions import IsTenantUser

__all__ = ["QueryNotSupportedView"]

_INSTEAD = ("Entity data queries are not supported by this server; list entities with GET /api/tenant/devices, "
            "/api/tenant/assets or /api/entityGroup/{id}/entities and read data from /api/plugins/telemetry/...")


class QueryNotSupportedView(APIView):
    permission_classes = [IsTenantUser]

    def post(self, request):
        raise NotSupported(_INSTEAD)
