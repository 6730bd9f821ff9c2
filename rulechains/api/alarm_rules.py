"""Two reads of ThingsBoard 4.3's alarm rules (calculated fields of type ALARM), which this server does not
keep (alarms come from device profile alarm rules and rule chains; rulechains/api/capabilities.py):

    GET /api/alarm/rules/{entityType}/{entityId}?pageSize&page&...   PageData of AlarmRuleDefinition: the
        tenant's device, asset, their profile, customer or entity view must exist (else 404, another tenant's
        included); its page is empty, as ThingsBoard answers for an entity without alarm rules
    GET /api/alarm/rule/{alarmRuleId}/debug   the latest debug event of an alarm rule: none exists here, so
        ThingsBoard's answer for an unknown id, a 404

Tenant administrators only, as ThingsBoard.
"""

from django.urls import path
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from devices.models import Asset, AssetProfile, Device, DeviceProfile, EntityView
from tbproject.api.ids import parse_uuid
from tbproject.api.pagination import page_request
from tbproject.api.permissions import IsTenantAdmin
from tenants.models import Customer

__all__ = ["urlpatterns"]

#: the entities whose alarm rules may be asked for (ThingsBoard checks the entity, then finds none here)
_MODELS = {"DEVICE": Device, "ASSET": Asset, "DEVICE_PROFILE": DeviceProfile, "ASSET_PROFILE": AssetProfile,
           "CUSTOMER": Customer, "ENTITY_VIEW": EntityView}
_SORT = ("createdTime", "name")


class AlarmRulesByEntityView(APIView):
    permission_classes = [IsTenantAdmin]

    def get(self, request, entity_type, entity_id):
        model = _MODELS.get(entity_type)
        if model is None:
            raise ValidationError(f"Unsupported entity type '{entity_type:.32}' for alarm rules; use one of: "
                                  f"{', '.join(_MODELS)}")
        pk = parse_uuid(entity_id)
        if not model.objects.filter(tenant_id=request.user.tenant_id, pk=pk).exists():
            raise NotFound(f"{entity_type} with id [{pk}] is not found")
        req = page_request(request.query_params)
        if req.sort_property and req.sort_property not in _SORT:
            raise ValidationError(f"Unsupported sortProperty '{req.sort_property:.64}'; use one of: {', '.join(_SORT)}")
        return Response({"data": [], "totalPages": 0, "totalElements": 0, "hasNext": False})


class AlarmRuleDebugView(APIView):
    permission_classes = [IsTenantAdmin]

    def get(self, request, pk):
        raise NotFound(f"Alarm rule with id [{parse_uuid(pk)}] is not found")


urlpatterns = [
    path("alarm/rules/<str:entity_type>/<str:entity_id>", AlarmRulesByEntityView.as_view(),
         name="alarm-rules-by-entity"),
    path("alarm/rule/<str:pk>/debug", AlarmRuleDebugView.as_view(), name="alarm-rule-debug"),
]
