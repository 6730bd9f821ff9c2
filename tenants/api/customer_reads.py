"""Customer reads beyond the entity family, at ThingsBoard's paths:

    GET /api/customer/info/{customerId}        CustomerInfo (the customer with ownerName and groups)
    GET /api/customerInfos/all?pageSize&page&textSearch&sortProperty&sortOrder   PageData of CustomerInfo
    GET /api/customer/{customerId}/shortInfo   {"title", "isPublic"}
    GET /api/customer/{customerId}/title       the title as text/plain, as ThingsBoard sends it
    GET /api/customer/{customerId}/customerInfos   sub-customers: always an empty page (no hierarchy here)

Visibility is the customer family's: tenant admins see their tenant's customers, a customer user
its own; anything else is a 404.
"""

from django.http import HttpResponse
from rest_framework.response import Response

from tbproject.api.ids import parse_uuid
from tbproject.api.permissions import IsTenantAdmin, IsTenantUser
from tenants.api.customers import CustomerResource

__all__ = ["CustomerInfoView", "CustomerInfosView", "ShortInfoView", "TitleView", "SubCustomersView"]


class _CustomerRead(CustomerResource):
    permission_classes = [IsTenantUser]

    def render(self, objects, many=False):
        rows = super().render(objects, many=many)
        owner = self.request.user.tenant.title if self.request.user.tenant_id else None
        for row in rows if many else [rows]:
            row["ownerName"], row["groups"] = owner, []  # customers here belong to no customer groups
        return rows


class CustomerInfoView(_CustomerRead):
    def get(self, request, pk):
        return Response(self.render(self.get_object(pk)))


class CustomerInfosView(_CustomerRead):
    permission_classes = [IsTenantAdmin]

    def get(self, request):
        return Response(self.page(self.get_queryset()))


class ShortInfoView(_CustomerRead):
    def get(self, request, customer_id):
        return Response({"title": self.get_object(parse_uuid(customer_id)).title, "isPublic": False})


class TitleView(_CustomerRead):
    def get(self, request, customer_id):
        return HttpResponse(self.get_object(parse_uuid(customer_id)).title, content_type="text/plain; charset=utf-8")


class SubCustomersView(_CustomerRead):
    """PE's customer hierarchy: customers here own no customers, so the page is always empty."""

    def get(self, request, customer_id):
        customer = self.get_object(parse_uuid(customer_id))
        return Response(self.page(self.get_queryset().none().filter(pk=customer.pk)))
