"""Reading users and the tenant, at ThingsBoard's paths (UserController, TenantController reads):
``GET /api/user/{userId}``, ``GET /api/user/users`` (page), ``GET /api/customer/{customerId}/users``
(page), ``DELETE /api/user/{userId}``, ``GET /api/tenant/{tenantId}`` and ``GET /api/tenant/info/{tenantId}``.

A system administrator reads any user; a tenant admin its tenant's users (disabled ones and those
waiting for activation too, as ThingsBoard lists them) and its own tenant; a customer user the
users of its customer; only tenant admins read the tenant. Anyone else's is a 404. Saving a user,
activation and passwords: tenants/api/accounts.py.
"""

from django.shortcuts import get_object_or_404
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from tbproject.api.ids import EntityIdField, parse_uuid
from tbproject.api.permissions import IsTenantAdmin, IsTenantUser
from tbproject.api.resources import EntityResource
from tenants import accounts
from tenants.api.accounts import refused
from tenants.api.serializers import UserSerializer
from tenants.models import Customer, Tenant, TenantProfile, User

__all__ = ["UserResource", "UserDetailView", "UserListView", "CustomerUsersView", "TenantView"]


class UserResource(EntityResource):
    model = User
    serializer_class = UserSerializer
    permission_classes = [IsTenantUser]
    search_field = "email"
    search_lookup = "icontains"
    sort_fields = {"createdTime": "created_time", "email": "email", "firstName": "first_name",
                   "lastName": "last_name"}

    def get_queryset(self):
        return accounts.visible_users(self.request.user)


class UserDetailView(UserResource):
    permission_classes = [IsAuthenticated]

    def get(self, request, pk):
        return Response(self.render(self.get_object(pk)))

    def delete(self, request, pk):
        try:
            accounts.delete_user(request.user, parse_uuid(pk))
        except accounts.AccountError as e:
            raise refused(e) from None
        return Response(status=200)


class UserListView(UserResource):
    def get(self, request):
        return Response(self.page(self.get_queryset()))


class CustomerUsersView(UserResource):
    permission_classes = [IsTenantAdmin]

    def get(self, request, customer_id):
        customer = get_object_or_404(Customer.objects.for_user(request.user), pk=parse_uuid(customer_id))
        return Response(self.page(self.get_queryset().filter(customer=customer)))


class TenantSerializer(serializers.ModelSerializer):
    id = EntityIdField("TENANT", source="pk", read_only=True)
    createdTime = serializers.IntegerField(source="created_time", read_only=True)
    name = serializers.CharField(source="title", read_only=True)
    tenantProfileId = serializers.SerializerMethodField()
    tenantProfileName = serializers.SerializerMethodField()
    additionalInfo = serializers.JSONField(source="additional_info", read_only=True)

    class Meta:
        model = Tenant
        fields = ("id", "createdTime", "title", "name", "email", "tenantProfileId", "tenantProfileName",
                  "additionalInfo")

    def _profile(self, obj):
        # no profile of its own means the default one
        return obj.tenant_profile or TenantProfile.objects.filter(is_default=True).first()

    def get_tenantProfileId(self, obj) -> dict | None:
        profile = self._profile(obj)
        return {"entityType": "TENANT_PROFILE", "id": str(profile.pk)} if profile else None

    def get_tenantProfileName(self, obj) -> str | None:
        profile = self._profile(obj)
        return profile.name if profile else None


class TenantView(EntityResource):
    """The caller's own tenant; any other id is a 404 (system administrators manage tenants in the admin)."""

    model = Tenant
    serializer_class = TenantSerializer
    permission_classes = [IsTenantAdmin]  # as ThingsBoard: not customer users

    def get(self, request, pk):
        tenant = get_object_or_404(Tenant.objects.select_related("tenant_profile").filter(pk=request.user.tenant_id),
                                   pk=parse_uuid(pk))
        return Response(self.render(tenant))
