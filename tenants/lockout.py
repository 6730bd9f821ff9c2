"""ThingsBoard's lockout of a login after too many wrong passwords (its security settings'
``maxFailedLoginAttempts``, tenants/system/security.py; ``USER_MAX_FAILED_LOGIN_ATTEMPTS`` while none is
stored). When the security settings name a ``userLockoutNotificationEmail``, a lock is mailed there.

Each wrong password of an enabled user is counted in the user's ``additionalInfo.failedLoginAttempts``
(where ThingsBoard keeps it), a right one starts the count again, and the wrong one past the limit
disables the login as an administrator disabling it would (its tokens stop working, its pending links
go): answered 401 "User account is locked due to security policy". From then on the right password
answers "User account is not active" until an administrator enables the user again
(``POST /api/user/{id}/userCredentialsEnabled``), which also resets the count.

Off by default (``0``), as ThingsBoard's security settings leave it unset: with it on, anyone who knows
an address can disable that login with a few guesses. ``manage.py enable_user EMAIL`` enables a
locked user from the shell (tenants/management/commands/enable_user.py).

Every password login goes through :class:`LockoutBackend` (settings.AUTHENTICATION_BACKENDS): the
REST API's /api/auth/login and the admin's sign-in page alike. It also keeps the per-client limit on
failed logins (tenants/limits/login.py), which bounds guessing whether the lockout is on or not: a
client past it is refused before any password is checked (``retry_after(request)`` says how long).
"""

import logging

from django.contrib.auth.backends import ModelBackend
from django.db import transaction

from tbproject.clock import now_ms
from tenants.limits import login as login_limits
from tenants.models import CredentialsToken, User
from tenants.system import mail, security

__all__ = ["FAILED", "LOCKED", "NOT_ACTIVE", "TOO_MANY", "REFUSAL", "LockoutBackend", "disable", "lock",
           "forget_failures", "count_failure", "refusal", "retry_after"]

FAILED = "failedLoginAttempts"  # ThingsBoard's key in the user's additionalInfo
LOCKED = "User account is locked due to security policy"  # ThingsBoard's answers (401, errorCode 10)
NOT_ACTIVE = "User account is not active"
TOO_MANY = "Too many failed logins from your address: try again later."
#: the attribute through which the backend tells the REST login view why it refused (Django's
#: authenticate() only answers None)
REFUSAL = "tb_login_refusal"
#: and the seconds a client past the per-client limit on failed logins waits
RETRY_AFTER = "tb_login_retry_after"

log = logging.getLogger(__name__)


def disable(user: User) -> list[str]:
    """Disable ``user``'s login, unsaved: its tokens are outdated, its pending links deleted. The fields to save."""
    user.is_active = False
    user.credentials_changed = now_ms()
    CredentialsToken.objects.filter(user=user).delete()
    return ["is_active", "credentials_changed"]


def lock(user: User, count: int) -> bool:
    """Disable ``user`` (saved) after ``count`` failures counted elsewhere (2FA's wrong codes), notified as a
    lock here is; False when it was disabled already."""
    with transaction.atomic():
        row = User.objects.select_for_update().filter(pk=user.pk, is_active=True).first()
        if row is None:
            return False
        row.save(update_fields=disable(row))
    log.warning("user %s locked after %d failed verifications in a row", row.pk, count)
    _notify(row, count)
    return True


def forget_failures(user: User) -> list[str]:
    """Start ``user``'s count of wrong passwords again, unsaved: the fields to save (none when it was 0)."""
    info = user.additional_info if isinstance(user.additional_info, dict) else {}
    if not info.get(FAILED):
        return []
    user.additional_info = {k: v for k, v in info.items() if k != FAILED}
    return ["additional_info"]


def count_failure(user: User) -> bool:
    """Count a wrong password of ``user``; True when it was the one past the limit and disabled the login."""
    limit = security.max_failed_login_attempts()
    with transaction.atomic():
        # the row locked (PostgreSQL) so that parallel guesses are each counted
        row = User.objects.select_for_update().filter(pk=user.pk, is_active=True).first()
        if row is None:  # disabled, or waiting for activation: nothing to lock
            return False
        info = dict(row.additional_info) if isinstance(row.additional_info, dict) else {}
        previous = info.get(FAILED)
        count = (previous if isinstance(previous, int) and previous > 0 else 0) + 1
        row.additional_info = {**info, FAILED: count}
        fields = ["additional_info"]
        locked = 0 < limit < count
        if locked:
            fields += disable(row)
        row.save(update_fields=fields)
    if locked:
        log.warning("user %s locked after %d failed logins in a row", row.pk, count)
        _notify(row, count)
    return locked


def _notify(user: User, count: int) -> None:
    """Mail the security settings' lockout notification address (if any) that ``user`` was locked."""
    to = security.lockout_email()
    if not to:
        return
    try:
        mail.send(to, "User account locked", f"The account of {user.email} was locked after {count} failed "
                  "login attempts in a row. An administrator enables it again.")
    except mail.MailError as e:
        log.warning("lockout notification for user %s not sent: %s", user.pk, e)


def refusal(request) -> str | None:
    """Why the backend refused this request's login, when it was not a wrong name or password."""
    return getattr(request, REFUSAL, None) if request is not None else None


def retry_after(request) -> int:
    """Seconds until this request's client may try a password again, when the per-client limit refused it."""
    return getattr(request, RETRY_AFTER, 0) if refusal(request) == TOO_MANY else 0


class LockoutBackend(ModelBackend):
    """Django's ModelBackend, counting wrong passwords and saying why it refused an enabled user's
    right password (``refusal(request)``)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        if request is not None:  # a client past its failed logins: no password of it is checked
            wait = login_limits.blocked(request)
            if wait:
                _throttle(request, wait)
                return None
        try:
            user = User._default_manager.get_by_natural_key(username)
        except User.DoesNotExist:
            User().set_password(password)  # as ModelBackend: an unknown user costs the same hashing
            _client_failed(request)
            return None
        if not user.check_password(password):
            _client_failed(request)
            if count_failure(user):
                _refuse(request, LOCKED)  # the lock's answer before the client limit's
            return None
        if not self.user_can_authenticate(user):
            _refuse(request, NOT_ACTIVE)
            return None
        fields = forget_failures(user)
        if fields:
            user.save(update_fields=fields)
        return user


def _refuse(request, reason: str) -> None:
    if request is not None:
        setattr(request, REFUSAL, reason)


def _throttle(request, wait: int) -> None:
    _refuse(request, TOO_MANY)
    setattr(request, RETRY_AFTER, wait)


def _client_failed(request) -> None:
    """Count a wrong name or password against the request's client (none without a request)."""
    if request is None:
        return
    wait = login_limits.count_failure(request)
    if wait:  # parallel guesses found the bucket empty: refused as the next one will be
        _throttle(request, wait)
