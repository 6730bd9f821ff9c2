"""Dashboards at ThingsBoard's paths (tb-rest-client's DashboardControllerApi, CE and PE; routes in
dashboards/api/urls.py, group and per-user endpoints in groups.py and visits.py beside this):

    POST   /api/dashboard?entityGroupId(s)                save (id in body = update; ``version`` checked),
                                                          joining the DASHBOARD groups named (PE)
    GET    /api/dashboard/{id}, DELETE the same            fetch (tenant admin; customer user if assigned), delete
    GET    /api/dashboard/info/{id}                        DashboardInfo
    GET    /api/tenant/dashboards?...&mobile               page of DashboardInfo (tenant admin)
    GET    /api/tenant/{tenantId}/dashboards?...           a tenant's page (system administrator)
    GET    /api/user/dashboards?...&mobile, /api/dashboards/all   page of what the caller sees (PE)
    GET    /api/customer/{customerId}/dashboards?...       page of one customer's
    GET    /api/dashboards?dashboardIds=a,b                the visible ones among these ids (DashboardInfo)
    POST   /api/customer/{customerId}/dashboard/{id}       assign; DELETE the same: unassign
    POST   /api/dashboard/{id}/customers[/add|/remove]     body ["customerId", ...]: set, add, remove
    POST   /api/customer/public/dashboard/{id}             501: there is no public customer here
    GET    /api/dashboard/home[/info], /api/tenant/dashboard/home/info (GET, POST; tenant admin),
           /api/customer/dashboard/home/info (GET, POST; customer user: its customer's setting)
    GET    /api/dashboard/serverTime, /api/dashboard/maxDatapointsLimit

``mobile=true`` leaves out the dashboards hidden on mobile and puts them in ``mobileOrder`` first
(those without one last), then in the requested order, as ThingsBoard does (services.mobile_order).
"""

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from dashboards import groups, services
from dashboards.api.serializers import DashboardInfoSerializer, DashboardSerializer
from dashboards.models import Dashboard
from tbproject.api.exceptions import NotSupported
from tbproject.api.ids import entity_id, parse_uuid
from tbproject.api.pagination import page_data, page_request
from tbproject.api.params import bool_param
from tbproject.api.permissions import IsTenantAdmin, IsTenantUser, RoleChecked
from tbproject.api.resources import EntityResource
from tbproject.clock import now_ms
from tenants.accounts import AccountError
from tenants.api.accounts import refused
from tenants.choices import Authority
from tenants.models import Customer
from tenants.services import tenant_for

__all__ = ["DashboardResource", "InfoResource"]

#: ThingsBoard's ui.dashboard.max_datapoints_limit default
MAX_DATAPOINTS_LIMIT = 50000


def visible_customer(user, raw_id) -> Customer:
    """The customer named in a path, if the user may see it (customer users: only their own)."""
    return get_object_or_404(Customer.objects.for_user(user), pk=parse_uuid(raw_id))


class DashboardResource(EntityResource):
    model = Dashboard
    serializer_class = DashboardSerializer
    search_field = "title"
    search_lookup = "icontains"  # ThingsBoard: a case-insensitive substring of the title
    sort_fields = {"createdTime": "created_time", "title": "title", "name": "title"}
    joining = ()  # the DASHBOARD groups a save joins (``?entityGroupId(s)=``)

    def get_queryset(self):
        return Dashboard.objects.for_user(self.request.user).select_related("tenant").prefetch_related(
            "assigned_customers", "groups")

    def before_save(self, serializer) -> None:
        expected = services.expected_version(self.request.data.get("version"))
        if serializer.instance is not None:
            services.check_version(serializer.instance, expected)
        self.joining = groups.groups_named(self.request.user.tenant, self.request.query_params)

    def after_save(self, obj) -> None:
        if self.joining:
            obj.groups.add(*self.joining)

    def failed(self, action, instance, name, error) -> None:
        title = self.request.data.get("title") if isinstance(self.request.data, dict) else None
        super().failed(action, instance, name or title, error)

    def page(self, queryset, render=None):
        if not bool_param(self.request.query_params, "mobile", False):
            return super().page(queryset, render)
        queryset, req = services.mobile_order(queryset, page_request(self.request.query_params), self.sort_fields)
        render = render or self.render
        return page_data(queryset, req, search_field=self.search_field, sort_fields={},
                         search_lookup=self.search_lookup, render=lambda rows: render(rows, many=True))

    def render_info(self, objects, many=False):
        return DashboardInfoSerializer(objects, many=many, context={"request": self.request}).data


class InfoResource(DashboardResource):
    """Answers DashboardInfo instead of the full dashboard."""

    def render(self, objects, many=False):
        return self.render_info(objects, many)


class TenantListView(InfoResource):
    """`GET /api/tenant/{tenantId}/dashboards`: a system administrator's look at one tenant's dashboards."""

    # tenant_for answers 403/404 as ThingsBoard (and as tenants' lists)
    permission_classes = [IsAuthenticated, RoleChecked]

    def get(self, request, tenant_id):
        try:
            tenant = tenant_for(request.user, parse_uuid(tenant_id))
        except AccountError as e:
            raise refused(e) from None
        return Response(self.page(self.get_queryset().filter(tenant=tenant)))


class CustomerListView(InfoResource):
    permission_classes = [IsTenantUser]

    def get(self, request, customer_id):
        customer = visible_customer(request.user, customer_id)
        return Response(self.page(self.get_queryset().filter(assigned_customers=customer)))


class InfoDetailView(InfoResource):
    permission_classes = [IsTenantUser]

    def get(self, request, pk):
        return Response(self.render(self.get_object(pk)))


class AssignView(DashboardResource):
    """POST assigns, DELETE unassigns; both answer the dashboard (nothing changes when already so)."""

    permission_classes = [IsTenantAdmin]

    def post(self, request, customer_id, pk):
        customer = visible_customer(request.user, customer_id)
        return Response(self.render(services.assign(self.get_object(pk), customer)))

    def delete(self, request, customer_id, pk):
        customer = visible_customer(request.user, customer_id)
        return Response(self.render(services.unassign(self.get_object(pk), customer)))


class CustomersView(DashboardResource):
    """`POST /api/dashboard/{id}/customers` (the list replaces the assignments), `.../customers/add`,
    `.../customers/remove`: a JSON array of customer ids; an unknown one is a 404 and changes nothing."""

    permission_classes = [IsTenantAdmin]
    mode = "set"

    def post(self, request, pk):
        dashboard = self.get_object(pk)
        data = request.data
        if self.mode == "set" and data in (None, "", {}):
            data = []  # ThingsBoard: no body removes every assignment
        if not isinstance(data, list) or not all(isinstance(i, str) for i in data):
            raise ValidationError("The body must be a JSON array of customer ids")
        customers = [visible_customer(request.user, raw) for raw in dict.fromkeys(data)]
        return Response(self.render(services.set_customers(dashboard, customers, self.mode)))


class PublicView(DashboardResource):
    permission_classes = [IsTenantAdmin]

    def _refuse(self, pk):
        self.get_object(pk)  # another tenant's id is a 404 first
        raise NotSupported("There is no public customer on this server: a dashboard is shown to the customers "
                           "it is assigned to (POST /api/customer/{customerId}/dashboard/{dashboardId})")

    def post(self, request, pk):
        self._refuse(pk)

    def delete(self, request, pk):
        self._refuse(pk)


def _empty() -> HttpResponse:
    # What ThingsBoard answers when no home dashboard is set: 200 and no body.
    return HttpResponse(status=200, content_type="application/json")


class HomeView(DashboardResource):
    permission_classes = [IsAuthenticated, RoleChecked]

    def get(self, request):
        found = services.home_dashboard(request.user)
        if found is None:
            return _empty()
        dashboard, hide = found
        return Response({**self.render(dashboard), "hideDashboardToolbar": hide})


class HomeInfoView(DashboardResource):
    permission_classes = [IsAuthenticated, RoleChecked]

    def get(self, request):
        found = services.home_dashboard(request.user)
        if found is None:
            return _empty()
        dashboard, hide = found
        return Response({"dashboardId": entity_id("DASHBOARD", dashboard.pk), "hideDashboardToolbar": hide})


class IsCustomerUser(BasePermission):
    message = "You don't have permission to perform this operation!"

    def has_permission(self, request, view) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and user.authority == Authority.CUSTOMER_USER)


class TenantHomeInfoView(DashboardResource):
    """The tenant's own setting (``homeDashboardId`` in its additionalInfo); POST with a null
    ``dashboardId`` removes it. The customer's twin answers its customer's setting."""

    permission_classes = [IsTenantAdmin]

    def owner(self):
        return self.request.user.tenant

    def get(self, request):
        return Response(services.home_info(self.owner()))

    def post(self, request):
        raw, hide = services.parse_home_info(request.data)
        services.set_home(self.owner(), self.get_object(raw) if raw else None, hide)
        return Response(status=200)


class CustomerHomeInfoView(TenantHomeInfoView):
    """A customer user's customer (a dashboard it sees: one assigned to its customer)."""

    permission_classes = [IsCustomerUser, RoleChecked]

    def owner(self):
        return get_object_or_404(Customer.objects.filter(tenant_id=self.request.user.tenant_id),
                                 pk=self.request.user.customer_id)


class ServerTimeView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response(now_ms())


class MaxDatapointsView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response(MAX_DATAPOINTS_LIMIT)
