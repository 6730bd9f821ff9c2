"""Integration packages (ours, beyond ThingsBoard; tenant administrators only):

    GET  /api/integration/{id}/export   the package: integration, converters, downlink rule chains,
                                        secrets null and listed under requiredSecrets
    POST /api/integration/import        body: a package plus "secrets": {"<path>": "<value>"};
                                        400 naming the missing secrets; creates new entities

and ThingsBoard 4.4's ZIP (transfer/hub_package.py):

    GET  /api/integration/{id}/export-package   integration.json, uplink.json, [downlink.json],
                                                form.json; secrets as ${...} placeholders
"""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from integrations.models import Integration
from tbproject.api.ids import parse_uuid
from tbproject.api.permissions import IsTenantAdmin
from transfer import hub_package
from transfer.export import export_package
from transfer.importer import import_package

__all__ = ["ExportView", "ExportPackageView", "ImportView"]


class ExportView(APIView):
    permission_classes = [IsTenantAdmin]

    def get(self, request, pk):
        integration = get_object_or_404(Integration.objects.for_user(request.user), pk=parse_uuid(pk))
        return Response(export_package(integration))


class _AnyAccept(BaseContentNegotiation):
    """The ZIP whatever ``Accept`` asks for (ThingsBoard's client sends application/json); an
    error answers as JSON."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ExportPackageView(APIView):
    permission_classes = [IsTenantAdmin]
    content_negotiation_class = _AnyAccept

    @extend_schema(responses={(200, hub_package.CONTENT_TYPE): OpenApiTypes.BINARY},
                   description="ThingsBoard 4.4's integration package: integration.json, uplink.json, "
                               "[downlink.json], form.json; secrets as ${...} placeholders.")
    def get(self, request, pk):
        integration = get_object_or_404(Integration.objects.for_user(request.user), pk=parse_uuid(pk))
        response = HttpResponse(hub_package.package_zip(integration), content_type=hub_package.CONTENT_TYPE)
        response["Content-Disposition"] = content_disposition_header(True, hub_package.package_filename(integration))
        return response


class ImportView(APIView):
    permission_classes = [IsTenantAdmin]

    def post(self, request):
        body = request.data
        if not isinstance(body, dict):
            raise ValidationError("The body must be an integration package: {\"integration\": {...}, ...}")
        package = {k: v for k, v in body.items() if k != "secrets"}
        return Response(import_package(package, body.get("secrets"), request))
