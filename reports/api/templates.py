"""Report templates at ThingsBoard's paths (report_template_controller_api.py of tb-pe-client).

    POST   /api/reportTemplate                         save (id in the body: update)
    GET    /api/reportTemplate/{id}                    ReportTemplate
    GET    /api/reportTemplate/info/{id}               ReportTemplateInfo
    DELETE /api/reportTemplate/{id}
    GET    /api/reportTemplateInfos/all?pageSize&page[&textSearch&sortProperty&sortOrder&typeList&formatList
           &includeCustomers]                           PageData of ReportTemplateInfo
    GET    /api/reportTemplates?reportTemplateIds=a,b   the visible ones, as ReportTemplateInfo

A customer user's templates belong to its customer (``customerId`` is forced to it), as ThingsBoard does;
a tenant administrator may give one to a customer of its tenant.
"""

from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from reports import services
from reports.api import shapes
from reports.api.common import owned
from reports.choices import ReportFormat, TemplateType
from reports.models import ReportTemplate
from tbproject.api.ids import parse_id_list, parse_uuid
from tbproject.api.pagination import page_data, page_request
from tbproject.api.permissions import IsTenantUser
from tbproject.text import check_text
from tenants.choices import Authority
from tenants.models import Customer

__all__ = ["SaveView", "DetailView", "InfoView", "PageView", "ByIdsView"]

SORT = {"createdTime": "created_time", "name": "name", "format": "format", "type": "type",
        "description": "description", "ownerName": "customer__title"}


def _templates(request):
    return ReportTemplate.objects.for_user(request.user).select_related("customer")


def _text(data: dict, key: str, *, required: bool) -> str:
    value = data.get(key)
    if value in (None, "") or (isinstance(value, str) and not value.strip()):
        if required:
            raise ValidationError(f"Report template {key} should be specified!")
        return ""
    if not isinstance(value, str):
        raise ValidationError(f"Report template {key} must be a string")
    if key == "name" and len(value) > 255:
        raise ValidationError("Report template name length must be equal or less than 255")
    try:
        return check_text(value)
    except ValueError as e:
        raise ValidationError(str(e)) from None


def _choice(data: dict, key: str, choices, default=None) -> str:
    value = data.get(key) or default
    if value not in choices:
        raise ValidationError(f"Report template {key} should be one of {', '.join(choices)}")
    return value


def _customer(request, data, template):
    user = request.user
    if user.authority == Authority.CUSTOMER_USER:
        return user.customer_id
    raw = data.get("customerId")
    pk = raw.get("id") if isinstance(raw, dict) else raw
    if not pk or str(pk) == "13814000-1dd2-11b2-8080-808080808080":
        return template.customer_id if template else None
    customer = Customer.objects.filter(tenant_id=user.tenant_id, pk=parse_uuid(pk)).first()
    if customer is None:
        raise ValidationError(f"Customer with id [{pk}] is not found")
    return customer.pk


class SaveView(APIView):
    permission_classes = [IsTenantUser]

    def post(self, request):
        data = request.data
        if not isinstance(data, dict):
            raise ValidationError("Request body must be a JSON object")
        raw_id = data.get("id")
        pk = raw_id.get("id") if isinstance(raw_id, dict) else raw_id
        template = get_object_or_404(_templates(request), pk=parse_uuid(pk)) if pk else None
        fmt = _choice(data, "format", ReportFormat.values)
        configuration = services.check_template_config(data.get("configuration"), fmt)
        if configuration["format"] != fmt:
            raise ValidationError("Report template configuration format must match the template format")
        services.check_dashboards(request.user, configuration)  # another tenant's (or an unseen) dashboard: 404
        values = {"name": _text(data, "name", required=True), "description": _text(data, "description", required=False),
                  "format": fmt, "type": _choice(data, "type", TemplateType.values, TemplateType.REPORT),
                  "configuration": configuration, "customer_id": _customer(request, data, template)}
        if template is None:
            template = ReportTemplate.objects.create(tenant_id=request.user.tenant_id, **values)
        else:
            for key, value in values.items():
                setattr(template, key, value)
            template.save()
        return Response(shapes.template_full(_templates(request).get(pk=template.pk)))


class DetailView(APIView):
    permission_classes = [IsTenantUser]

    def get(self, request, pk):
        return Response(shapes.template_full(get_object_or_404(_templates(request), pk=parse_uuid(pk))))

    def delete(self, request, pk):
        get_object_or_404(_templates(request), pk=parse_uuid(pk)).delete()
        return Response(status=200)


class InfoView(APIView):
    permission_classes = [IsTenantUser]

    def get(self, request, pk):
        return Response(shapes.template_info(get_object_or_404(_templates(request), pk=parse_uuid(pk))))


def _list_param(params, name: str, choices) -> list[str]:
    values = [v.strip() for raw in params.getlist(name) for v in raw.split(",") if v.strip()]
    bad = [v for v in values if v not in choices]
    if bad:
        raise ValidationError(f"Parameter '{name}': unknown value '{bad[0][:32]}'")
    return values


class PageView(APIView):
    permission_classes = [IsTenantUser]

    def get(self, request):
        params = request.query_params
        queryset = owned(_templates(request), request)
        types, formats = _list_param(params, "typeList", TemplateType.values), _list_param(
            params, "formatList", ReportFormat.values)
        if types:
            queryset = queryset.filter(type__in=types)
        if formats:
            queryset = queryset.filter(format__in=formats)
        return Response(page_data(queryset, page_request(params), search_field="name", sort_fields=SORT,
                                  search_lookup="icontains",
                                  render=lambda rows: [shapes.template_info(t) for t in rows]))


class ByIdsView(APIView):
    permission_classes = [IsTenantUser]

    def get(self, request):
        ids = parse_id_list(request.query_params, "reportTemplateIds")
        found = {t.pk: t for t in _templates(request).filter(pk__in=ids)}
        return Response([shapes.template_info(found[i]) for i in dict.fromkeys(ids) if i in found])
