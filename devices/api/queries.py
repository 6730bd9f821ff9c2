"""ThingsBoard's entity and alarm data queries (``POST /api/entitiesQuery/find``, ``.../count``,
``.../find/keys``, ``POST /api/alarmsQuery/find``, ``.../count``): the dashboard query language,
outside an integration center's scope. Each answers a 501 that names the endpoints to use instead,
never a 404 that reads like a missing entity. PE's "All" group of an owner
(``GET /api/entityGroup/all/{ownerType}/{ownerId}/{groupType}``) is a 501 as well: groups here are
only the ones users make; the owner is checked first (another tenant's or customer's is a 404)."""

from django.http import Http404
from rest_framework.views import APIView

from devices.api.lookups import visible_customer
from tbproject.api.exceptions import NotSupported
from tbproject.api.ids import parse_uuid
from tbproject.api.permissions import IsTenantUser

__all__ = ["QueryNotSupportedView", "AllGroupView"]

_INSTEAD = ("Entity data queries are not supported by this server; list entities with GET /api/tenant/devices, "
            "/api/tenant/assets or /api/entityGroup/{id}/entities and read data from /api/plugins/telemetry/...")


class QueryNotSupportedView(APIView):
    permission_classes = [IsTenantUser]

    def post(self, request):
        raise NotSupported(_INSTEAD)


class AllGroupView(APIView):
    permission_classes = [IsTenantUser]

    def get(self, request, owner_type, owner_id, group_type):
        if owner_type == "CUSTOMER":
            visible_customer(request.user, owner_id)
        elif owner_type != "TENANT" or parse_uuid(owner_id) != request.user.tenant_id:
            raise Http404("Requested owner wasn't found!")
        raise NotSupported("PE's 'All' entity groups are not kept by this server; list the owner's entities "
                           "with GET /api/tenant/devices, /api/customer/{customerId}/devices (or assets)")
