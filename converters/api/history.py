"""Beyond ThingsBoard, under paths of our own: a converter's versions and its health.

    GET  /api/converter/{id}/versions                   newest first
    GET  /api/converter/{id}/versions/{n}               one version, with ``diff`` against n-1
    POST /api/converter/{id}/versions/{n}/rollback      [?force=true] -> the Converter JSON
    GET  /api/converter/{id}/health?hours=24            executions, errors, p50/p99 per hour

Tenant administrators only; another tenant's converter is a 404 (ConverterResource.get_object).
A rollback is a save: the stored tests run first, as on ``POST /api/converter``.
"""

from django.db import transaction
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.response import Response

from converters import health, history, stored_tests
from converters.api.views import ConverterResource
from tbproject.api.params import bool_param

__all__ = ["VersionsView", "VersionView", "RollbackView", "HealthView"]

MAX_HOURS = 24 * 7


class VersionsView(ConverterResource):
    def get(self, request, pk):
        converter = self.get_object(pk)
        return Response([history.version_json(v) for v in history.versions_of(converter).select_related(None)])


class _VersionMixin:
    def version(self, converter, number):
        try:
            return history.get_version(converter, number)
        except history.VersionMissing as e:
            raise NotFound(str(e)) from None


class VersionView(_VersionMixin, ConverterResource):
    def get(self, request, pk, number):
        converter = self.get_object(pk)
        version = self.version(converter, number)
        return Response(history.version_json(version, with_diff=history.diff(converter, version.number)))


class RollbackView(_VersionMixin, ConverterResource):
    def post(self, request, pk, number):
        converter = self.get_object(pk)
        version = self.version(converter, number)
        if version.type != converter.type:
            raise ValidationError(f"Version {version.number} is a {version.type} converter; this one is "
                                  f"{converter.type}")
        results = stored_tests.check_save(history.candidate(converter, version),
                                          force=bool_param(request.query_params, "force", False))
        with transaction.atomic():
            history.rollback(converter, version.number, request.user)
            stored_tests.record(results, converter.version_number)
        return Response(self.render(converter))


class HealthView(ConverterResource):
    def get(self, request, pk):
        converter = self.get_object(pk)
        raw = request.query_params.get("hours") or "24"
        try:
            hours = int(raw)
        except ValueError:
            hours = 0
        if not 1 <= hours <= MAX_HOURS:
            raise ValidationError(f"Parameter 'hours' must be a whole number from 1 to {MAX_HOURS}, got '{raw:.20}'")
        return Response(health.series(converter, hours=hours))
