"""Integration packages in the admin: the integration list's "Download package" action and its
"Import a package" page (upload the file, then one password field per secret it lists), the same
services as the API. The integration admin is extended here (integrations/ cannot import this app)."""

import json

from django import forms
from django.contrib import admin, messages
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from rest_framework.exceptions import APIException
from unfold.widgets import UnfoldAdminFileFieldWidget

from integrations.admin import IntegrationAdmin
from integrations.models import Integration
from transfer.export import export_package
from transfer.importer import check_package, import_package

MAX_PACKAGE_BYTES = 5 * 1024 * 1024


class PackageForm(forms.Form):
    package = forms.FileField(required=False, widget=UnfoldAdminFileFieldWidget,  # the theme's script expects it
                              help_text="A file from \"Download package\" or GET /api/integration/{id}/export")
    package_text = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, secret_paths=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.secret_paths = list(secret_paths)
        for i, p in enumerate(self.secret_paths):
            self.fields[f"secret_{i}"] = forms.CharField(label=p, required=True, strip=False,
                                                         widget=forms.PasswordInput(attrs={"data-secret-path": p}))

    def package_data(self) -> dict:
        upload = self.files.get("package")
        if upload is not None:
            if upload.size > MAX_PACKAGE_BYTES:
                raise forms.ValidationError(f"The package is larger than {MAX_PACKAGE_BYTES // 1024 // 1024} MB")
            raw = upload.read()
        else:
            raw = (self.data.get("package_text") or "").encode()
        if not raw:
            raise forms.ValidationError("Choose a package file")
        try:
            return check_package(json.loads(raw))
        except ValueError:
            raise forms.ValidationError("The file is not JSON") from None
        except APIException as e:
            raise forms.ValidationError(_text(e)) from None


class PackageIntegrationAdmin(IntegrationAdmin):
    list_before_template = "admin/transfer/integration_list_before.html"
    change_form_after_template = "admin/transfer/integration_download.html"
    actions = (*(IntegrationAdmin.actions or ()), "download_package")

    @admin.action(description="Download package (integration, converters, rule chains; no secrets)")
    def download_package(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, "Choose one integration to download as a package.", messages.WARNING)
            return None
        return _download(queryset.get())

    def get_urls(self):
        wrap = self.admin_site.admin_view
        return [path("import-package/", wrap(self.import_view), name="integrations_integration_import_package"),
                path("<uuid:pk>/package/", wrap(self.package_view), name="integrations_integration_package"),
                *super().get_urls()]

    def package_view(self, request, pk):
        integration = self.get_queryset(request).filter(pk=pk).first()
        if integration is None:
            return redirect("admin:integrations_integration_changelist")
        return _download(integration)

    def import_view(self, request):
        """Step 1 posts the file; step 2 (when the package lists secrets) posts them with the
        package carried in a hidden field."""
        if not self.has_add_permission(request):
            return redirect("admin:index")
        form, package = PackageForm(), None
        if request.method == "POST":
            form = PackageForm(request.POST, request.FILES)
            try:
                package = form.package_data()
            except forms.ValidationError as e:
                form.is_valid()
                form.add_error(None, e)
            else:
                paths = package.get("requiredSecrets", [])
                if "secret_0" in request.POST or not paths:
                    data = request.POST.copy()
                    data["package_text"] = json.dumps(package)
                    form = PackageForm(data, secret_paths=paths)
                    done = self._import(request, form, package)
                    if done is not None:
                        return done
                else:
                    form = PackageForm(initial={"package_text": json.dumps(package)}, secret_paths=paths)
        context = {**self.admin_site.each_context(request), "title": "Import an integration package", "form": form,
                   "package": package, "opts": self.model._meta}
        return TemplateResponse(request, "admin/transfer/import_package.html", context)

    def _import(self, request, form, package):
        if not form.is_valid():
            return None
        if request.user.tenant_id is None:
            form.add_error(None, "Sign in as a tenant administrator to import into your tenant.")
            return None
        secrets = {p: form.cleaned_data[f"secret_{i}"] for i, p in enumerate(form.secret_paths)}
        try:
            result = import_package(package, secrets, request)
        except APIException as e:
            form.add_error(None, _text(e))
            return None
        pk = result["integration"]["id"]["id"]
        self.message_user(request, f"Imported \"{result['integration']['name']}\" with "
                                   f"{len(result['converters'])} converter(s) and "
                                   f"{len(result['ruleChains'])} rule chain(s).", messages.SUCCESS)
        return redirect(reverse("admin:integrations_integration_change", args=[pk]))


def _download(integration) -> HttpResponse:
    response = HttpResponse(json.dumps(export_package(integration), indent=2), content_type="application/json")
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in integration.name)[:80]
    response["Content-Disposition"] = f'attachment; filename="integration-{safe}.json"'
    return response


def _text(error: APIException) -> str:
    detail = error.detail
    if isinstance(detail, list):
        return " ".join(map(str, detail))
    if isinstance(detail, dict):
        return " ".join(f"{k}: {v}" for k, v in detail.items())
    return str(detail)


admin.site.unregister(Integration)
admin.site.register(Integration, PackageIntegrationAdmin)
from transfer import vc_admin  # noqa: E402,F401  (version control models)
