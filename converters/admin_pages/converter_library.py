""""Create converter from library" in the admin: pick an entry of the converters library
(converters/library), create the tenant's converter from it and run the entry's samples.

The page calls converters.library.service.create_from_library, the service behind
`POST /api/converter/library/{integrationType}/{vendor}/{model}/uplink`: same checks (the
script compiles, the name is free in the tenant), same sample report."""

from django import forms
from django.contrib import messages
from django.http import Http404, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from rest_framework.exceptions import ValidationError
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

from converters.choices import IntegrationType
from converters.library import repo
from converters.library.service import LibraryEntryMissing, create_from_library, current_catalogue

__all__ = ["LibraryForm", "library_view"]

SEP = " / "


def entry_choices(catalogue) -> list[tuple[str, str]]:
    """Every (integration type, direction, vendor, model) of the checkout, as one select's choices."""
    choices = []
    for kind in IntegrationType.values:
        for direction in ("UPLINK", "DOWNLINK"):
            for vendor in catalogue.vendors(kind, direction):
                for model in catalogue.models(kind, vendor, direction):
                    value = SEP.join((kind, direction, vendor, model))
                    choices.append((value, f"{vendor} {model} — {kind} {direction.lower()}"))
    return choices


class LibraryForm(forms.Form):
    entry = forms.ChoiceField(label="Library entry", widget=UnfoldAdminSelectWidget)
    name = forms.CharField(required=False, max_length=255, widget=UnfoldAdminTextInputWidget,
                           help_text="Empty: the library's own name for it.")

    def __init__(self, *args, catalogue=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["entry"].choices = entry_choices(catalogue)


def _describe(report: dict) -> tuple[int, str]:
    text = f"Converter '{report['converter']['name']}' created: {report['passed']} sample(s) passed"
    if report["failed"]:
        failures = [f"{s['sample']}: {'; '.join(s['differences']) or s['error']}"
                    for s in report["samples"] if not s["passed"]]
        text += f", {report['failed']} failed ({' | '.join(failures)[:1000]})"
    if report["notes"]:
        text += ". " + " ".join(report["notes"])
    return (messages.WARNING if report["failed"] or report["notes"] else messages.SUCCESS), text


def library_view(model_admin, request):
    if not model_admin.has_add_permission(request) or getattr(request.user, "tenant_id", None) is None:
        raise Http404
    catalogue = current_catalogue()
    form = LibraryForm(request.POST or None, catalogue=catalogue)
    if request.method == "POST" and form.is_valid():
        kind, direction, vendor, model = form.cleaned_data["entry"].split(SEP, 3)
        try:
            report = create_from_library(request.user.tenant, kind, vendor, model, direction,
                                         form.cleaned_data["name"] or None, request=request)
        except LibraryEntryMissing as exc:
            form.add_error("entry", str(exc))
        except ValidationError as exc:
            detail = exc.detail
            form.add_error(None, "; ".join(str(d) for d in detail) if isinstance(detail, list) else str(detail))
        else:
            messages.add_message(request, *_describe(report))
            pk = report["converter"]["id"]["id"]
            return HttpResponseRedirect(reverse("admin:converters_converter_change", args=[pk]))
    context = {**model_admin.admin_site.each_context(request), "title": "Create a converter from the library",
               "form": form, "opts": model_admin.model._meta, "library": repo.status(),
               "entries": len(form.fields["entry"].choices)}
    return TemplateResponse(request, "admin/converters/converter/library.html", context)
