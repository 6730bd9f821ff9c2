"""ThingsBoard's security settings (``GET/POST /api/admin/securitySettings``), and the password policy
they hold, enforced wherever a password is set (activation, reset, change) and at login.

Without a stored document the settings come from the environment: ``USER_MAX_FAILED_LOGIN_ATTEMPTS``,
``USER_ACTIVATION_TOKEN_TTL_HOURS``, ``USER_PASSWORD_RESET_TOKEN_TTL_HOURS``; a stored value wins.
The policy's messages are ThingsBoard's (its validator's), joined by new lines when several rules fail.
"""

import time

from django.conf import settings
from django.contrib.auth.hashers import check_password

from tenants.system import store
from tenants.system.store import SettingsError, mail_address

__all__ = ["KEY", "DEFAULT_POLICY", "current", "save", "policy", "policy_errors", "reuse_error", "expired",
           "login_problem", "PASSWORD_EXPIRED", "PASSWORD_VIOLATION", "max_failed_login_attempts",
           "activation_ttl_hours", "reset_ttl_hours", "lockout_email", "MAX_PASSWORD", "PolicyValidator"]

KEY = "securitySettings"
#: ThingsBoard's default password policy, as GET /api/noauth/userPasswordPolicy shows it on a fresh install
DEFAULT_POLICY = {"minimumLength": 6, "maximumLength": None, "minimumUppercaseLetters": None,
                  "minimumLowercaseLetters": None, "minimumDigits": None, "minimumSpecialCharacters": None,
                  "passwordExpirationPeriodDays": None, "passwordReuseFrequencyDays": None,
                  "allowWhitespaces": True, "forceUserToResetPasswordIfNotValid": False}
MAX_PASSWORD = 4096  # hashing a longer one is only a way to burn the server's CPU
_COUNTS = ("minimumLength", "maximumLength", "minimumUppercaseLetters", "minimumLowercaseLetters",
           "minimumDigits", "minimumSpecialCharacters", "passwordExpirationPeriodDays", "passwordReuseFrequencyDays")
DAY_MS = 86_400_000


def _ttl(hours: int) -> int:
    return min(max(hours, 1), 24)  # the client's model allows 1..24 hours


def current() -> dict:
    """The effective security settings, ThingsBoard's SecuritySettings JSON."""
    stored = store.read(KEY) or {}
    policy = {**DEFAULT_POLICY, **(stored.get("passwordPolicy") or {})}
    return {
        "passwordPolicy": policy,
        "maxFailedLoginAttempts": stored.get("maxFailedLoginAttempts", settings.USER_MAX_FAILED_LOGIN_ATTEMPTS),
        "userLockoutNotificationEmail": stored.get("userLockoutNotificationEmail", ""),
        "mobileSecretKeyLength": stored.get("mobileSecretKeyLength", 64),
        "userActivationTokenTtl": stored.get("userActivationTokenTtl",
                                             _ttl(settings.USER_ACTIVATION_TOKEN_TTL_HOURS)),
        "passwordResetTokenTtl": stored.get("passwordResetTokenTtl",
                                            _ttl(settings.USER_PASSWORD_RESET_TOKEN_TTL_HOURS)),
    }


def save(data) -> dict:
    """``POST /api/admin/securitySettings``: checked, stored whole, answered as :func:`current`."""
    data = store.checked_document(data, "Security settings")
    raw_policy = data.get("passwordPolicy")
    if raw_policy is not None and not isinstance(raw_policy, dict):
        raise SettingsError("passwordPolicy must be a JSON object")
    raw_policy = raw_policy or {}
    policy_doc = {}
    for name in _COUNTS:
        policy_doc[name] = store.integer(raw_policy, name, default=None, minimum=0, maximum=MAX_PASSWORD
                                         if name.startswith(("minimum", "maximum")) else 100_000)
    for name in ("allowWhitespaces", "forceUserToResetPasswordIfNotValid"):
        flag = raw_policy.get(name, DEFAULT_POLICY[name])
        if not isinstance(flag, bool):
            raise SettingsError(f"{name} must be true or false")
        policy_doc[name] = flag
    if policy_doc["minimumLength"] is None:
        policy_doc["minimumLength"] = DEFAULT_POLICY["minimumLength"]
    if policy_doc["maximumLength"] and policy_doc["maximumLength"] < policy_doc["minimumLength"]:
        raise SettingsError("Maximum password length should not be less than the minimum length")
    email = mail_address(data.get("userLockoutNotificationEmail") or "", "userLockoutNotificationEmail")
    # left out: the value in force (the stored one, else USER_MAX_FAILED_LOGIN_ATTEMPTS), never a silent 0
    attempts = store.integer(data, "maxFailedLoginAttempts", default=None, maximum=1000)
    doc = {
        "passwordPolicy": policy_doc,
        "maxFailedLoginAttempts": attempts if attempts is not None else max_failed_login_attempts(),
        "userLockoutNotificationEmail": email,
        "mobileSecretKeyLength": store.integer(data, "mobileSecretKeyLength", default=64, minimum=1, maximum=1024),
        "userActivationTokenTtl": store.integer(data, "userActivationTokenTtl", default=24, minimum=1, maximum=24),
        "passwordResetTokenTtl": store.integer(data, "passwordResetTokenTtl", default=24, minimum=1, maximum=24),
    }
    store.write(KEY, doc)
    return current()


def policy() -> dict:
    """The password policy (``GET /api/noauth/userPasswordPolicy``)."""
    return current()["passwordPolicy"]


def _count(password: str, test) -> int:
    return sum(1 for ch in password if test(ch))


def _special(ch: str) -> bool:
    return not ch.isalnum() and not ch.isspace()


def policy_errors(password: str, rules: dict | None = None) -> list[str]:
    """ThingsBoard's messages for each rule of the policy ``password`` breaks (none: it passes)."""
    rules = rules or policy()
    errors = []
    minimum, maximum = rules.get("minimumLength") or 0, rules.get("maximumLength") or 0
    if len(password) < minimum:
        errors.append(f"Password must be {minimum} or more characters in length.")
    if maximum and len(password) > maximum:
        errors.append(f"Password must be no more than {maximum} characters in length.")
    for name, test, what in (("minimumUppercaseLetters", str.isupper, "uppercase"),
                             ("minimumLowercaseLetters", str.islower, "lowercase"),
                             ("minimumDigits", str.isdigit, "digit"),
                             ("minimumSpecialCharacters", _special, "special")):
        wanted = rules.get(name) or 0
        if wanted and _count(password, test) < wanted:
            errors.append(f"Password must contain {wanted} or more {what} characters.")
    if rules.get("allowWhitespaces") is False and any(ch.isspace() for ch in password):
        errors.append("Password contains a whitespace character.")
    return errors


def reuse_error(user, password: str, rules: dict | None = None) -> str | None:
    """ThingsBoard's refusal of a password ``user`` already set within passwordReuseFrequencyDays."""
    rules = rules or policy()
    days = rules.get("passwordReuseFrequencyDays") or 0
    history = getattr(user, "password_history", None)
    if not days or user is None or not isinstance(history, dict):
        return None
    since = time.time() * 1000 - days * DAY_MS
    for ts, hashed in history.items():
        if str(ts).isdigit() and int(ts) > since and isinstance(hashed, str) and check_password(password, hashed):
            return f"Password was already used for the last {days} days"
    return None


def expired(user) -> bool:
    """Whether ``user``'s password is older than passwordExpirationPeriodDays (never without a period)."""
    days = policy().get("passwordExpirationPeriodDays") or 0
    history = getattr(user, "password_history", None)
    if not days or not isinstance(history, dict) or not history:
        return False
    last = max(int(ts) for ts in history if str(ts).isdigit())
    return last + days * DAY_MS < time.time() * 1000


PASSWORD_EXPIRED = "User password expired!"
PASSWORD_VIOLATION = "The entered password violates our policies. If this is your real password, please reset it."


def login_problem(user, password: str) -> str | None:
    """Why a right password still does not log ``user`` in: it expired (passwordExpirationPeriodDays), or it
    breaks the policy while forceUserToResetPasswordIfNotValid is on. ThingsBoard's messages; None: log in."""
    if expired(user):
        return PASSWORD_EXPIRED
    rules = policy()
    if rules.get("forceUserToResetPasswordIfNotValid") and policy_errors(password, rules):
        return PASSWORD_VIOLATION
    return None


def max_failed_login_attempts() -> int:
    value = current()["maxFailedLoginAttempts"]
    return value if isinstance(value, int) else 0


def activation_ttl_hours() -> int:
    """Hours an activation link is valid: the stored ``userActivationTokenTtl``, else the environment's."""
    stored = (store.read(KEY) or {}).get("userActivationTokenTtl")
    return stored if isinstance(stored, int) else settings.USER_ACTIVATION_TOKEN_TTL_HOURS


def reset_ttl_hours() -> int:
    stored = (store.read(KEY) or {}).get("passwordResetTokenTtl")
    return stored if isinstance(stored, int) else settings.USER_PASSWORD_RESET_TOKEN_TTL_HOURS


def lockout_email() -> str:
    return current()["userLockoutNotificationEmail"] or ""


class PolicyValidator:
    """The password policy as a Django password validator (AUTH_PASSWORD_VALIDATORS): the admin's user forms
    and ``manage.py changepassword`` refuse what the API refuses."""

    def validate(self, password, user=None):
        from django.core.exceptions import ValidationError

        rules = policy()
        errors = policy_errors(password, rules)
        reused = reuse_error(user, password, rules) if user is not None and getattr(user, "pk", None) else None
        if errors or reused:
            raise ValidationError([*errors, *([reused] if reused else [])])

    def get_help_text(self) -> str:
        rules = policy()
        return f"At least {rules.get('minimumLength') or 0} characters, as the security settings' password policy says."
