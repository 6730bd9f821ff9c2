"""ThingsBoard's secret controller (tb-pe-client ``SecretControllerApi``), tenant administrators only:

    POST   /api/secret                       save (SecretInfo back, never the value)
    GET    /api/secret?name=X                SecretInfo by name
    GET    /api/secrets?pageSize&page...     PageData of SecretInfo (textSearch: name or description)
    GET    /api/secret/names                 the tenant's secret names
    GET    /api/secret/{id}/info             SecretInfo
    PUT    /api/secret/{id}/value            body: the new value (a JSON string or plain text)
    PUT    /api/secret/{id}/description      body: the new description
    DELETE /api/secret/{id}                  TbSecretDeleteResult; 400 with it while the secret is used
"""

import json
from dataclasses import replace

from django.db.models import Q
from django.shortcuts import get_object_or_404
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from tbproject.api.exceptions import ErrorCode, tb_error
from tbproject.api.ids import parse_uuid
from tbproject.api.pagination import page_data, page_request
from tbproject.api.params import required_param
from tbproject.api.permissions import IsTenantAdmin
from vault import services
from vault.models import Secret

__all__ = ["SecretView", "SecretListView", "SecretNamesView", "SecretInfoView", "SecretValueView",
           "SecretDescriptionView", "SecretDetailView"]

SORT_FIELDS = {"createdTime": "created_time", "name": "name", "type": "type", "description": "description"}


class _Base(APIView):
    permission_classes = [IsTenantAdmin]

    def secrets(self):
        return Secret.objects.filter(tenant_id=self.request.user.tenant_id)

    def secret(self, pk) -> Secret:
        return get_object_or_404(self.secrets(), pk=parse_uuid(pk))

    def answer(self, call, *args, **kwargs) -> Response:
        try:
            return Response(services.info_json(call(*args, **kwargs)))
        except services.SecretRefused as e:
            raise ValidationError(str(e)) from None


class SecretView(_Base):
    def post(self, request):
        data = request.data
        if not isinstance(data, dict):
            raise ValidationError("Request body must be a JSON object")
        raw_id = data.get("id")
        existing = None
        if raw_id:
            existing = self.secret(raw_id.get("id") if isinstance(raw_id, dict) else raw_id)
        return self.answer(services.save, request.user.tenant_id, data, existing=existing)

    def get(self, request):
        name = required_param(request.query_params, "name")
        return Response(services.info_json(get_object_or_404(self.secrets(), name=name)))


class SecretListView(_Base):
    def get(self, request):
        req = page_request(request.query_params)
        queryset = self.secrets()
        if req.text_search:  # ThingsBoard: a case-insensitive substring of the name or the description
            queryset = queryset.filter(Q(name__icontains=req.text_search) | Q(description__icontains=req.text_search))
            req = replace(req, text_search="")
        return Response(page_data(queryset, req, search_field="name", sort_fields=SORT_FIELDS,
                                  render=lambda rows: [services.info_json(s) for s in rows]))


class SecretNamesView(_Base):
    def get(self, request):
        return Response(services.names(request.user.tenant_id))


class SecretInfoView(_Base):
    def get(self, request, pk):
        return Response(services.info_json(self.secret(pk)))


def body_text(request, *, allow_null: bool) -> str | None:
    """The string a PUT carries: ThingsBoard's clients send it as a JSON string (``"abc"``), a browser or
    curl may send the bare text; JSON null only where it means "none" (a description)."""
    raw = request.body
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ValidationError("The body must be UTF-8 text") from None
    if "json" in (request.content_type or "").lower():
        try:
            value = json.loads(text)
        except ValueError:
            return text
        if isinstance(value, str) or (value is None and allow_null):
            return value
        raise ValidationError("The body must be a JSON string")
    return text


class SecretValueView(_Base):
    parser_classes = []  # the body is read as it came (body_text)

    def put(self, request, pk):
        secret = self.secret(pk)
        return self.answer(services.set_value, secret, body_text(request, allow_null=False))


class SecretDescriptionView(_Base):
    parser_classes = []

    def put(self, request, pk):
        secret = self.secret(pk)
        return self.answer(services.set_description, secret, body_text(request, allow_null=True))


class SecretDetailView(_Base):
    def delete(self, request, pk):
        result = services.delete(self.secret(pk))
        if result["success"]:
            return Response(result)
        used = ", ".join(f"{kind.lower().replace('_', ' ')} '{row['name']}'"
                         for kind, rows in result["references"].items() for row in rows)
        body = {**tb_error(400, f"The secret is used by {used}: remove those references first",
                           ErrorCode.BAD_REQUEST_PARAMS), **result}
        return Response(body, status=400)
