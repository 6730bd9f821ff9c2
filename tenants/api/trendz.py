"""ThingsBoard's TrendzController (tenants/trendz.py keeps the state):

    GET  /api/trendz/config          TrendzConfiguration {trendzUrl, tbUrl}        administrators
    POST /api/trendz/config          saves it (URLs only, no sync)                  administrators
    POST /api/trendz/connect         TrendzSynchronizationResult of a connect       administrators
    GET  /api/trendz/sync            TrendzSynchronizationResult {version, updatedTs, type, status}   any user
    GET  /api/trendz/healthcheck     TrendzHealthcheckResult {version, type, status, message}         any user
    POST /api/trendz/public/connect  connects when not synced yet; an empty 200                       any user

An administrator's configuration is its tenant's (the system administrator's: the system's).
"""

from django.http import HttpResponse
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tbproject.api.permissions import IsAdministrator
from tenants import trendz
from tenants.system.store import SettingsError

__all__ = ["ConfigView", "ConnectView", "SyncView", "HealthcheckView", "PublicConnectView"]


class _TrendzView(APIView):
    permission_classes = [IsAuthenticated]

    def run(self, call, *args):
        try:
            return call(self.request.user.tenant_id, *args)
        except SettingsError as e:
            raise ValidationError(str(e)) from None


class ConfigView(_TrendzView):
    permission_classes = [IsAuthenticated, IsAdministrator]

    def get(self, request):
        return Response(self.run(trendz.config))

    def post(self, request):
        return Response(self.run(trendz.save_config, request.data))


class ConnectView(_TrendzView):
    permission_classes = [IsAuthenticated, IsAdministrator]

    def post(self, request):
        return Response(self.run(trendz.connect))


class SyncView(_TrendzView):
    def get(self, request):
        return Response(self.run(trendz.sync_result))


class HealthcheckView(_TrendzView):
    def get(self, request):
        return Response(self.run(trendz.healthcheck))


class PublicConnectView(_TrendzView):
    def post(self, request):
        if self.run(trendz.sync_result)["status"] != "SYNCED" and self.run(trendz.config)["trendzUrl"]:
            self.run(trendz.connect)
        return HttpResponse(status=200)
