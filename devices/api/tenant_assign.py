"""`POST /api/tenant/{tenantId}/device/{deviceId}`: a tenant administrator hands its device to another tenant
(devices/tenant_assign.py); the answer is the Device as it is now. Needs ASSIGN_TO_TENANT on the device; an
unknown target tenant (or one being deleted) is a 400 ("Could not find the specified Tenant!", as ThingsBoard),
another tenant's device a 404. DEVICE_ASSIGN_TO_OTHER_TENANTS=False turns the route off (403)."""

from django.conf import settings
from django.urls import path
from rest_framework.exceptions import PermissionDenied, ValidationError
from rest_framework.response import Response

from devices.api.views import DeviceResource
from devices.tenant_assign import assign_to_tenant
from tbproject.api.ids import parse_uuid
from tbproject.api.permissions import IsTenantAdmin
from tenants.models import Tenant

__all__ = ["urlpatterns"]


class AssignToTenantView(DeviceResource):
    permission_classes = [IsTenantAdmin]

    def post(self, request, tenant_id, device_id):
        if not settings.DEVICE_ASSIGN_TO_OTHER_TENANTS:
            raise PermissionDenied("Assigning devices to other tenants is turned off on this server!")
        target = parse_uuid(tenant_id)
        device = self.get_object(device_id)
        tenant = Tenant.objects.live().filter(pk=target).first()  # not one being deleted
        if tenant is None:
            raise ValidationError("Could not find the specified Tenant!")
        return Response(self.render(assign_to_tenant(device, tenant, user=request.user)))


urlpatterns = [
    path("tenant/<str:tenant_id>/device/<str:device_id>", AssignToTenantView.as_view(),
         name="device-assign-to-tenant"),
]
