"""Customers: `POST /api/customer`, `GET|DELETE /api/customer/{id}`, `GET /api/customers` (page),
`GET /api/tenant/customers?customerTitle=`, `GET /api/customers/list?customerIds=`.

Customer users may read only their own customer; everything else is for tenant admins.
"""

from django.http import Http404
from rest_framework import serializers
from rest_framework.response import Response

from tbproject.api.ids import entity_id
from tbproject.api.params import required_param
from tbproject.api.permissions import IsTenantAdmin
from tbproject.api.resources import EntityResource
from tbproject.api.serializers import TbEntitySerializer
from tenants.models import Customer

__all__ = ["CustomerSerializer", "CustomerResource", "ByTitleView"]

_TEXT_FIELDS = ("phone", "country", "state", "city", "address", "address2", "zip")
_TITLE_MISSING = "Customer title should be specified!"


class CustomerSerializer(TbEntitySerializer):
    entity_type = "CUSTOMER"

    title = serializers.CharField(max_length=255, error_messages={
        "required": _TITLE_MISSING, "blank": _TITLE_MISSING, "null": _TITLE_MISSING})
    email = serializers.EmailField(required=False, allow_blank=True, allow_null=True)
    name = serializers.CharField(source="title", read_only=True)
    ownerId = serializers.SerializerMethodField()

    class Meta:
        model = Customer
        fields = TbEntitySerializer.base_fields + ("title", "name", "email", *_TEXT_FIELDS, "ownerId")
        extra_kwargs = {name: {"required": False, "allow_blank": True, "allow_null": True} for name in _TEXT_FIELDS}

    def get_ownerId(self, obj) -> dict:
        return entity_id("TENANT", obj.tenant_id)

    def validate_title(self, value: str) -> str:
        if not value.strip():
            raise serializers.ValidationError(_TITLE_MISSING)
        return value.strip()

    def save(self, **kwargs):
        for name in ("email", *_TEXT_FIELDS):
            if name in self.validated_data and self.validated_data[name] is None:
                self.validated_data[name] = ""
        if self.instance is None:
            kwargs["tenant"] = self.tenant
        return super().save(**kwargs)


class CustomerResource(EntityResource):
    model = Customer
    serializer_class = CustomerSerializer
    search_field = "title"
    search_lookup = "icontains"
    sort_fields = {"createdTime": "created_time", "title": "title", "email": "email", "country": "country",
                   "city": "city"}
    duplicate_message = "Customer with such title already exists!"


class ByTitleView(CustomerResource):
    """`GET /api/tenant/customers?customerTitle=`: one customer by exact title."""

    permission_classes = [IsTenantAdmin]

    def get(self, request):
        title = required_param(request.query_params, "customerTitle")
        customer = self.get_queryset().filter(title=title).first()
        if customer is None:
            raise Http404("Requested customer wasn't found!")
        return Response(self.render(customer))
