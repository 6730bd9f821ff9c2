"""`GET /api/integrations/converters/info` (ThingsBoard's getIntegrationsConvertersInfo; tenant
administrators): for each integration type this server has (integrations.types.TYPES),

    {"MQTT": {"uplink": {"library": false, "existing": true}, "downlink": {...}}, ...}

``library``: the converters library (converters/library) holds a converter of that direction for
the type; ``existing``: the caller's tenant has a converter of that direction dedicated to the type
(``integrationType``, as ``GET /api/converters?integrationType=`` finds them; a converter for "all
types" counts for none). ThingsBoard's ConvertersInfo also declares an optional ``keys`` list,
which is left out here.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from converters.choices import ConverterType
from converters.library.service import current_catalogue
from converters.models import Converter
from integrations.types import TYPES
from tbproject.api.permissions import IsTenantAdmin

__all__ = ["ConvertersInfoView", "converters_info"]

DIRECTIONS = (("uplink", ConverterType.UPLINK.value), ("downlink", ConverterType.DOWNLINK.value))


def converters_info(tenant) -> dict[str, dict]:
    catalogue = current_catalogue()
    existing = set(Converter.objects.filter(tenant=tenant, integration_type__isnull=False)
                   .values_list("integration_type", "type").distinct())
    return {kind: {direction: {"library": bool(catalogue.vendors(kind, converter_type)),
                               "existing": (kind, converter_type) in existing}
                   for direction, converter_type in DIRECTIONS}
            for kind in TYPES.kinds()}


class ConvertersInfoView(APIView):
    permission_classes = [IsTenantAdmin]

    @extend_schema(responses=OpenApiTypes.OBJECT,
                   description="{<integration type>: {uplink: {library, existing}, downlink: {library, existing}}}")
    def get(self, request):
        return Response(converters_info(request.user.tenant))
