"""Users' API keys at ThingsBoard's paths (ApiKeyController); the rules are in tenants/system/api_keys.py:

    POST   /api/apiKey                              ApiKeyInfo -> ApiKey (its value, this once)
    GET    /api/apiKeys/{userId}?pageSize&page&textSearch&sortProperty&sortOrder   PageData of ApiKeyInfo
    PUT    /api/apiKey/{id}/description             body: the description (a JSON string or plain text)
    PUT    /api/apiKey/{id}/enabled/{enabledValue}  true | false
    DELETE /api/apiKey/{id}
"""

import json

from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import APIView

from tbproject.api.pagination import page_data, page_request
from tbproject.api.permissions import IsTenantUser
from tenants.choices import Authority
from tenants.system import api_keys
from tenants.system.api_keys import ApiKeyError

__all__ = ["SaveApiKeyView", "UserApiKeysView", "DescriptionView", "EnabledView", "ApiKeyView"]

_SORT = {"createdTime": "created_time", "description": "description", "expirationTime": "expiration_time",
         "enabled": "enabled"}


def _refused(error: ApiKeyError) -> exceptions.APIException:
    return exceptions.NotFound(str(error)) if error.status == 404 else exceptions.ValidationError(str(error))


class AnyUser(IsTenantUser):
    """Every authenticated user (the system administrator too, for which no role applies); a tenant user's
    request then meets the role check (tbproject/api/role_hook.py) as every tenant-user route does."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if user and user.is_authenticated and user.authority == Authority.SYS_ADMIN:
            return True
        return super().has_permission(request, view)


class _KeyView(APIView):
    permission_classes = [AnyUser]

    def run(self, call, *args):
        try:
            return call(*args)
        except ApiKeyError as e:
            raise _refused(e) from None


class SaveApiKeyView(_KeyView):
    def post(self, request):
        data = request.data
        key_id = data.get("id") if isinstance(data, dict) else None
        if key_id:  # an update: the value is never shown again
            key = self.run(api_keys.update, request.user, key_id.get("id") if isinstance(key_id, dict) else key_id,
                           data)
            return Response({**api_keys.info(key), "value": ""})
        key, value = self.run(api_keys.create, request.user, data)
        return Response({**api_keys.info(key), "value": value})


class UserApiKeysView(_KeyView):
    def get(self, request, user_id):
        keys = self.run(api_keys.visible_keys, request.user, user_id)
        page = page_request(request.query_params)
        return Response(page_data(keys, page, search_field="description", sort_fields=_SORT,
                                  render=lambda rows: [api_keys.info(k) for k in rows], search_lookup="icontains"))


class DescriptionView(_KeyView):
    def put(self, request, pk):
        # ThingsBoard's client sends a JSON string; a browser may send the bare text
        try:
            text = request.body.decode("utf-8")
        except UnicodeDecodeError:
            raise exceptions.ValidationError("The description must be UTF-8 text") from None
        try:
            parsed = json.loads(text)
        except ValueError:
            parsed = text
        key = self.run(api_keys.describe, request.user, pk, parsed if isinstance(parsed, str) else None)
        return Response(api_keys.info(key))


class EnabledView(_KeyView):
    def put(self, request, pk, enabled_value):
        value = enabled_value.lower()  # the Python client sends "True"/"False"
        if value not in ("true", "false"):
            raise exceptions.ValidationError("enabledValue must be true or false")
        key = self.run(api_keys.set_enabled, request.user, pk, value == "true")
        return Response(api_keys.info(key))


class ApiKeyView(_KeyView):
    def delete(self, request, pk):
        self.run(api_keys.delete, request.user, pk)
        return Response(status=200)
