"""The usage page: a chart of a tenant's hourly usage (static/ui/usage-chart.js over /api/usage/hourly).

A tenant administrator sees its own tenant; the system administrator picks one."""

from django.http import Http404
from django.template.response import TemplateResponse

from tbproject.admin import is_sysadmin
from tenants.models import Tenant

__all__ = ["usage_view"]


def usage_view(model_admin, request):
    if not model_admin.has_view_permission(request):
        raise Http404
    user = request.user
    tenants = list(Tenant.objects.order_by("title")) if is_sysadmin(user) else [user.tenant]
    wanted = request.GET.get("tenant")
    chosen = next((t for t in tenants if str(t.pk) == wanted), tenants[0] if tenants else None)
    context = {**model_admin.admin_site.each_context(request), "title": "Usage", "opts": model_admin.model._meta,
               "tenants": tenants if is_sysadmin(user) else [], "chosen": chosen,
               "query": f"tenantId={chosen.pk}" if chosen is not None and is_sysadmin(user) else ""}
    return TemplateResponse(request, "admin/tenants/usage.html", context)
