"""Converter endpoints (reference 3.3): save, get, delete, page, by ids, latest debug input.

Converters are for tenant administrators only (ThingsBoard: "Available for users with
'TENANT_ADMIN' authority"); another tenant's converter is a 404.
"""

from rest_framework.response import Response

from converters import services, stored_tests
from converters.api.serializers import ConverterSerializer
from converters.choices import IntegrationType
from converters.models import Converter
from tbproject.api.params import bool_param, choice_param
from tbproject.api.permissions import IsTenantAdmin
from tbproject.api.resources import EntityResource

__all__ = ["ConverterResource", "DebugInView"]


class ConverterResource(EntityResource):
    model = Converter
    serializer_class = ConverterSerializer
    permission_classes = [IsTenantAdmin]
    search_lookup = "istartswith"  # ThingsBoard: "The case insensitive 'startsWith' filter"
    sort_fields = {"createdTime": "created_time", "name": "name", "type": "type",
                   "integrationType": "integration_type", "converterVersion": "converter_version"}
    duplicate_message = "Converter with such name already exists!"

    def filter_list(self, queryset):
        # isEdgeTemplate is accepted and ignored: there are no edge templates here.
        kind = choice_param(self.request.query_params, "integrationType", IntegrationType.values)
        return queryset.filter(integration_type=kind) if kind else queryset

    def before_save(self, serializer) -> None:
        """Beyond ThingsBoard: an update runs the converter's stored tests on the new configuration
        first and is refused (409) when one that passed would fail, unless ``?force=true``."""
        self._test_results = None
        instance = serializer.instance
        if instance is None or not stored_tests.tests_of(instance).exists():
            return
        candidate = stored_tests.candidate_of(instance, serializer.validated_data)
        force = bool_param(self.request.query_params, "force", False)
        self._test_results = stored_tests.check_save(candidate, force=force)

    def after_save(self, obj) -> None:
        if self._test_results is not None:
            stored_tests.record(self._test_results, obj.version_number)

    def perform_delete(self, obj) -> None:
        # An integration's PROTECT foreign key refuses this; tb_exception_handler answers 400
        # naming the integrations.
        obj.delete()


class DebugInView(ConverterResource):
    """`GET /api/converter/{id}/debugIn?integrationName=`: the newest recorded input ({} if none).

    converterType, integrationType and converterVersion are accepted as ThingsBoard's client
    sends them; the converter itself already says which it is."""

    def get(self, request, pk):
        converter = self.get_object(pk)
        return Response(services.latest_debug_input(converter, request.query_params.get("integrationName") or None))
