"""Custom menus at ThingsBoard PE 4.x's paths (tb-pe-client 4.4's CustomMenuControllerApi; routes in urls.py).

    GET    /api/customMenu                 the config the caller's UI shows (null: the default menu); ETag
    GET    /api/customMenu/currentCustomMenu        the same (ThingsBoard 3.x's path)
    POST   /api/customMenu?assignToList=a,b&force   CustomMenuInfo -> CustomMenu (no config yet)
    GET    /api/customMenu/infos?pageSize&page&scope&assigneeType&textSearch&sortProperty&sortOrder
    GET    /api/customMenu/{id}/info | config | assigneeList
    PUT    /api/customMenu/{id}/config     CustomMenuConfig -> CustomMenu
    PUT    /api/customMenu/{id}/name       the new name (a JSON string or plain text)
    PUT    /api/customMenu/{id}/assign/{assigneeType}?force    body: a list of ids
    DELETE /api/customMenu/{id}?force      CustomMenuDeleteResult (400 with it while assigned, unless force)
"""

import hashlib
import json

from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import BaseParser, JSONParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from branding import levels, menus
from branding.choices import AssigneeType, MenuScope
from tbproject.api.exceptions import ErrorCode, tb_error
from tbproject.api.ids import parse_id_list, parse_uuid
from tbproject.api.pagination import page_data, page_request
from tbproject.api.params import bool_param, choice_param
from tbproject.api.parsers import PlainTextJSONParser
from tbproject.api.permissions import RoleChecked

__all__ = ["EndUserView", "InfosView", "MenuView", "InfoView", "ConfigView", "NameView", "AssigneesView",
           "AssignView"]

RESOURCE = "CUSTOM_MENU"
SORT = {"createdTime": "created_time", "name": "name", "scope": "scope", "assigneeType": "assignee_type"}


class _Base(APIView):
    permission_classes = [IsAuthenticated, RoleChecked]

    def menu(self, request, pk):
        levels.check_read(request, RESOURCE)
        return get_object_or_404(menus.visible(levels.user_owner(request.user)), pk=parse_uuid(pk))

    def writable(self, request, pk):
        menu = self.menu(request, pk)
        levels.check_write(request, levels.user_owner(request.user), RESOURCE, allowed_check=False)
        return menu


class EndUserView(_Base):
    def get(self, request):
        config = menus.end_user(request.user)
        raw = json.dumps(config, sort_keys=True).encode()
        etag = f'"{hashlib.sha256(raw).hexdigest()[:32]}"'
        if etag in request.headers.get("If-None-Match", ""):
            response = HttpResponse(status=304)
        else:
            response = HttpResponse(raw, content_type="application/json")
        response["ETag"] = etag
        return response

    def post(self, request):
        owner = levels.user_owner(request.user)
        levels.check_write(request, owner, RESOURCE, allowed_check=False)
        assign_to = [str(i) for i in parse_id_list(request.query_params, "assignToList", required=False)]
        menu = menus.create(owner, request.data, assign_to, bool_param(request.query_params, "force", False))
        return Response(menus.menu_json(menu))


class InfosView(_Base):
    def get(self, request):
        levels.check_read(request, RESOURCE)
        params = request.query_params
        queryset = menus.visible(levels.user_owner(request.user))
        scope = choice_param(params, "scope", MenuScope.values)
        assignee_type = choice_param(params, "assigneeType", AssigneeType.values)
        if scope:
            queryset = queryset.filter(scope=scope)
        if assignee_type:
            queryset = queryset.filter(assignee_type=assignee_type)
        return Response(page_data(queryset, page_request(params), search_field="name", sort_fields=SORT,
                                  search_lookup="icontains", render=lambda rows: [menus.info_json(m) for m in rows]))


class MenuView(_Base):
    def delete(self, request, pk):
        result = menus.delete(self.writable(request, pk), bool_param(request.query_params, "force", False))
        if not result["success"]:
            message = "The custom menu is assigned: delete it with force=true to unassign it"
            return Response({**tb_error(400, message, ErrorCode.BAD_REQUEST_PARAMS), **result}, status=400)
        return Response(result)


class InfoView(_Base):
    def get(self, request, pk):
        return Response(menus.info_json(self.menu(request, pk)))


class ConfigView(_Base):
    def get(self, request, pk):
        return Response(self.menu(request, pk).config or {"items": []})

    def put(self, request, pk):
        return Response(menus.menu_json(menus.set_config(self.writable(request, pk), request.data)))


class _TextParser(BaseParser):
    """A body that is the new name: a JSON string (the generated client) or the bare text."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):
        raw = stream.read().decode("utf-8", errors="replace") if stream is not None else ""
        try:
            value = json.loads(raw)
        except ValueError:
            return raw.strip()
        return value


class NameView(_Base):
    parser_classes = [_TextParser]

    def put(self, request, pk):
        menus.rename(self.writable(request, pk), request.data)
        return Response(status=200)


class AssigneesView(_Base):
    def get(self, request, pk):
        return Response(menus.assignee_list(self.menu(request, pk)))


class AssignView(_Base):
    parser_classes = [JSONParser, PlainTextJSONParser]

    def put(self, request, pk, assignee_type):
        menu = self.writable(request, pk)
        if assignee_type not in AssigneeType.values:
            raise ValidationError(f"Assignee type must be one of: {', '.join(AssigneeType.values)}")
        ids = request.data if request.data not in (None, "", {}) else []
        if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
            raise ValidationError("Request body must be a list of ids")
        menus.assign(menu, assignee_type, ids, bool_param(request.query_params, "force", False))
        return Response(status=200)
