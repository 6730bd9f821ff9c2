"""The current user's own settings at ThingsBoard's paths (rules: tenants/user_settings.py):

    POST   /api/user/settings                  replace the general settings; answers them
    GET    /api/user/settings/general          the general settings ({} when none)
    PUT    /api/user/settings/general          update only the keys sent (dotted keys set nested values)
    DELETE /api/user/settings/{paths}          remove comma-separated dotted paths of the general settings
    GET    /api/user/settings/{type}           the same for a type: general, quick_links, doc_links,
    PUT    /api/user/settings/{type}           dashboards, getting_started (case-insensitive)
    DELETE /api/user/settings/{type}/{paths}
"""

from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tenants import user_settings

__all__ = ["SaveSettingsView", "SettingsView", "DeleteTypedSettingsView"]

GENERAL = "GENERAL"


class _SettingsView(APIView):
    """A refused change raises AccountError: the API's exception handler answers it (tbproject/api/exceptions.py)."""

    permission_classes = [IsAuthenticated]


class SaveSettingsView(_SettingsView):
    def post(self, request):
        return Response(user_settings.save(request.user, GENERAL, request.data))


class SettingsView(_SettingsView):
    """``/api/user/settings/{x}``: ``x`` is the type for GET and PUT, the paths of the general settings
    for DELETE (ThingsBoard's two routes of the same shape)."""

    def get(self, request, settings):
        return Response(user_settings.get(request.user, user_settings.settings_type(settings)))

    def put(self, request, settings):
        user_settings.put(request.user, user_settings.settings_type(settings), request.data)
        return Response(status=200)

    def delete(self, request, settings):
        user_settings.delete(request.user, GENERAL, settings)
        return Response(status=200)


class DeleteTypedSettingsView(_SettingsView):
    def delete(self, request, settings, paths):
        user_settings.delete(request.user, user_settings.settings_type(settings), paths)
        return Response(status=200)
