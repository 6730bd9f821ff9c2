"""A tenant's repository and auto-commit settings (``/api/admin/repositorySettings...``,
``/api/admin/autoCommitSettings...``), tenant administrators only, as in ThingsBoard. They replace
tenants/api/system.py's "never configured" answers (routed ahead of them)."""

from rest_framework.response import Response
from rest_framework.views import APIView

from tbproject.api.permissions import IsTenantAdmin
from transfer.models import AutoCommitSettings, RepositorySettings
from transfer.vc import autocommit, repository

__all__ = ["RepositorySettingsView", "RepositoryExistsView", "RepositoryInfoView", "RepositoryCheckAccessView",
           "AutoCommitSettingsView", "AutoCommitExistsView"]


class _View(APIView):
    permission_classes = [IsTenantAdmin]

    @property
    def tenant_id(self):
        return self.request.user.tenant_id


class RepositorySettingsView(_View):
    def get(self, request):
        return Response(repository.settings_json(repository.get_settings(self.tenant_id)))

    def post(self, request):
        return Response(repository.settings_json(repository.save_settings(self.tenant_id, request.data)))

    def delete(self, request):
        repository.delete_settings(self.tenant_id)
        return Response()


class RepositoryExistsView(_View):
    def get(self, request):
        return Response(RepositorySettings.objects.filter(tenant_id=self.tenant_id).exists())


class RepositoryInfoView(_View):
    def get(self, request):
        row = RepositorySettings.objects.filter(tenant_id=self.tenant_id).first()
        return Response({"configured": row is not None, "readOnly": bool(row and row.read_only)})


class RepositoryCheckAccessView(_View):
    def post(self, request):
        repository.check_access(repository.parse_settings(self.tenant_id, request.data))
        return Response()


class AutoCommitSettingsView(_View):
    def get(self, request):
        return Response(repository.auto_commit_json(self.tenant_id))

    def post(self, request):
        return Response(repository.save_auto_commit(self.tenant_id, request.data))

    def delete(self, request):
        AutoCommitSettings.objects.filter(tenant_id=self.tenant_id).delete()
        autocommit.forget(self.tenant_id)
        return Response()


class AutoCommitExistsView(_View):
    def get(self, request):
        return Response(AutoCommitSettings.objects.filter(tenant_id=self.tenant_id).exists())
