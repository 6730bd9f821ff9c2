"""URLs of the usage endpoints; included from tbproject/urls.py."""

from django.urls import path

from integrations.usage_views import HourlyUsageView, UsageInfoView

__all__ = ["urlpatterns"]

urlpatterns = [
    path("usage", UsageInfoView.as_view(), name="usage-info"),
    path("usage/hourly", HourlyUsageView.as_view(), name="usage-hourly"),
]
