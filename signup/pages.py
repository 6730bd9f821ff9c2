"""The page the activation mail's link leads to (``/api/noauth/activateEmail`` redirects here, ThingsBoard's UI
path): ``/signup/emailVerified?emailCode=...`` asks for one click, so that a mail scanner fetching the link
does not use the code up; the POST activates the account (signup/services.py)."""

from django import forms
from django.contrib import admin
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from signup import services
from tenants.accounts import AccountError

__all__ = ["email_verified"]

TITLE = "Activate your account"


def _page(request, status: int = 200, **context):
    return render(request, "tenants/password_form.html", {
        **admin.site.each_context(request), "title": TITLE, "login_url": reverse("admin:index"), **context},
        status=status)


@require_http_methods(["GET", "POST"])
def email_verified(request):
    code = request.GET.get("emailCode", "")
    if not services.is_pending(code):
        return _page(request, invalid="This link is not valid: it was used already or has expired.")
    if request.method == "POST":
        try:
            services.activate(code)
        except AccountError as e:
            return _page(request, invalid=str(e))
        return _page(request, done="Your account is active: log in with your e-mail and password.")
    return _page(request, form=forms.Form(), submit="Activate my account")
