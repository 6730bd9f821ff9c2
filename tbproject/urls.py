"""URL map: the admin, the ThingsBoard-compatible /api/ tree, OpenAPI + Swagger UI, /healthz."""

from django.contrib import admin
from django.http import JsonResponse
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from integrations.ingress.views import ingress_view
from tbproject.api.exceptions import json_404

api_patterns = [
    path("", include("tenants.api.urls")),
    path("", include("devices.api.urls")),
    path("", include("devices.api.telemetry_urls")),
    path("", include("converters.api.urls")),
    path("", include("integrations.replay_urls")),
    path("", include("integrations.downlink_urls")),
    path("", include("integrations.usage_urls")),
    path("", include("integrations.api.urls")),
    path("", include("rulechains.api.urls")),
]


def healthz(request):
    return JsonResponse({"status": "ok"})


urlpatterns = [
    path("admin/", admin.site.urls),
    # served by the lean ASGI app under daphne; this route answers the test client and WSGI
    path("api/v1/integrations/<str:endpoint>/<str:routing_key>", ingress_view, name="integration-ingress"),
    path("api/", include(api_patterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("swagger-ui/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("healthz", healthz, name="healthz"),
]

handler404 = json_404
