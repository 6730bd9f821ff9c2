"""Reporting endpoints at ThingsBoard's paths (under /api/); each view module says what its routes do.

Literal segments come before ids (``reportTemplate/info/{id}`` before ``reportTemplate/{id}``,
``v2/report/request|test|public`` before ``v2/report/{id}``, ``report/test`` before ``report/{id}/download``).
"""

from django.urls import path

from reports.api import blobs, reports, scheduled, templates

__all__ = ["urlpatterns"]

urlpatterns = [
    path("reportTemplate", templates.SaveView.as_view(), name="reportTemplate-save"),
    path("reportTemplate/info/<str:pk>", templates.InfoView.as_view(), name="reportTemplate-info"),
    path("reportTemplate/<str:pk>", templates.DetailView.as_view(), name="reportTemplate-detail"),
    path("reportTemplateInfos/all", templates.PageView.as_view(), name="reportTemplate-infos-all"),
    path("reportTemplates", templates.ByIdsView.as_view(), name="reportTemplate-by-ids"),
    path("v2/report/request", reports.RequestView.as_view(), name="report-request"),
    path("v2/report/test", reports.TestView.as_view(), name="report-test"),
    path("v2/report/public/<str:public_key>/download", reports.PublicDownloadView.as_view(),
         name="noauth-report-public-download"),
    path("v2/report", reports.UploadView.as_view(), name="report-upload"),
    path("v2/report/<str:pk>/download", reports.DownloadView.as_view(), name="report-download"),
    path("v2/report/<str:pk>/public/<str:is_public>", reports.PublicView.as_view(), name="report-public"),
    path("v2/report/<str:pk>", reports.DetailView.as_view(), name="report-detail"),
    path("v2/reportInfos/all", reports.InfoPageView.as_view(), name="report-infos-all"),
    path("v2/reportInfos", reports.InfoByIdsView.as_view(), name="report-infos-by-ids"),
    path("v2/reports", reports.PageView.as_view(), name="report-list"),
    path("report/test", reports.DashboardTestView.as_view(), name="dashboard-report-test"),
    path("report/<str:dashboard_id>/download", reports.DashboardDownloadView.as_view(),
         name="dashboard-report-download"),
    path("blobEntities", blobs.PageView.as_view(), name="blobEntity-list"),
    path("blobEntities/list", blobs.ByIdsView.as_view(), name="blobEntity-by-ids"),
    path("blobEntity/info/<str:pk>", blobs.InfoView.as_view(), name="blobEntity-info"),
    path("blobEntity/<str:pk>/download", blobs.DownloadView.as_view(), name="blobEntity-download"),
    path("blobEntity/<str:pk>", blobs.DetailView.as_view(), name="blobEntity-detail"),
    path("scheduledReports", scheduled.ScheduledReportsView.as_view(), name="scheduler-event-reports"),
]
