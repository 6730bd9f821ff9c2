"""Dead-letter replay from the admin: the "Replay selected" action and the time-range form.

Both call integrations.dead_letters.replay (the same service as POST /api/integration/{id}/replay);
the integration is looked up tenant-scoped, so another tenant's integration is a 404."""

from datetime import UTC, datetime

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

from integrations import dead_letters
from integrations.models import Integration
from tbproject.admin import scope

__all__ = ["replay_selected", "ReplayRangeForm", "replay_range_view", "report"]

DATETIME_FORMATS = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%dT%H:%M", "%Y-%m-%d"]


def report(request, integration, result: dict) -> None:
    level = messages.WARNING if result["failed"] or result["remaining"] else messages.SUCCESS
    text = f"{integration.name}: {result['replayed']} replayed, {result['failed']} failed again"
    if result["remaining"]:
        text += f", {result['remaining']} left for another replay (REPLAY_MAX_MESSAGES)"
    messages.add_message(request, level, text)


def replay_selected(request, queryset) -> None:
    """Replay the selected letters, one replay call per integration."""
    by_integration: dict = {}
    for letter in queryset.select_related("integration"):
        by_integration.setdefault(letter.integration, []).append(letter.pk)
    if not by_integration:
        messages.info(request, "Nothing selected.")
    for integration, ids in by_integration.items():
        report(request, integration, dead_letters.replay(integration, ids=ids))


def _ms(value: datetime | None) -> int | None:
    return None if value is None else int(value.replace(tzinfo=value.tzinfo or UTC).timestamp() * 1000)


class ReplayRangeForm(forms.Form):
    integration = forms.ModelChoiceField(Integration.objects.none(), widget=UnfoldAdminSelectWidget)
    start = forms.DateTimeField(label="Received from (UTC)", input_formats=DATETIME_FORMATS,
                                widget=UnfoldAdminTextInputWidget(attrs={"placeholder": "2026-01-31 08:00"}))
    end = forms.DateTimeField(label="Received until (UTC)", required=False, input_formats=DATETIME_FORMATS,
                              widget=UnfoldAdminTextInputWidget(attrs={"placeholder": "empty: now"}),
                              help_text="Pending letters received in this range are re-run through the "
                                        "integration's current converter.")

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["integration"].queryset = scope(Integration.objects.order_by("name"), user)

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start"), cleaned.get("end")
        if start and end and end < start:
            self.add_error("end", "The end is before the start.")
        return cleaned


def replay_range_view(model_admin, request):
    if not model_admin.has_view_permission(request):
        raise Http404
    form = ReplayRangeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        integration = form.cleaned_data["integration"]
        result = dead_letters.replay(integration, start_ts=_ms(form.cleaned_data["start"]),
                                     end_ts=_ms(form.cleaned_data["end"]))
        report(request, integration, result)
        return HttpResponseRedirect(reverse("admin:integrations_deadletter_changelist"))
    context = {**model_admin.admin_site.each_context(request), "title": "Replay dead letters by time range",
               "form": form, "opts": model_admin.model._meta}
    return TemplateResponse(request, "admin/integrations/deadletter/replay_range.html", context)
