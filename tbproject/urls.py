"""URL map: the admin, the ThingsBoard-compatible /api/ tree, OpenAPI + Swagger UI, the pages of users'
one-time links (/login/...), /healthz, /readyz, /metrics."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from devices.api import claiming, device_http, device_provision, device_updates, ota_device_http
from integrations.ingress.views import ingress_view
from oauth import views as oauth_pages
from signup import pages as signup_pages
from tbproject.api.exceptions import json_404
from tbproject.ops.endpoints import healthz_view, metrics_view, readyz_view
from tenants import views as account_pages

api_patterns = [
    path("", include("transfer.api.vc_urls")),  # before tenants': version control settings answer here
    path("", include("tenants.api.urls")),
    path("", include("tenants.api.platform_urls")),  # help URL, mail presets, EDQS, Trendz, mobile sessions
    path("", include("edges.api.urls")),  # before devices' and rulechains': entityGroups/edge/..., autoAssignToEdge...
    path("", include("dashboards.api.urls")),  # before devices': "entityGroup/{id}/dashboards" is no member id
    path("", include("roles.api.urls")),  # before devices': "entityGroup/{id}/users" is no member id
    path("", include("devices.api.urls")),
    path("", include("devices.api.telemetry_urls")),
    path("", include("converters.api.urls")),
    path("", include("integrations.replay_urls")),
    path("", include("integrations.downlink_urls")),
    path("", include("integrations.usage_urls")),
    path("", include("transfer.api.urls")),  # before integrations': "integration/import" is no id
    path("", include("integrations.api.urls")),
    path("", include("rulechains.api.urls")),
    path("", include("rulechains.api.queues")),
    path("", include("scheduler.api.urls")),
    path("", include("reports.api.urls")),  # reporting: templates, reports, blob entities
    path("", include("calculated.api.urls")),
    path("", include("notifications.api.urls")),
    path("", include("audit.api.urls")),
    path("", include("signup.api.urls")),
    path("", include("vault.api.urls")),  # secrets storage: /api/secret...
    path("", include("ai.api.urls")),  # AI models and chats: /api/ai/model..., /api/ai/chats...
    path("", include("oauth.api.urls")),  # OAuth 2.0 clients, domains, mobile apps, QR code
    path("", include("branding.api.urls")),  # white labeling, custom translations and menus
]


urlpatterns = [
    path("admin/", admin.site.urls),
    # ThingsBoard's UI paths of the activation and password-reset links; the name shows the admin
    # login page's "Forgotten your password?" link
    path("login/createPassword", account_pages.create_password, name="create-password"),
    path("login/resetPassword", account_pages.reset_password, name="reset-password"),
    path("login/resetPasswordRequest", account_pages.reset_password_request, name="admin_password_reset"),
    path("signup/emailVerified", signup_pages.email_verified, name="signup-email-verified"),
    # served by the lean ASGI app under daphne; this route answers the test client and WSGI
    path("api/v1/integrations/<str:endpoint>/<str:routing_key>", ingress_view, name="integration-ingress"),
    *device_http.urlpatterns,  # ThingsBoard's device HTTP API: /api/v1/{accessToken}/telemetry|attributes
    *device_updates.urlpatterns,  # /api/v1/{accessToken}/attributes/updates (long poll)
    *device_provision.urlpatterns,  # /api/v1/provision
    *claiming.urlpatterns,  # /api/v1/{accessToken}/claim, /api/customer/device/{deviceName}/claim
    *ota_device_http.urlpatterns,  # /api/v1/{accessToken}/firmware|software (OTA package download)
    path("", include("rulechains.device_rpc")),  # the device HTTP API's RPC: /api/v1/{accessToken}/rpc[/{id}]
    # the OAuth 2.0 browser login (oauth/flow.py), at ThingsBoard's paths
    path("oauth2/authorization/<str:client_id>", oauth_pages.authorization, name="oauth2-authorization"),
    path("login/oauth2/code/", oauth_pages.login_code, name="oauth2-login-code"),
    path("api/", include(api_patterns)),
    path("", include("reports.page_urls")),  # the pages the report renderer prints (/reports/view/...)
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("swagger-ui/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    # served by tbproject.ops.endpoints.OpsApp ahead of Django; these answer the test client and WSGI
    path("healthz", healthz_view, name="healthz"),
    path("readyz", readyz_view, name="readyz"),
    path("metrics", metrics_view, name="metrics"),
]

handler404 = json_404
