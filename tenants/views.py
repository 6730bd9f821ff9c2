"""The pages a user's one-time links open in a browser, at ThingsBoard's UI paths:

    /login/createPassword?activateToken=...   a new user sets its first password (the activation link)
    /login/resetPassword?resetToken=...       a new password (the password-reset mail's link)
    /login/resetPasswordRequest               ask for a password-reset mail

The rules are tenants/accounts.py's, as the API's. Administrators then log in to the admin; customer
users use the API with the same e-mail and password.
"""

from django import forms
from django.contrib import admin
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_http_methods
from rest_framework.exceptions import ValidationError

from tenants import accounts
from tenants.api.accounts import link_base
from tenants.limits import mail as mail_limits

__all__ = ["create_password", "reset_password", "reset_password_request"]


class PasswordForm(forms.Form):
    password = forms.CharField(label="New password", strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}))
    confirm = forms.CharField(label="Confirm the new password", strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("password") != data.get("confirm"):
            raise forms.ValidationError("The two passwords differ.")
        return data


class EmailForm(forms.Form):
    email = forms.EmailField(label="E-mail", max_length=254)


def _page(request, title: str, status: int = 200, **context):
    return render(request, "tenants/password_form.html", {
        **admin.site.each_context(request), "title": title, "login_url": reverse("admin:index"), **context},
        status=status)


def _set_password(request, purpose: str, param: str, use, title: str, done: str):
    token = request.GET.get(param, "")
    if accounts.valid_token(purpose, token) is None:
        return _page(request, title, invalid="This link is not valid: it was used already or has expired.")
    form = PasswordForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            use(token, form.cleaned_data["password"])
        except accounts.AccountError as e:
            form.add_error("password", str(e))
        else:
            return _page(request, title, done=done)
    return _page(request, title, form=form, submit="Set the password")


@require_http_methods(["GET", "POST"])
def create_password(request):
    return _set_password(request, accounts.ACTIVATE, "activateToken", accounts.activate, "Activate your account",
                         "Your account is active: log in with your e-mail and the new password.")


@require_http_methods(["GET", "POST"])
def reset_password(request):
    return _set_password(request, accounts.RESET, "resetToken", accounts.reset_password, "Reset your password",
                         "Your password is changed: log in with it.")


@require_http_methods(["GET", "POST"])
def reset_password_request(request):
    form = EmailForm(request.POST or None)
    title = "Forgot your password?"
    retry_after = 0
    if request.method == "POST" and form.is_valid():
        try:
            accounts.request_password_reset(form.cleaned_data["email"], link_base(request),
                                            client=mail_limits.client_of(request))
        except (accounts.AccountError, ValidationError) as e:
            form.add_error("email", e.detail[0] if isinstance(e, ValidationError) else str(e))
            retry_after = getattr(e, "retry_after", 0)  # over the mail limits: alike for known and unknown addresses
        else:
            return _page(request, title, done="If an active account has this e-mail, a link to reset its password "
                                             "is on its way.")
    response = _page(request, title, status=429 if retry_after else 200, form=form, submit="Send the link")
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response
