"""Persistent RPC (ThingsBoard 3.3+): ``GET /api/rpc/persistent/{rpcId}``, ``DELETE`` the same, and
``GET /api/rpc/persistent/device/{deviceId}?pageSize&page[&rpcStatus&textSearch&sortProperty&sortOrder]``
as PageData of ThingsBoard's ``Rpc`` JSON (rulechains.rpc_calls.render). A call past its
expirationTime reads as EXPIRED. ``rpcStatus=DELETED`` (a state of ThingsBoard's RpcStatus enum,
never kept: a deleted call is gone) is an empty page. Tenant admins and customer users of the device's customer read;
only tenant admins delete. Another tenant's (or customer's) call or device is a 404.
"""

from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.response import Response

from devices.api.telemetry import TelemetryView
from rulechains import rpc_calls
from rulechains.rpc_models import Rpc, RpcStatus
from tbproject.api.ids import parse_uuid
from tbproject.api.pagination import page_data, page_request
from tenants.choices import Authority

__all__ = ["PersistentRpcView", "PersistentRpcByDeviceView"]

#: ThingsBoard's RpcStatus values no row here ever has
NEVER_KEPT = ("DELETED",)
SORT_FIELDS = {"createdTime": "created_time", "expirationTime": "expiration_time", "request": "request",
               "response": "response", "status": "status"}


class PersistentRpcView(TelemetryView):
    def rpc(self, rpc_id: str) -> Rpc:
        pk = parse_uuid(rpc_id)
        user = self.request.user
        rpc_calls.expire_due(user.tenant_id)
        rpc = Rpc.objects.for_user(user).filter(pk=pk, persistent=True).first()
        if rpc is None:
            raise NotFound(f"Rpc with id [{pk}] is not found")
        return rpc

    def get(self, request, pk):
        return Response(rpc_calls.render(self.rpc(pk)))

    def delete(self, request, pk):
        rpc = self.rpc(pk)
        if request.user.authority != Authority.TENANT_ADMIN:
            raise PermissionDenied("You don't have permission to perform 'DELETE' operation with 'RPC' resource!")
        rpc.delete()
        return Response(status=200)


class PersistentRpcByDeviceView(TelemetryView):
    def get(self, request, device_id):
        device = self.device(device_id)
        req = page_request(request.query_params)
        rows = Rpc.objects.filter(tenant_id=device.tenant_id, device_id=device.pk, persistent=True)
        status = (request.query_params.get("rpcStatus") or "").strip()
        if status:
            if status not in RpcStatus.values and status not in NEVER_KEPT:
                raise ValidationError(f"Invalid rpcStatus '{status:.32}'; use one of: "
                                      f"{', '.join([*RpcStatus.values, *NEVER_KEPT])}")
            rows = rows.filter(status=status) if status in RpcStatus.values else rows.none()
        rpc_calls.expire_due(device.tenant_id, device.pk)
        return Response(page_data(rows.order_by("created_time", "pk"), req, search_field="request__method",
                                  sort_fields=SORT_FIELDS, search_lookup="icontains",
                                  render=lambda page: [rpc_calls.render(r) for r in page]))
