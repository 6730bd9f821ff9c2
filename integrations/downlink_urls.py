"""URLs of the downlink endpoints (integrations/downlink_views.py); included from tbproject/urls.py."""

from django.urls import path

from integrations.downlink_views import DeviceDownlinksView, IntegrationDownlinksView

__all__ = ["urlpatterns"]

urlpatterns = [
    path("integration/<str:pk>/downlinks", IntegrationDownlinksView.as_view(), name="integration-downlinks"),
    path("device/<str:pk>/downlinks", DeviceDownlinksView.as_view(), name="device-downlinks"),
]
