"""Routes of tenants/api/platform.py, user_extras.py and trendz.py (included by tbproject/urls.py)."""

from django.urls import path

from tenants.api import platform, trendz, user_extras

__all__ = ["urlpatterns"]

urlpatterns = [
    path("uiSettings/helpBaseUrl", platform.HelpBaseUrlView.as_view(), name="uiSettings-help-base-url"),
    path("mail/config/template", platform.MailConfigTemplatesView.as_view(), name="mail-config-template"),
    path("edqs/state", platform.EdqsStateView.as_view(), name="edqs-state"),
    path("edqs/system/request", platform.EdqsRequestView.as_view(), name="edqs-system-request"),
    path("user/customers", user_extras.user_customers_view, name="customer-user-customers"),
    path("user/mobile/session", user_extras.MobileSessionView.as_view(), name="user-mobile-session"),
    path("trendz/config", trendz.ConfigView.as_view(), name="trendz-config"),
    path("trendz/connect", trendz.ConnectView.as_view(), name="trendz-connect"),
    path("trendz/sync", trendz.SyncView.as_view(), name="trendz-sync"),
    path("trendz/healthcheck", trendz.HealthcheckView.as_view(), name="trendz-healthcheck"),
    path("trendz/public/connect", trendz.PublicConnectView.as_view(), name="trendz-public-connect"),
]
