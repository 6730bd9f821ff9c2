"""The system administrator's settings and info pages at ThingsBoard's paths (AdminController); the rules
are in tenants/system/:

    GET  /api/admin/settings/{key}          general, mail (no password), connectivity, sms...
    POST /api/admin/settings                {key, jsonValue}
    POST /api/admin/settings/testMail       {key: "mail", jsonValue}: a real test mail to the caller
    GET  /api/admin/securitySettings        POST the same: password policy, lockout, link TTLs
    GET  /api/admin/jwtSettings             POST the same: answers a new token pair
    GET  /api/admin/systemInfo | featuresInfo | licenseUsageInfo | updates

System administrators only (403 for anyone else, as ThingsBoard). Version control (repository and
auto-commit settings) is not kept by this server: it answers as ThingsBoard does before it is configured.
"""

from rest_framework import exceptions
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from tbproject.api.exceptions import NotSupported
from tbproject.api.permissions import IsSysAdmin, IsTenantAdmin
from tbproject.api.tokens import issue_pair
from tenants.system import admin_settings, info, jwt_settings, mail, security
from tenants.system.store import SettingsError

__all__ = ["AdminSettingsView", "SaveAdminSettingsView", "TestMailView", "SecuritySettingsView", "JwtSettingsView",
           "SystemInfoView", "FeaturesInfoView", "LicenseUsageInfoView", "UpdatesView", "RepositoryExistsView",
           "RepositorySettingsView", "RepositoryInfoView", "RepositoryCheckAccessView", "AutoCommitExistsView",
           "AutoCommitSettingsView"]


class _SysAdminView(APIView):
    permission_classes = [IsAuthenticated, IsSysAdmin]

    def run(self, call, *args):
        try:
            return Response(call(*args))
        except SettingsError as e:
            raise exceptions.ValidationError(str(e)) from None
        except LookupError as e:
            raise exceptions.NotFound(str(e)) from None


class AdminSettingsView(_SysAdminView):
    def get(self, request, settings_key):
        return self.run(admin_settings.get, settings_key)


class SaveAdminSettingsView(_SysAdminView):
    def post(self, request):
        return self.run(admin_settings.save, request.data)


class TestMailView(_SysAdminView):
    def post(self, request):
        try:
            mail.send_test(request.data, request.user.email)
        except (SettingsError, mail.MailError) as e:
            raise exceptions.ValidationError(str(e)) from None
        return Response(status=200)


class SecuritySettingsView(_SysAdminView):
    def get(self, request):
        return self.run(security.current)

    def post(self, request):
        return self.run(security.save, request.data)


class JwtSettingsView(_SysAdminView):
    def get(self, request):
        return self.run(jwt_settings.answer)

    def post(self, request):
        self.run(jwt_settings.save, request.data)
        return Response(issue_pair(request.user))  # signed as the new settings say: the caller stays logged in


class SystemInfoView(_SysAdminView):
    def get(self, request):
        return self.run(info.system_info)


class FeaturesInfoView(_SysAdminView):
    def get(self, request):
        return self.run(info.features_info)


class LicenseUsageInfoView(_SysAdminView):
    def get(self, request):
        return self.run(info.license_usage_info)


class UpdatesView(_SysAdminView):
    def get(self, request):
        return self.run(info.updates)


# Version control (ThingsBoard's tenant-level git sync): never configured on this server.

class _VersionControlView(APIView):
    permission_classes = [IsAuthenticated, IsTenantAdmin]


class RepositoryExistsView(_VersionControlView):
    def get(self, request):
        return Response(False)


class RepositorySettingsView(_VersionControlView):
    def get(self, request):
        raise exceptions.NotFound("Requested item wasn't found!")

    def post(self, request):
        raise NotSupported("Version control (a git repository) is not supported by this server")

    def delete(self, request):
        raise exceptions.NotFound("Requested item wasn't found!")


class RepositoryInfoView(_VersionControlView):
    def get(self, request):
        return Response({"configured": False, "readOnly": False})


class RepositoryCheckAccessView(_VersionControlView):
    def post(self, request):
        raise NotSupported("Version control (a git repository) is not supported by this server")


class AutoCommitExistsView(_VersionControlView):
    def get(self, request):
        return Response(False)


class AutoCommitSettingsView(_VersionControlView):
    def get(self, request):
        return Response({})

    def post(self, request):
        raise NotSupported("Version control (a git repository) is not supported by this server")

    def delete(self, request):
        raise exceptions.NotFound("Requested item wasn't found!")
