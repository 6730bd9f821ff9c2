"""Integration packages (ours, beyond ThingsBoard; tenant administrators only):

    GET  /api/integration/{id}/export   the package: integration, converters, downlink rule chains,
                                        secrets null and listed under requiredSecrets
    POST /api/integration/import        body: a package plus "secrets": {"<path>": "<value>"};
                                        400 naming the missing secrets; creates new entities
"""

from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations.models import Integration
from tbproject.api.ids import parse_uuid
from tbproject.api.permissions import IsTenantAdmin
from transfer.export import export_package
from transfer.importer import import_package

__all__ = ["ExportView", "ImportView"]


class ExportView(APIView):
    permission_classes = [IsTenantAdmin]

    def get(self, request, pk):
        integration = get_object_or_404(Integration.objects.for_user(request.user), pk=parse_uuid(pk))
        return Response(export_package(integration))


class ImportView(APIView):
    permission_classes = [IsTenantAdmin]

    def post(self, request):
        body = request.data
        if not isinstance(body, dict):
            raise ValidationError("The body must be an integration package: {\"integration\": {...}, ...}")
        package = {k: v for k, v in body.items() if k != "secrets"}
        return Response(import_package(package, body.get("secrets"), request))
