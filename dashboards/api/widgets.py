"""The widget library at ThingsBoard's paths (tb-rest-client's WidgetsBundleControllerApi and
WidgetTypeControllerApi; routes in dashboards/api/urls.py):

    POST   /api/widgetsBundle                       save (id in body = update)
    GET    /api/widgetsBundle/{id}, DELETE the same
    GET    /api/widgetsBundles?pageSize&page&textSearch&sortProperty&sortOrder&tenantOnly&fullSearch&scadaFirst
    GET    /api/widgetsBundles/all                   every bundle the caller reads (legacy list)
    GET    /api/widgetsBundles/list?widgetsBundleIds=a,b
    GET|POST /api/widgetsBundle/{id}/widgetTypes     WidgetType list | set by ids (in order)
    GET|POST /api/widgetsBundle/{id}/widgetTypeFqns  fqn list | set by fqns (in order)
    GET    /api/widgetsBundle/{id}/widgetTypesInfos|widgetTypesDetails
    POST   /api/widgetType?updateExistingByFqn       save WidgetTypeDetails
    GET    /api/widgetType?fqn=system.x|tenant.y     WidgetType by qualified fqn
    GET    /api/widgetType/{id}, DELETE the same;   GET /api/widgetTypeInfo/{id}
    GET    /api/widgetTypes?...&tenantOnly&fullSearch&deprecatedFilter&widgetTypeList&scadaFirst   page of infos
    GET    /api/widgetTypesInfos?widgetsBundleId&... page;  /api/widgetTypesDetails?widgetsBundleId  list;
    GET    /api/widgetTypeFqns?widgetsBundleId       list

Reads are open to every authenticated user (customer users render dashboards with them); writes to the
owner of the row (dashboards/library.py).
"""

from dataclasses import replace

from django.db.models import F, Prefetch, Q
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboards import images, widgets
from dashboards.library import check_writable, get_visible
from dashboards.models import WidgetsBundle, WidgetType
from tbproject.api.ids import parse_id_list, parse_uuid
from tbproject.api.pagination import page_data, page_request, text_search
from tbproject.api.params import bool_param, choice_param, required_param
from tbproject.api.permissions import RoleChecked

__all__ = ["BundleSaveView", "BundleView", "BundlePageView", "BundleAllView", "BundleListView", "BundleTypesView",
           "BundleFqnsView", "BundleInfosView", "BundleDetailsView", "TypeView", "TypeDetailView", "TypeInfoView",
           "TypePageView", "TypeInfosView", "TypeDetailsView", "TypeFqnsView", "paged"]

BUNDLE_SORT = {"title": "title", "name": "title", "createdTime": "created_time", "order": "order"}
TYPE_SORT = {"name": "name", "createdTime": "created_time", "deprecated": "deprecated", "fqn": "fqn"}


def paged(request, queryset, *, search_field: str, sort_fields: dict, default: tuple, first=(), render,
          searched: bool = False):
    """PageData with ThingsBoard's ordering: ``first`` (scadaFirst), the requested sort, then ``default``;
    ``searched``: ``textSearch`` was applied already (a full search)."""
    req = page_request(request.query_params)
    if searched:
        req = replace(req, text_search="")
    order = list(first)
    if req.sort_property:
        field = sort_fields.get(req.sort_property)
        if field is None:
            raise ValidationError(f"Unsupported sortProperty '{req.sort_property:.64}'; use one of: "
                                  f"{', '.join(sorted(sort_fields))}")
        order.append(F(field).desc(nulls_last=True) if req.sort_order == "DESC" else F(field).asc(nulls_last=True))
    queryset = queryset.order_by(*order, *default, "pk")
    return page_data(queryset, replace(req, sort_property=None), search_field=search_field, sort_fields={},
                     search_lookup="icontains", render=render)


def _bundle(request, pk) -> WidgetsBundle:
    return get_visible(WidgetsBundle.objects, request.user, pk=parse_uuid(pk))


def _scoped(request, queryset):
    if bool_param(request.query_params, "tenantOnly", False):
        return queryset.filter(tenant_id=request.user.tenant_id)
    return queryset


class _Base(APIView):
    permission_classes = [IsAuthenticated, RoleChecked]


class BundleSaveView(_Base):
    def post(self, request):
        return Response(widgets.bundle_json(widgets.save_bundle(request.user, request.data)))


class BundleView(_Base):
    def get(self, request, pk):
        data = widgets.bundle_json(_bundle(request, pk))
        if bool_param(request.query_params, "inlineImages", False):
            data["image"] = images.inline(data["image"], request.user)
        return Response(data)

    def delete(self, request, pk):
        bundle = _bundle(request, pk)
        check_writable(request.user, bundle)
        bundle.delete()  # its widget types stay in the library, as in ThingsBoard 3.6+
        return Response(status=200)


class BundlePageView(_Base):
    def get(self, request):
        params = request.query_params
        queryset = _scoped(request, WidgetsBundle.objects.for_user(request.user))
        text = text_search(params)
        full = bool_param(params, "fullSearch", False) and bool(text)
        if full:  # the bundle's own texts or a widget type's name in it (ThingsBoard's full search)
            queryset = queryset.filter(Q(title__icontains=text) | Q(description__icontains=text)
                                       | Q(rows__widget_type__name__icontains=text)).distinct()
        first = (F("scada").desc(),) if bool_param(params, "scadaFirst", False) else ()
        return Response(paged(request, queryset, search_field="title", sort_fields=BUNDLE_SORT, first=first,
                              default=(F("order").asc(nulls_last=True), "title"), searched=full,
                              render=lambda rows: [widgets.bundle_json(b) for b in rows]))


class BundleAllView(_Base):
    def get(self, request):
        queryset = _scoped(request, WidgetsBundle.objects.for_user(request.user)).order_by(
            F("order").asc(nulls_last=True), "title", "pk")
        return Response([widgets.bundle_json(b) for b in queryset])


class BundleListView(_Base):
    def get(self, request):
        ids = parse_id_list(request.query_params, "widgetsBundleIds")
        found = {b.pk: b for b in WidgetsBundle.objects.for_user(request.user).filter(pk__in=ids)}
        return Response([widgets.bundle_json(found[i]) for i in dict.fromkeys(ids) if i in found])


class BundleTypesView(_Base):
    def get(self, request, pk):
        return Response([widgets.type_json(t) for t in widgets.bundle_types(_bundle(request, pk))])

    def post(self, request, pk):
        bundle = _bundle(request, pk)
        check_writable(request.user, bundle)
        widgets.set_bundle_types(request.user, bundle, widgets.types_by_ids(request.user, request.data))
        return Response(status=200)


class BundleFqnsView(_Base):
    def get(self, request, pk):
        return Response([t.fqn for t in widgets.bundle_types(_bundle(request, pk))])

    def post(self, request, pk):
        bundle = _bundle(request, pk)
        check_writable(request.user, bundle)
        widgets.set_bundle_types(request.user, bundle, widgets.types_by_fqns(request.user, request.data))
        return Response(status=200)


class BundleDetailsView(_Base):
    def get(self, request, pk):
        return Response([widgets.details_json(t) for t in widgets.bundle_types(_bundle(request, pk))])


def _type_filters(request, queryset):
    params = request.query_params
    kinds = [k.strip() for raw in params.getlist("widgetTypeList") for k in raw.split(",") if k.strip()]
    if any(k not in widgets.WIDGET_KINDS for k in kinds):
        raise ValidationError("Parameter 'widgetTypeList' must name widget types among: "
                              + ", ".join(widgets.WIDGET_KINDS))
    text = text_search(params)
    full = bool_param(params, "fullSearch", False) and bool(text)
    queryset = widgets.filter_types(queryset, kinds=kinds, full_search=full, text=text,
                                    deprecated=choice_param(params, "deprecatedFilter", ("ALL", "ACTUAL", "DEPRECATED"),
                                                            "ALL"))
    return full, queryset


def _bundles(user) -> Prefetch:
    """A widget type's ``bundles``: those the caller reads (its tenant's and the system's), never the
    bundle another tenant put a system widget type in."""
    return Prefetch("bundles", queryset=WidgetsBundle.objects.for_user(user).order_by("title", "pk"))


def _infos(rows) -> list:
    return [widgets.info_json(t, t.bundles.all()) for t in rows]


class BundleInfosView(_Base):
    def get(self, request, pk):
        bundle = _bundle(request, pk)
        full, queryset = _type_filters(request, widgets.bundle_types(bundle).prefetch_related(_bundles(request.user)))
        return Response(paged(request, queryset, search_field="name", sort_fields=TYPE_SORT, searched=full,
                              default=("bundle_rows__position",), render=_infos))


class TypeView(_Base):
    """``GET /api/widgetType?fqn=`` (WidgetType) and ``POST /api/widgetType`` (save, WidgetTypeDetails)."""

    def get(self, request):
        fqn = required_param(request.query_params, "fqn")
        return Response(widgets.type_json(widgets.find_by_fqn(request.user, fqn)))

    def post(self, request):
        by_fqn = bool_param(request.query_params, "updateExistingByFqn", False)
        return Response(widgets.details_json(widgets.save_widget_type(request.user, request.data, by_fqn)))


def _type(request, pk) -> WidgetType:
    return get_visible(WidgetType.objects, request.user, pk=parse_uuid(pk))


class TypeDetailView(_Base):
    def get(self, request, pk):
        data = widgets.details_json(_type(request, pk))
        if bool_param(request.query_params, "inlineImages", False):
            data["image"] = images.inline(data["image"], request.user)
        return Response(data)

    def delete(self, request, pk):
        widget = _type(request, pk)
        check_writable(request.user, widget)
        widget.delete()
        return Response(status=200)


class TypeInfoView(_Base):
    def get(self, request, pk):
        widget = _type(request, pk)
        return Response(widgets.info_json(widget, WidgetsBundle.objects.for_user(request.user).filter(
            rows__widget_type=widget).order_by("title", "pk")))


class TypePageView(_Base):
    def get(self, request):
        queryset = _scoped(request, WidgetType.objects.for_user(request.user)).prefetch_related(
            _bundles(request.user))
        full, queryset = _type_filters(request, queryset)
        first = (F("scada").desc(),) if bool_param(request.query_params, "scadaFirst", False) else ()
        return Response(paged(request, queryset, search_field="name", sort_fields=TYPE_SORT, first=first,
                              default=("name",), searched=full, render=_infos))


def _param_bundle(request) -> WidgetsBundle:
    return _bundle(request, required_param(request.query_params, "widgetsBundleId"))


class TypeInfosView(BundleInfosView):
    def get(self, request):
        return super().get(request, str(_param_bundle(request).pk))


class TypeDetailsView(_Base):
    def get(self, request):
        return Response([widgets.details_json(t) for t in widgets.bundle_types(_param_bundle(request))])


class TypeFqnsView(_Base):
    def get(self, request):
        return Response([t.fqn for t in widgets.bundle_types(_param_bundle(request))])
