"""Converters library endpoints at ThingsBoard's paths (reference 3.3; tb-pe-client
``ConverterLibraryControllerApi``), plus one to create a converter from an entry.

    GET  /api/converter/library/{integrationType}/vendors?converterType&page&pageSize&loadImages
         -> [{name, logo}]
    GET  /api/converter/library/{integrationType}/{vendorName}/models?converterType&... -> [{name, info, photo}]
    GET  /api/converter/library/{integrationType}/{vendorName}/{model}/{uplink|downlink}  -> converter.json
    GET  .../{uplink|downlink}/metadata -> metadata.json ({} when the entry has none)
    GET  .../{uplink|downlink}/payload  -> the first payload sample, as text
    POST .../{uplink|downlink} {name?}  -> {converter, samples, passed, failed, notes}  (not ThingsBoard's)

Images (``logo``, ``photo``) are data: URLs, sent only with ``loadImages=true``. The library is
shared by all tenants; the converter created belongs to the caller's tenant.
"""

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from converters import engine
from converters.choices import IntegrationType
from converters.library.service import LibraryEntryMissing, create_from_library, current_catalogue
from tbproject.api.exceptions import ServiceUnavailable
from tbproject.api.params import choice_param
from tbproject.api.permissions import IsTenantAdmin

__all__ = ["VendorsView", "ModelsView", "EntryView", "EntryMetadataView", "EntryPayloadView"]

DIRECTIONS = {"uplink": "UPLINK", "downlink": "DOWNLINK"}


def _kind(integration_type: str) -> str:
    if integration_type not in IntegrationType.values:
        raise ValidationError(f"Unknown integration type {integration_type!r:.40}")
    return integration_type


def _converter_type(request) -> str:
    value = (request.query_params.get("converterType") or "UPLINK").upper()
    if value not in DIRECTIONS.values():
        raise ValidationError("converterType must be UPLINK or DOWNLINK")
    return value


def _page(request, items: list) -> list:
    size, page = request.query_params.get("pageSize"), request.query_params.get("page")
    if size is None:
        return items
    try:
        size, page = int(size), int(page or 0)
    except ValueError:
        raise ValidationError("page and pageSize must be integers") from None
    if size < 1 or page < 0:
        raise ValidationError("pageSize must be positive and page not negative")
    return items[page * size:(page + 1) * size]


def _images(request) -> bool:
    return choice_param(request.query_params, "loadImages", ("true", "false"), "false") == "true"


class LibraryView(APIView):
    permission_classes = [IsTenantAdmin]

    def entry(self, integration_type, vendor, model, direction):
        if direction not in DIRECTIONS:
            raise NotFound(f"No such library path: {direction!r:.20} (use uplink or downlink)")
        entry = current_catalogue().entry(_kind(integration_type), vendor, model, DIRECTIONS[direction])
        if entry is None:
            raise NotFound(f"The library has no {direction} converter for {vendor} {model} ({integration_type})")
        return entry


class VendorsView(LibraryView):
    def get(self, request, integration_type):
        catalogue = current_catalogue()
        vendors = catalogue.vendors(_kind(integration_type), _converter_type(request))
        images = _images(request)
        return Response([catalogue.vendor_info(v, images=images) for v in _page(request, vendors)])


class ModelsView(LibraryView):
    def get(self, request, integration_type, vendor):
        catalogue = current_catalogue()
        models = catalogue.models(_kind(integration_type), vendor, _converter_type(request))
        images = _images(request)
        return Response([catalogue.model_info(vendor, m, images=images) for m in _page(request, models)])


class EntryView(LibraryView):
    def get(self, request, integration_type, vendor, model, direction):
        return Response(self.entry(integration_type, vendor, model, direction).converter)

    def post(self, request, integration_type, vendor, model, direction):
        self.entry(integration_type, vendor, model, direction)
        body = request.data if isinstance(request.data, dict) else {}
        name = body.get("name")
        if name is not None and (not isinstance(name, str) or not name.strip()):
            raise ValidationError("'name' must be a non-empty string (or absent for the library's name)")
        try:
            report = create_from_library(request.user.tenant, integration_type, vendor, model, DIRECTIONS[direction],
                                         name.strip() if name else None, request=request)
        except LibraryEntryMissing as e:
            raise NotFound(str(e)) from None
        except engine.EngineError:
            raise ServiceUnavailable("The script engine cannot start right now; try again.") from None
        return Response(report)


class EntryMetadataView(LibraryView):
    def get(self, request, integration_type, vendor, model, direction):
        return Response(self.entry(integration_type, vendor, model, direction).metadata)


class EntryPayloadView(LibraryView):
    def get(self, request, integration_type, vendor, model, direction):
        samples = self.entry(integration_type, vendor, model, direction).samples()
        return Response(samples[0].text if samples else "")
