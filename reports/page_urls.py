"""The pages the report renderer opens on this server (reports/pages.py), outside /api/."""

from django.urls import path

from reports import pages

__all__ = ["urlpatterns"]

urlpatterns = [
    path("reports/view/dashboard/<str:pk>", pages.DashboardPage.as_view(), name="dashboard-report-page"),
    path("reports/view/report", pages.ReportPage.as_view(), name="reportTemplate-page"),
]
