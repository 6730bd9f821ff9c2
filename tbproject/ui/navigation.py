"""django-unfold configuration: the sidebar's "Integration center" and "Entities" sections.

Imported by settings, so nothing here touches models at import time: links are reversed lazily
and each item's permission asks the registered ModelAdmin when the sidebar is drawn, so an item
shows exactly when its page would open (tenant scoping stays in TenantScopedAdmin).
"""

from django.templatetags.static import static
from django.urls import reverse_lazy

__all__ = ["UNFOLD", "may_open"]


def may_open(app_label: str, model_name: str):
    """A sidebar permission callback: true when the user may open the model's admin list."""

    def permission(request) -> bool:
        from django.apps import apps
        from django.contrib import admin

        model_admin = admin.site._registry.get(apps.get_model(app_label, model_name))
        return bool(model_admin and model_admin.has_module_permission(request)
                    and model_admin.has_view_permission(request))

    return permission


def _item(title: str, icon: str, app_label: str, model_name: str) -> dict:
    return {"title": title, "icon": icon, "link": reverse_lazy(f"admin:{app_label}_{model_name}_changelist"),
            "permission": may_open(app_label, model_name)}


UNFOLD = {
    # white labeling (branding/ui.py, named so that nothing is imported before the apps are ready)
    "SITE_TITLE": "branding.ui.site_title",
    "SITE_HEADER": "branding.ui.site_header",
    "SITE_LOGO": "branding.ui.site_logo",
    "SITE_FAVICONS": "branding.ui.site_favicons",
    "SITE_SYMBOL": "hub",
    "SHOW_HISTORY": True,
    "SHOW_VIEW_ON_SITE": False,
    "STYLES": [lambda request: static("ui/ui.css")],  # branding's custom CSS: templates/unfold/layouts/
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": True,
        "navigation": [
            {"title": "Integration center", "separator": True, "items": [
                _item("Integrations", "hub", "integrations", "integration"),
                _item("Data converters", "code", "converters", "converter"),
                _item("Debug events", "bug_report", "converters", "debugevent"),
                _item("Dead letters", "report", "integrations", "deadletter"),
                _item("Downlinks", "call_made", "integrations", "outgoingdownlink"),
                _item("Rule chains", "account_tree", "rulechains", "rulechain"),
            ]},
            {"title": "Entities", "separator": True, "items": [
                _item("Devices", "memory", "devices", "device"),
                _item("Assets", "domain", "devices", "asset"),
                _item("Customers", "groups", "tenants", "customer"),
                _item("Groups", "folder", "devices", "entitygroup"),
                _item("Device profiles", "tune", "devices", "deviceprofile"),
                _item("Asset profiles", "tune", "devices", "assetprofile"),
            ]},
            {"title": "Administration", "separator": True, "items": [
                _item("Users", "person", "tenants", "user"),
                _item("Tenants", "apartment", "tenants", "tenant"),
                _item("Tenant profiles", "tune", "tenants", "tenantprofile"),
                _item("Usage", "bar_chart", "tenants", "tenantusage"),
                _item("Attributes", "list_alt", "devices", "attribute"),
                _item("Integration stats", "monitoring", "integrations", "integrationstats"),
            ]},
        ],
    },
}
