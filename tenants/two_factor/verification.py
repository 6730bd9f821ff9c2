"""The login's second step, as ThingsBoard's: a right password of a user with a provider configured (one the
platform enables) answers a ``PRE_VERIFICATION_TOKEN`` valid ``totalAllowedTimeForVerification`` seconds; with
``enforceTwoFa`` a user without one gets a ``MFA_CONFIGURATION_TOKEN`` that reaches only the account config
endpoints and ``/api/auth/2fa/login``. ``check`` trades a right code for the usual token pair.

Checks are limited per user (``verificationCodeCheckRateLimit``, a 429; ``"3:900"`` when the settings name
none, tenants/two_factor/platform.py). Wrong codes are counted in the user's 2FA state (``failures``), apart
from the wrong passwords (tenants/lockout.py): a right password does not start it again, only a right code
does, so the wrong code past ``maxVerificationFailuresBeforeUserLockout`` disables the user however many
logins came between, as ThingsBoard's lockout does.
"""

import math

from django.db import transaction

from tbproject.api.tokens import issue_limited
from tbproject.clock import now_ms
from tenants import lockout
from tenants.two_factor import TwoFaError, account, platform

__all__ = ["PRE_VERIFICATION", "MFA_CONFIGURATION", "LOCKED", "INCORRECT", "FAILURES", "login_answer", "due",
           "providers_info", "send", "check", "configured_for_login"]

PRE_VERIFICATION, MFA_CONFIGURATION = "PRE_VERIFICATION_TOKEN", "MFA_CONFIGURATION_TOKEN"
LOCKED = "User account was locked due to exceeded 2FA verification attempts"
INCORRECT = "Verification code is incorrect"
FAILURES = "failures"  # the wrong codes in a row, in TwoFaSettings.state


def login_answer(user) -> dict | None:
    """What /api/auth/login answers ``user`` instead of a token pair, None when 2FA does not apply."""
    doc = platform.current()
    if not doc or not doc.get("providers"):
        return None
    lifetime = doc.get("totalAllowedTimeForVerification") or 1800
    if account.configured(user):
        return issue_limited(user, PRE_VERIFICATION, lifetime)
    if platform.enforced_for(user, doc):
        return issue_limited(user, MFA_CONFIGURATION, lifetime)
    return None


def due(user) -> bool:
    """Whether a password login of ``user`` needs a second step (a code, or configuring 2FA first): a login
    that cannot ask for it (the Django admin's sign-in page) refuses such a user."""
    doc = platform.current()
    if not doc or not doc.get("providers"):
        return False
    return bool(account.configured(user)) or platform.enforced_for(user, doc)


def configured_for_login(user) -> bool:
    return bool(account.configured(user))


def _contact(kind: str, config: dict) -> str | None:
    if kind != "EMAIL":
        return None
    local, _, domain = (config.get("email") or "").partition("@")
    shown = local[:2] + "*" * max(len(local) - 4, 1) + local[-2:] if len(local) > 4 else local[:1] + "***"
    return f"{shown}@{domain}"


def providers_info(user) -> list[dict]:
    """ThingsBoard's TwoFaProviderInfo of each provider ``user`` configured (the email address obfuscated)."""
    period = (platform.current() or {}).get("minVerificationCodeSendPeriod")
    return [{"type": kind, "default": bool(config.get("useByDefault")), "contact": _contact(kind, config),
             "minVerificationCodeSendPeriod": period}
            for kind, config in account.configured(user).items()]


def _configured(user, kind) -> dict:
    account.enabled_provider(kind)
    config = account.configured(user).get(kind)
    if config is None:
        raise TwoFaError(f"2FA provider {kind} is not configured for the account")
    return config


def send(user, kind) -> None:
    """``POST /api/auth/2fa/verification/send``: EMAIL mails a login code; TOTP and backup codes need none."""
    config = _configured(user, kind)
    if kind == "EMAIL":
        account.send_email_code(user, "login", config["email"])


def _count_check(user) -> None:
    """Count a check against ``verificationCodeCheckRateLimit``; a 429 when one of its windows is full."""
    limits = platform.rate_limits((platform.current() or {}).get("verificationCodeCheckRateLimit")
                                  or platform.DEFAULT_CHECK_RATE_LIMIT)
    if not limits:
        return
    longest = max(seconds for _, seconds in limits) * 1000
    with transaction.atomic():
        row = account.row_of(user, lock=True)
        now = now_ms()
        checks = [t for t in row.state.get("checks") or () if isinstance(t, int) and now - t < longest]
        for amount, seconds in limits:
            recent = sorted(t for t in checks if now - t < seconds * 1000)
            if len(recent) >= amount:
                wait = math.ceil((recent[-amount] + seconds * 1000 - now) / 1000)
                raise TwoFaError("Too many verification requests", 429, max(wait, 1))
        row.state = {**row.state, "checks": [*checks, now]}
        row.save(update_fields=["state"])


def check(user, kind, code) -> None:
    """``POST /api/auth/2fa/verification/check``: returns when ``code`` is right (the caller then issues the pair);
    a 400 for a wrong one, a 401 when it locked the user, a 429 past the rate limit."""
    _configured(user, kind)
    code = account.code_text(code)
    _count_check(user)
    if kind == "TOTP":
        right = account.totp_ok(user, code)
    elif kind == "EMAIL":
        right = account.take_email_code(user, "login", code)
    else:
        right = account.use_backup_code(user, code)
    limit = (platform.current() or {}).get("maxVerificationFailuresBeforeUserLockout") or 0
    if _counted(user, right, limit):
        raise TwoFaError(LOCKED, 401)
    if not right:
        raise TwoFaError(INCORRECT)


def _counted(user, right: bool, limit: int) -> bool:
    """Count a wrong code (a right one starts the count again); True when it was the one past ``limit``
    and disabled the user (the count then starts again, for when an administrator enables it)."""
    with transaction.atomic():
        row = account.row_of(user, lock=True)
        before = row.state.get(FAILURES)
        before = before if isinstance(before, int) and before > 0 else 0
        count = 0 if right else before + 1
        if count == before:
            return False
        locked = 0 < limit < count
        row.state = {**row.state, FAILURES: 0 if locked else count}
        row.save(update_fields=["state"])
    return locked and lockout.lock(user, count)
