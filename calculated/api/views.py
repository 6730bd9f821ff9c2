"""ThingsBoard's calculated-field endpoints (CalculatedFieldController; tenant administrators only)."""

from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from calculated import debug, services, testing
from calculated.api.render import render, render_info
from calculated.choices import ALL_KINDS, FieldEntityType
from calculated.models import CalculatedField
from tbproject.api.ids import parse_id_list, parse_uuid
from tbproject.api.pagination import page_data, page_request
from tbproject.api.permissions import IsTenantAdmin
from tbproject.text import check_text

__all__ = ["SaveView", "DetailView", "ByEntityView", "ListView", "NamesView", "TestScriptView", "DebugView"]

SORT_FIELDS = {"createdTime": "created_time", "name": "name", "type": "kind", "entityType": "entity_type"}


class _Unavailable(APIException):
    status_code = 503
    default_detail = "Service unavailable"


class _View(APIView):
    permission_classes = [IsTenantAdmin]

    def fields(self):
        return CalculatedField.objects.filter(tenant_id=self.request.user.tenant_id)

    def field(self, pk) -> CalculatedField:
        return get_object_or_404(self.fields(), pk=parse_uuid(pk))

    def page(self, queryset, renderer, search_lookup="icontains"):
        return page_data(queryset, page_request(self.request.query_params), search_field="name",
                         sort_fields=SORT_FIELDS, search_lookup=search_lookup, render=renderer)


def _kind_param(params, name: str) -> list[str]:
    values = [v.strip() for raw in params.getlist(name) for v in raw.split(",") if v.strip()]
    for value in values:
        if value not in ALL_KINDS:
            raise ValidationError(f"Parameter '{name}' must be one of {', '.join(ALL_KINDS)}")
    return values


class SaveView(_View):
    """POST /api/calculatedField: create, or update when the body has the id of one of the tenant's."""

    def post(self, request):
        try:
            field = services.save(request.user.tenant_id, request.data)
        except services.FieldError as e:
            raise ValidationError(str(e)) from None
        except services.EngineUnavailable as e:
            raise _Unavailable(str(e)) from None
        return Response(render(field))


class DetailView(_View):
    """GET / DELETE /api/calculatedField/{calculatedFieldId}."""

    def get(self, request, pk):
        return Response(render(self.field(pk)))

    def delete(self, request, pk):
        services.delete(self.field(pk))
        return Response(status=200)


class ByEntityView(_View):
    """GET /api/calculatedField/{entityType}/{entityId}?pageSize&page[&type&textSearch&sortProperty&sortOrder]."""

    def get(self, request, entity_type, entity_id):
        try:
            services.entity_of(request.user.tenant_id, entity_type, entity_id)
        except services.FieldError as e:
            raise ValidationError(str(e)) from None
        queryset = self.fields().filter(entity_id=parse_uuid(entity_id))
        kinds = _kind_param(request.query_params, "type")
        if kinds:
            queryset = queryset.filter(kind__in=kinds)
        return Response(self.page(queryset, lambda rows: [render(f) for f in rows]))


class ListView(_View):
    """GET /api/calculatedFields?pageSize&page[&types&entityType&entities&name&textSearch...]: CalculatedFieldInfo."""

    def get(self, request):
        params = request.query_params
        queryset = self.fields()
        kinds = _kind_param(params, "types")
        if kinds:
            queryset = queryset.filter(kind__in=kinds)
        if params.get("entityType"):
            if params["entityType"] not in FieldEntityType.values:
                raise ValidationError(f"Parameter 'entityType' must be one of {', '.join(FieldEntityType.values)}")
            queryset = queryset.filter(entity_type=params["entityType"])
        entities = parse_id_list(params, "entities", required=False)
        if entities:
            queryset = queryset.filter(entity_id__in=entities)
        names = [n for raw in params.getlist("name") for n in raw.split(",") if n]
        try:
            names = [check_text(n) for n in names]
        except ValueError as e:
            raise ValidationError(f"Parameter 'name': {e}") from None
        if names:
            queryset = queryset.filter(name__in=names)
        return Response(self.page(queryset, render_info))


class NamesView(_View):
    """GET /api/calculatedFields/names?type&pageSize&page[&textSearch&sortOrder]: PageData of distinct names."""

    def get(self, request):
        kinds = _kind_param(request.query_params, "type")
        if not kinds:
            raise ValidationError("Required request parameter 'type' is not present")
        req = page_request(request.query_params)
        queryset = self.fields().filter(kind__in=kinds)
        if req.text_search:
            queryset = queryset.filter(name__icontains=req.text_search)
        names = sorted(set(queryset.values_list("name", flat=True)), reverse=req.sort_order == "DESC")
        start = req.page * req.page_size
        return Response({"data": names[start:start + req.page_size], "totalPages": -(-len(names) // req.page_size),
                         "totalElements": len(names), "hasNext": start + req.page_size < len(names)})


class TestScriptView(_View):
    """POST /api/calculatedField/testScript {expression, arguments}: ThingsBoard's {output, error}."""

    def post(self, request):
        try:
            return Response(testing.test_script(request.data))
        except testing.TestError as e:
            raise ValidationError(str(e)) from None
        except services.EngineUnavailable as e:
            raise _Unavailable(str(e)) from None


class DebugView(_View):
    """GET /api/calculatedField/{calculatedFieldId}/debug: the newest debug event's body, or null."""

    def get(self, request, pk):
        return JsonResponse(debug.latest(self.field(pk)), safe=False)
