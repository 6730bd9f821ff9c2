"""Logins and logouts in the audit log, as ThingsBoard keeps them: a LOGIN row (USER entity) for
each sign-in through the REST API (``/api/auth/login``) or the admin, a FAILURE one for a known
user's wrong password (its ``actionFailureDetails`` the reason), and a LOGOUT row. Django's own
auth signals carry them: ``authenticate()`` sends ``user_login_failed``; the REST views send
``user_logged_in``/``user_logged_out`` as Django's session login and logout do. Sysadmins belong
to no tenant, so their logins have no log to go to. "Login as" (GET /api/user/{id}/token) is a
LOGIN row of the user whose tokens were taken, in its tenant's log, by the administrator who took
them (``actionData.loginAs``: true)."""

from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.dispatch import receiver

from audit.models import ActionType
from audit.services import record
from tenants.services import login_as

__all__: list[str] = []

BAD_CREDENTIALS = "Invalid username or password"


def _client(request) -> dict:
    """ThingsBoard's actionData of a login: where it came from (clientAddress) and, ours, the
    User-Agent as sent (ThingsBoard parses it into browser/os/device)."""
    meta = getattr(request, "META", None) or {}
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "").split(",")[0].strip()
    return {"clientAddress": forwarded or meta.get("REMOTE_ADDR", ""), "userAgent": meta.get("HTTP_USER_AGENT", "")}


def _log(user, request, action: str, failure: str = "") -> None:
    if user is None or user.tenant_id is None:
        return
    record(user, tenant_id=user.tenant_id, entity_type="USER", entity_id=user.pk, entity_name=user.email,
           action_type=action, extra=_client(request), failure=failure)


@receiver(user_logged_in, dispatch_uid="audit.user_logged_in")
def _logged_in(sender, request, user, **kwargs) -> None:
    _log(user, request, ActionType.LOGIN)


@receiver(user_logged_out, dispatch_uid="audit.user_logged_out")
def _logged_out(sender, request, user, **kwargs) -> None:
    if getattr(user, "is_authenticated", False):
        _log(user, request, ActionType.LOGOUT)


@receiver(user_login_failed, dispatch_uid="audit.user_login_failed")
def _login_failed(sender, credentials, request=None, **kwargs) -> None:
    """Only a user that exists is logged (an unknown name has no tenant to log it to)."""
    name = str(credentials.get("username") or credentials.get("email") or "").lower()
    user = get_user_model().objects.filter(email__iexact=name).first() if name else None
    _log(user, request, ActionType.LOGIN, failure=BAD_CREDENTIALS)


@receiver(login_as, dispatch_uid="audit.login_as")
def _logged_in_as(sender, actor, user, request, **kwargs) -> None:
    record(actor, tenant_id=user.tenant_id, entity_type="USER", entity_id=user.pk, entity_name=user.email,
           action_type=ActionType.LOGIN, extra={**_client(request), "loginAs": True})
