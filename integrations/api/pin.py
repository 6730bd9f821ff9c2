"""Beyond ThingsBoard: pin an integration to one version of its uplink converter.

    GET  /api/integration/{id}/converterVersion  -> {pinnedConverterVersion, latestConverterVersion, converterId}
    POST /api/integration/{id}/converterVersion  body {"pinnedConverterVersion": n | null}

A pinned integration runs that version (converters.history.as_converter) until unpinned, while
the converter's editor saves newer ones; its debug events and dead letters name the version.
"""

from django.db import transaction
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from converters import history
from integrations.api.views import IntegrationResource

__all__ = ["PinView"]

KEY = "pinnedConverterVersion"


def _answer(integration) -> dict:
    converter = integration.default_converter
    return {KEY: integration.pinned_converter_version, "latestConverterVersion": converter.version_number,
            "converterId": {"entityType": "CONVERTER", "id": str(converter.pk)}}


class PinView(IntegrationResource):
    def get(self, request, pk):
        return Response(_answer(self.get_object(pk)))

    def post(self, request, pk):
        integration = self.get_object(pk)
        data = request.data
        if not isinstance(data, dict) or KEY not in data:
            raise ValidationError(f"Request body must be a JSON object {{\"{KEY}\": <version number or null>}}")
        try:
            integration.pinned_converter_version = history.check_pin(integration.default_converter, data[KEY])
        except ValueError as e:
            raise ValidationError(str(e)) from None
        with transaction.atomic():
            integration.save(update_fields=["pinned_converter_version", "version"])
        return Response(_answer(integration))
