"""The admin's sign-in page under the per-client limit on failed logins (tenants/limits/login.py),
as /api/auth/login: a client past it gets the form again with "Too many failed logins", answered 429
with Retry-After, and no password of it is checked (tenants/lockout.LockoutBackend refuses first). An expired
password (or one the policy forces to reset) is refused as the API refuses it, pointing to the reset page.
A user whose login needs a second factor (tenants/two_factor/verification.due) is refused too: this page asks
for no code, and its session would reach the REST API and the websockets.

    install(admin.site)     # tenants/admin.py
"""

import functools

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError
from django.urls import reverse

from tenants import lockout
from tenants.system import security
from tenants.two_factor import verification

__all__ = ["LoginForm", "install", "TWO_FACTOR"]

TWO_FACTOR = ("This account uses two-factor authentication: sign in through the API or the UI that asks for "
              "the verification code.")


class LoginForm(AdminAuthenticationForm):
    def get_invalid_login_error(self):
        if lockout.retry_after(self.request):
            return ValidationError(lockout.TOO_MANY, code="throttled")
        return super().get_invalid_login_error()

    def confirm_login_allowed(self, user):
        """As /api/auth/login: an expired password, or one breaking the policy when the security settings force
        a reset, does not sign in; the message points to the password-reset page."""
        super().confirm_login_allowed(user)
        problem = security.login_problem(user, self.cleaned_data.get("password") or "")
        if problem:
            raise ValidationError(f"{problem} Set a new password through {reverse('admin_password_reset')}.",
                                  code="password_reset_required")
        if verification.due(user):
            raise ValidationError(TWO_FACTOR, code="two_factor_required")


def install(site) -> None:
    """Give ``site`` the form above and make its login view answer 429 while the client is refused."""
    site.login_form = LoginForm
    view = site.login

    @functools.wraps(view)
    def login(request, extra_context=None):
        response = view(request, extra_context)
        wait = lockout.retry_after(request)
        if wait:
            response.status_code = 429
            response["Retry-After"] = str(wait)
        return response

    site.login = login
