"""Package endpoints; included before integrations' so that integration/import is not read as an id."""

from django.urls import path

from transfer.api.views import ExportPackageView, ExportView, ImportView

__all__ = ["urlpatterns"]

urlpatterns = [
    path("integration/import", ImportView.as_view(), name="integration-import"),
    path("integration/<str:pk>/export", ExportView.as_view(), name="integration-export"),
    path("integration/<str:pk>/export-package", ExportPackageView.as_view(), name="integration-export-package"),
]
