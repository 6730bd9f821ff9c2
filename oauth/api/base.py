"""Shared pieces of the OAuth 2.0 API views: the system administrator's base view and paging."""

from django.shortcuts import get_object_or_404
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tbproject.api.ids import parse_uuid
from tbproject.api.pagination import page_data, page_request
from tbproject.api.permissions import IsSysAdmin

__all__ = ["SysAdminView", "SysAdminByIdView", "PublicView"]


class SysAdminOr404(IsSysAdmin):
    """An id route: any other user learns nothing of the system's entities (404), as the tenant profiles' id
    routes answer; the routes without an id answer 403."""

    def has_permission(self, request, view) -> bool:
        if super().has_permission(request, view):
            return True
        if request.user and request.user.is_authenticated:
            raise NotFound("Requested item wasn't found!")
        return False


class SysAdminView(APIView):
    """OAuth 2.0 is system configuration: the system administrator only (403 for everyone else)."""

    permission_classes = [IsAuthenticated, IsSysAdmin]
    model = None

    def get_object(self, pk):
        return get_object_or_404(self.model, pk=parse_uuid(pk))

    def page(self, queryset, *, search_field: str, sort_fields: dict, render) -> Response:
        req = page_request(self.request.query_params)
        return Response(page_data(queryset, req, search_field=search_field, sort_fields=sort_fields,
                                  search_lookup="icontains", render=lambda rows: [render(r) for r in rows]))


class SysAdminByIdView(SysAdminView):
    permission_classes = [IsAuthenticated, SysAdminOr404]


class PublicView(APIView):
    """No authentication (ThingsBoard's /api/noauth/...)."""

    authentication_classes: list = []
    permission_classes: list = []
