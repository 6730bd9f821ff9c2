"""Reading users at ThingsBoard's paths (UserController): ``GET /api/user/{userId}``,
``GET /api/user/users`` (page), ``GET /api/customer/{customerId}/users`` (page) and
``DELETE /api/user/{userId}``.

A system administrator reads any user; a tenant admin its tenant's users (disabled ones and those
waiting for activation too, as ThingsBoard lists them); a customer user the users of its customer.
Anyone else's is a 404. Saving a user, activation and passwords: tenants/api/accounts.py; user
infos, tenant administrators and "login as": tenants/api/user_infos.py; tenants: tenants/api/tenants.py.
"""

from django.shortcuts import get_object_or_404
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from tbproject.api.ids import parse_uuid
from tbproject.api.permissions import IsTenantAdmin, IsTenantUser, RoleChecked
from tbproject.api.resources import EntityResource
from tenants import accounts
from tenants.api.accounts import refused
from tenants.api.serializers import UserSerializer
from tenants.models import Customer, User

__all__ = ["UserResource", "UserDetailView", "UserListView", "CustomerUsersView"]


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
    permission_classes = [IsAuthenticated, RoleChecked]

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
