"""The pages the renderer prints (reports/rendering.py), served by this server at /reports/view/...

    GET /reports/view/dashboard/{dashboardId}?tz&state   a dashboard: its title, state and widgets
    GET /reports/view/report?k=<key>&tz&title            a report template's configuration (PDF), kept by
                                                          services.keep_config under a single-use key

They answer the user of the request (the renderer's short-lived token, or an admin session for a
preview): a dashboard another tenant owns, or one not assigned to a customer user, is a 404. A template's
dashboard component shows "Dashboard not found" unless the user may read it: its role's DASHBOARD READ
(a tenant administrator) or, for a dashboard reached through a shared group, that group's roles.
Every text comes from the database or the configuration and is escaped by the template engine;
the pages load nothing from any other origin, and their Content-Security-Policy (:data:`CSP`) allows no
script and no other origin.
"""

from datetime import datetime

from django.http import HttpResponse
from django.template.loader import render_to_string
from rest_framework.exceptions import NotFound
from rest_framework.views import APIView

from dashboards.models import Dashboard
from reports import naming, services
from roles import enforcement, group_access
from tbproject.api.ids import parse_uuid
from tbproject.api.permissions import IsTenantUser
from tbproject.clock import now_ms

__all__ = ["DashboardPage", "ReportPage", "CSP"]

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' data:"


def _now_text(tz: str) -> str:
    try:
        zone = naming.zone(tz)
    except naming.BadZone:
        zone = naming.zone("UTC")
    return datetime.fromtimestamp(now_ms() / 1000, zone).strftime("%Y-%m-%d %H:%M:%S %Z")


def _widgets(configuration) -> list[dict]:
    widgets = configuration.get("widgets") if isinstance(configuration, dict) else None
    rows = []
    for widget in (widgets.values() if isinstance(widgets, dict) else widgets or []):
        if not isinstance(widget, dict):
            continue
        config = widget.get("config") if isinstance(widget.get("config"), dict) else {}
        rows.append({"title": str(config.get("title") or widget.get("typeFullFqn") or "Widget"),
                     "kind": str(widget.get("typeFullFqn") or widget.get("type") or "")})
    return rows


class _Page(APIView):
    permission_classes = [IsTenantUser]

    def page(self, template: str, context: dict) -> HttpResponse:
        tz = self.request.query_params.get("tz") or "UTC"
        html = render_to_string(template, {**context, "generated": _now_text(tz), "tz": tz})
        response = HttpResponse(html, content_type="text/html; charset=utf-8")
        response["Content-Security-Policy"] = CSP
        return response


class DashboardPage(_Page):
    def get(self, request, pk):
        dashboard = Dashboard.objects.for_user(request.user).filter(pk=parse_uuid(pk)).first()
        if dashboard is None:
            raise NotFound(f"Dashboard with id [{pk}] is not found")
        return self.page("reports/dashboard.html", {
            "dashboard": dashboard, "state": request.query_params.get("state") or "",
            "widgets": _widgets(dashboard.configuration)})


def _readable_dashboard(request, raw):
    """The dashboard ``raw`` names if the request's user may read it (tenancy, its role, shared groups)."""
    pk = parse_uuid(raw.get("id") if isinstance(raw, dict) else raw)
    if not enforcement.allows(request, "DASHBOARD", "READ"):
        return None
    if group_access.decides(request.user, "DASHBOARD", "READ", pk) is False:  # a customer user's shared groups
        return None
    return Dashboard.objects.for_user(request.user).filter(pk=pk).first()


class ReportPage(_Page):
    def get(self, request):
        config = services.take_config(request.query_params.get("k") or "", request.user)
        components = []
        for component in config.get("components") or []:
            item = {"type": component["type"], "text": services.component_text(component)}
            if component["type"] == "DASHBOARD" and component.get("dashboardId"):
                board = _readable_dashboard(request, component["dashboardId"])
                item["dashboard"] = board  # another tenant's (or an invisible) dashboard shows as not found
                item["widgets"] = _widgets(board.configuration) if board else []
            components.append(item)
        return self.page("reports/report.html", {"title": request.query_params.get("title") or "Report",
                                                 "components": components})
