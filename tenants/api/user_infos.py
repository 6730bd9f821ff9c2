"""Users as the system administrator and the user lists read them (UserController):

    GET /api/tenant/{tenantId}/users?pageSize&page&...   PageData of User: the tenant's administrators
                                                         (system administrator)
    GET /api/user/info/{userId}                          UserInfo (User + ownerId, ownerName, groups)
    GET /api/users/info?pageSize&page&textSearch&...     PageData of UserEmailInfo {id, email, firstName,
                                                         lastName}; textSearch: e-mail, first or last name
    GET /api/customer/{customerId}/userInfos?...         PageData of UserInfo of one customer
    GET /api/userInfos/all?includeCustomers&...          PageData of UserInfo: the tenant's administrators
                                                         (and with includeCustomers its customers' users)
                                                         or, for a customer user, its customer's
    GET /api/users/list?userIds=a,b                      the users among those ids the caller may see
    GET /api/customer/users?pageSize&page&...            PageData of User: the customer users the caller sees
    GET /api/user/{userId}/token                         {token, refreshToken} of that user ("login as")
    GET /api/user/tokenAccessEnabled                     true

A customer user sees only its own customer's users; another tenant's ids are 404. ``groups`` lists the
user groups holding the user (roles/).
"""

import dataclasses

from django.db.models import Q
from django.shortcuts import get_object_or_404
from rest_framework import serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tbproject.api.ids import entity_id, parse_uuid
from tbproject.api.pagination import page_data, page_request
from tbproject.api.params import bool_param
from tbproject.api.permissions import RoleChecked
from tbproject.api.resources import ByIdsView
from tbproject.api.tokens import issue_pair
from tenants import services
from tenants.accounts import NO_PERMISSION, AccountError
from tenants.api.serializers import UserSerializer
from tenants.api.users import UserResource
from tenants.choices import Authority
from tenants.models import Customer, User

__all__ = ["UserInfoSerializer", "UserInfoView", "UsersByQueryView", "CustomerUserInfosView", "AllUserInfosView",
           "UsersByIdsView", "AllCustomerUsersView", "TenantAdminsView", "UserTokenView", "TokenAccessEnabledView"]


class UserInfoSerializer(UserSerializer):
    ownerId = serializers.SerializerMethodField()
    ownerName = serializers.SerializerMethodField()
    groups = serializers.SerializerMethodField()

    class Meta(UserSerializer.Meta):
        fields = (*UserSerializer.Meta.fields, "ownerId", "ownerName", "groups")

    def get_ownerId(self, obj) -> dict:
        if obj.customer_id:
            return entity_id("CUSTOMER", obj.customer_id)
        return entity_id("TENANT", obj.tenant_id)

    def get_ownerName(self, obj) -> str | None:
        owner = obj.customer if obj.customer_id else obj.tenant
        return owner.title if owner is not None else None

    def get_groups(self, obj) -> list:
        """EntityInfo of the user groups holding the user (``EntityGroup.users``, when devices/ is installed)."""
        groups = getattr(obj, "entity_groups", None)
        if groups is None:
            return []
        return [{"id": entity_id("ENTITY_GROUP", g.pk), "name": g.name} for g in groups.all()]


class UserEmailInfoSerializer(serializers.Serializer):
    id = serializers.SerializerMethodField()
    email = serializers.CharField()
    firstName = serializers.CharField(source="first_name")
    lastName = serializers.CharField(source="last_name")

    def get_id(self, obj) -> dict:
        return entity_id("USER", obj.pk)


class _InfoResource(UserResource):
    serializer_class = UserInfoSerializer

    def get_queryset(self):
        rows = super().get_queryset().select_related("tenant", "customer")
        # the user groups of every user of a page in one query (``groups``; the relation is devices/')
        return rows.prefetch_related("entity_groups") if hasattr(User, "entity_groups") else rows


class UserInfoView(_InfoResource):
    permission_classes = [IsAuthenticated, RoleChecked]

    def get(self, request, pk):
        return Response(self.render(self.get_object(pk)))


class UsersByQueryView(UserResource):
    serializer_class = UserEmailInfoSerializer

    def get(self, request):
        req = page_request(request.query_params)
        rows = self.get_queryset()
        if req.text_search:  # ThingsBoard searches e-mail, first and last name here
            text = req.text_search
            rows = rows.filter(Q(email__icontains=text) | Q(first_name__icontains=text) | Q(last_name__icontains=text))
        return Response(page_data(rows, dataclasses.replace(req, text_search=""), search_field=self.search_field,
                                  sort_fields=self.sort_fields, render=lambda found: self.render(found, many=True)))


class CustomerUserInfosView(_InfoResource):
    def get(self, request, customer_id):
        bool_param(request.query_params, "includeCustomers")  # no sub-customers here: checked, changes nothing
        customer = get_object_or_404(Customer.objects.for_user(request.user), pk=parse_uuid(customer_id))
        return Response(self.page(self.get_queryset().filter(customer=customer)))


class AllUserInfosView(_InfoResource):
    def get(self, request):
        include = bool_param(request.query_params, "includeCustomers", default=False)
        rows = self.get_queryset()
        if request.user.authority == Authority.TENANT_ADMIN and not include:
            rows = rows.filter(customer__isnull=True)
        return Response(self.page(rows))


class AllCustomerUsersView(UserResource):
    def get(self, request):
        return Response(self.page(self.get_queryset().filter(authority=Authority.CUSTOMER_USER)))


class UsersByIdsView(ByIdsView, UserResource):
    ids_param = "userIds"


class TenantAdminsView(UserResource):
    permission_classes = [IsAuthenticated, RoleChecked]  # the service answers 403/404 as ThingsBoard

    def get(self, request, tenant_id):
        tenant = services.tenant_for(request.user, parse_uuid(tenant_id))
        return Response(self.page(User.objects.filter(tenant=tenant, authority=Authority.TENANT_ADMIN)))


class UserTokenView(APIView):
    permission_classes = [IsAuthenticated, RoleChecked]

    def get(self, request, pk):
        user = services.token_target(request.user, parse_uuid(pk))
        services.login_as.send(sender=User, actor=request.user, user=user, request=request)
        pair = issue_pair(user)
        return Response({"token": pair["token"], "refreshToken": pair["refreshToken"]})


class TokenAccessEnabledView(APIView):
    permission_classes = [IsAuthenticated]

    def get(self, request):
        if request.user.authority == Authority.CUSTOMER_USER:
            raise AccountError(NO_PERMISSION, 403)
        return Response(True)

