"""The admin's sign-in page under the per-client limit on failed logins (tenants/limits/login.py),
as /api/auth/login: a client past it gets the form again with "Too many failed logins", answered 429
with Retry-After, and no password of it is checked (tenants/lockout.LockoutBackend refuses first).

    install(admin.site)     # tenants/admin.py
"""

import functools

from django.contrib.admin.forms import AdminAuthenticationForm
from django.core.exceptions import ValidationError

from tenants import lockout

__all__ = ["LoginForm", "install"]


class LoginForm(AdminAuthenticationForm):
    def get_invalid_login_error(self):
        if lockout.retry_after(self.request):
            return ValidationError(lockout.TOO_MANY, code="throttled")
        return super().get_invalid_login_error()


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
