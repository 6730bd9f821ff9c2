"""Version control and solution routes; included ahead of tenants' so that the repository and auto-commit
settings answer here (the URL names are the ones roles/enforcement.py classifies)."""

from django.urls import path

from transfer.api import solution, vc, vc_settings

__all__ = ["urlpatterns"]

urlpatterns = [
    path("admin/repositorySettings", vc_settings.RepositorySettingsView.as_view(), name="admin-repository-settings"),
    path("admin/repositorySettings/exists", vc_settings.RepositoryExistsView.as_view(),
         name="admin-repository-exists"),
    path("admin/repositorySettings/info", vc_settings.RepositoryInfoView.as_view(), name="admin-repository-info"),
    path("admin/repositorySettings/checkAccess", vc_settings.RepositoryCheckAccessView.as_view(),
         name="admin-repository-check-access"),
    path("admin/autoCommitSettings", vc_settings.AutoCommitSettingsView.as_view(), name="admin-auto-commit-settings"),
    path("admin/autoCommitSettings/exists", vc_settings.AutoCommitExistsView.as_view(),
         name="admin-auto-commit-exists"),
    path("entities/vc/version", vc.VersionsView.as_view(), name="vc-versions"),
    path("entities/vc/version/<str:request_id>/status", vc.VersionStatusView.as_view(), name="vc-version-status"),
    path("entities/vc/version/<str:entity_type_name>/<str:external_id>", vc.EntityVersionsView.as_view(),
         name="vc-entity-versions"),
    path("entities/vc/version/<str:entity_type_name>", vc.TypeVersionsView.as_view(), name="vc-type-versions"),
    path("entities/vc/entity", vc.LoadView.as_view(), name="vc-load"),
    path("entities/vc/entity/<str:request_id>/status", vc.LoadStatusView.as_view(), name="vc-load-status"),
    path("entities/vc/entity/<str:entity_type_name>/<str:version_id>", vc.EntitiesAtView.as_view(),
         name="vc-entities-at-type"),
    path("entities/vc/entity/<str:version_id>", vc.AllEntitiesAtView.as_view(), name="vc-entities-at"),
    path("entities/vc/branches", vc.BranchesView.as_view(), name="vc-branches"),
    path("entities/vc/diff/<str:entity_type_name>/<str:internal_id>", vc.DiffView.as_view(), name="vc-diff"),
    path("entities/vc/info/<str:version_id>/<str:entity_type_name>/<str:external_id>", vc.InfoView.as_view(),
         name="vc-info"),
    # ThingsBoard PE 4.4's solution export/import (transfer/solution/)
    path("solution/export", solution.SolutionExportView.as_view(), name="solution-export"),
    path("solution/import", solution.SolutionImportView.as_view(), name="solution-import"),
    path("solution/validate", solution.SolutionValidateView.as_view(), name="solution-validate"),
]
