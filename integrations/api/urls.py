"""Integration endpoints at ThingsBoard's paths; literal segments before ids at the same position."""

from django.urls import path

from integrations.api.converters_info import ConvertersInfoView
from integrations.api.pin import PinView
from integrations.api.views import CheckView, InfoListView, IntegrationResource, RoutingKeyView
from tbproject.api.resources import ByIdsView, DetailView, ListView, SaveView, as_view

__all__ = ["urlpatterns"]

R = IntegrationResource

urlpatterns = [
    path("integration/check", CheckView.as_view(), name="integration-check"),
    path("integration/routingKey/<str:routing_key>", RoutingKeyView.as_view(), name="integration-by-routing-key"),
    path("integration", as_view(R, SaveView), name="integration-save"),
    path("integration/<str:pk>/converterVersion", PinView.as_view(), name="integration-converter-pin"),
    path("integration/<str:pk>", as_view(R, DetailView), name="integration-detail"),
    path("integrations/converters/info", ConvertersInfoView.as_view(), name="integrations-converters-info"),
    path("integrations/list", as_view(R, ByIdsView, ids_param="integrationIds"), name="integration-by-ids"),
    path("integrations", as_view(R, ListView), name="integration-list"),
    path("integrationInfos", InfoListView.as_view(), name="integration-infos"),
]
