"""The rule chain page: a chain drawn and edited as a graph (static/ui/rulechain/*.js on X6).

The page itself only hands the chain's id to the scripts; everything else goes through the REST
API a ThingsBoard client uses (``/api/ruleChain/{id}``, ``/metadata``, ``/api/components``) plus
the page's own ``/api/ruleChain/node/validate`` and ``/api/ruleChain/{id}/test``. The chain is
looked up tenant-scoped: another tenant's chain is a 404."""

from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from rulechains.models import RuleChain
from tbproject.admin import scope

__all__ = ["editor_view", "editor_link"]


def editor_link(chain) -> str:
    if chain is None or chain.pk is None:
        return ""
    url = reverse("admin:rulechains_rulechain_editor", args=[chain.pk])
    return format_html('<a class="ui-btn" data-role="open-editor" href="{}">Open in the editor</a>', url)


def editor_view(model_admin, request, pk):
    if not model_admin.has_view_permission(request) or getattr(request.user, "tenant_id", None) is None:
        raise Http404
    chain = scope(RuleChain.objects.all(), request.user).filter(pk=pk).first()
    if chain is None:
        raise Http404
    context = {**model_admin.admin_site.each_context(request), "title": f"Rule chain: {chain.name}",
               "chain": chain, "opts": model_admin.model._meta,
               "change_url": reverse("admin:rulechains_rulechain_change", args=[chain.pk])}
    return TemplateResponse(request, "admin/rulechains/rulechain/editor.html", context)
