"""The platform 2FA settings (``GET/POST /api/2fa/settings``), kept as ThingsBoard keeps them: the admin settings
document ``twoFaSettings``. Users may configure only the providers listed here; none listed: 2FA is off.

SMS is refused (this server sends no SMS). ``enforcedUsersFilter`` takes ThingsBoard's users filters
``ALL_USERS``, ``SYSTEM_ADMINISTRATORS``, ``TENANT_ADMINISTRATORS`` (``tenantsIds``, ``tenantProfilesIds``),
``CUSTOMER_USERS`` and ``USER_LIST`` (``usersIds``); null means every user.
"""

import re

from tbproject.text import check_text
from tenants.choices import Authority
from tenants.system import store
from tenants.system.store import SettingsError

__all__ = ["KEY", "PROVIDER_TYPES", "DEFAULT_CHECK_RATE_LIMIT", "current", "save", "provider", "available_types",
           "enforced_for", "rate_limits"]

KEY = "twoFaSettings"
PROVIDER_TYPES = ("TOTP", "SMS", "EMAIL", "BACKUP_CODE")
DEFAULT_CODE_LIFETIME = 120  # seconds an email code is valid when the provider does not say
DEFAULT_CODES_QUANTITY = 10
DAY = 86_400
#: checks of codes per user when the settings name no ``verificationCodeCheckRateLimit`` (null or ""): the value
#: ThingsBoard's UI fills in, so that codes are never guessed at full speed
DEFAULT_CHECK_RATE_LIMIT = "3:900"
_RATE = re.compile(r"^\d{1,7}:\d{1,7}$")
_FILTERS = ("ALL_USERS", "SYSTEM_ADMINISTRATORS", "TENANT_ADMINISTRATORS", "CUSTOMER_USERS", "USER_LIST")


def current() -> dict | None:
    """The stored settings, None when 2FA was never configured."""
    return store.read(KEY)


def _provider(item) -> dict:
    if not isinstance(item, dict):
        raise SettingsError("providers: each provider must be a JSON object")
    kind = item.get("providerType")
    if kind not in PROVIDER_TYPES:
        raise SettingsError(f"providers: providerType must be one of {', '.join(PROVIDER_TYPES)}")
    if kind == "SMS":
        raise SettingsError("SMS two-factor authentication is not supported by this server (it sends no SMS)")
    if kind == "TOTP":
        issuer = item.get("issuerName")
        if not isinstance(issuer, str) or not issuer.strip():
            raise SettingsError("issuerName must not be blank")
        if len(issuer) > 255 or ":" in issuer:
            raise SettingsError("issuerName must be at most 255 characters, without ':'")
        try:
            check_text(issuer)
        except ValueError as e:
            raise SettingsError(f"issuerName: {e}") from None
        return {"providerType": kind, "issuerName": issuer.strip()}
    if kind == "EMAIL":
        return {"providerType": kind, "verificationCodeLifetime": store.integer(
            item, "verificationCodeLifetime", default=DEFAULT_CODE_LIFETIME, minimum=1, maximum=DAY)}
    return {"providerType": kind, "codesQuantity": store.integer(
        item, "codesQuantity", default=DEFAULT_CODES_QUANTITY, minimum=1, maximum=100)}


def _filter(value) -> dict | None:
    if value is None:
        return None
    if not isinstance(value, dict) or value.get("type") not in _FILTERS:
        raise SettingsError(f"enforcedUsersFilter: type must be one of {', '.join(_FILTERS)}")
    for field in ("tenantsIds", "tenantProfilesIds", "usersIds"):
        ids = value.get(field)
        if ids is not None and (not isinstance(ids, list) or len(ids) > 10_000
                                or not all(isinstance(i, str) and len(i) <= 64 for i in ids)):
            raise SettingsError(f"enforcedUsersFilter: {field} must be a list of ids")
    return value


def rate_limits(text) -> list[tuple[int, int]]:
    """``"3:900"`` (or several, ``"3:900,10:3600"``) as [(requests, seconds)]; [] for none."""
    if text in (None, ""):
        return []
    if not isinstance(text, str) or len(text) > 200 or not all(_RATE.match(p.strip()) for p in text.split(",")):
        raise SettingsError("verificationCodeCheckRateLimit must look like 'amountOfRequests:periodInSeconds'")
    limits = [tuple(int(n) for n in p.strip().split(":")) for p in text.split(",")]
    if any(n < 1 or s < 1 for n, s in limits):
        raise SettingsError("verificationCodeCheckRateLimit: both numbers must be positive")
    return limits


def save(data) -> dict:
    """Check and store the posted settings; the answer is what was stored."""
    data = store.checked_document(data, "Two-factor authentication settings")
    providers = data.get("providers")
    if providers is None:
        providers = []
    if not isinstance(providers, list) or len(providers) > len(PROVIDER_TYPES):
        raise SettingsError("providers must be a list of provider configs")
    providers = [_provider(p) for p in providers]
    if len({p["providerType"] for p in providers}) != len(providers):
        raise SettingsError("providers: each provider type may be listed once")
    rate = data.get("verificationCodeCheckRateLimit")
    rate_limits(rate)
    enforce = data.get("enforceTwoFa", False)
    use_system = data.get("useSystemTwoFactorAuthSettings", False)
    if not isinstance(enforce, bool) or not isinstance(use_system, bool):
        raise SettingsError("enforceTwoFa and useSystemTwoFactorAuthSettings must be true or false")
    doc = {
        "useSystemTwoFactorAuthSettings": use_system,
        "providers": providers,
        "minVerificationCodeSendPeriod": store.integer(data, "minVerificationCodeSendPeriod", default=30,
                                                       minimum=5, maximum=DAY),
        "verificationCodeCheckRateLimit": rate or DEFAULT_CHECK_RATE_LIMIT,
        "maxVerificationFailuresBeforeUserLockout": store.integer(
            data, "maxVerificationFailuresBeforeUserLockout", default=0, maximum=1000),
        "totalAllowedTimeForVerification": store.integer(data, "totalAllowedTimeForVerification", default=1800,
                                                         minimum=60, maximum=DAY),
        "enforceTwoFa": enforce,
        "enforcedUsersFilter": _filter(data.get("enforcedUsersFilter")),
    }
    store.write(KEY, doc)
    return doc


def provider(kind: str) -> dict | None:
    """The platform config of provider ``kind``, None when it is not enabled."""
    for item in (current() or {}).get("providers") or ():
        if item.get("providerType") == kind:
            return item
    return None


def available_types() -> list[str]:
    return [p["providerType"] for p in (current() or {}).get("providers") or ()]


def enforced_for(user, doc: dict) -> bool:
    """Whether ``enforceTwoFa`` obliges ``user`` to configure 2FA before logging in."""
    if not doc.get("enforceTwoFa") or not doc.get("providers"):
        return False
    users = doc.get("enforcedUsersFilter") or {"type": "ALL_USERS"}
    kind = users.get("type")
    if kind == "ALL_USERS":
        return True
    if kind == "SYSTEM_ADMINISTRATORS":
        return user.authority == Authority.SYS_ADMIN
    if kind == "TENANT_ADMINISTRATORS":
        if user.authority != Authority.TENANT_ADMIN:
            return False
        tenants, profiles = users.get("tenantsIds"), users.get("tenantProfilesIds")
        if tenants:
            return str(user.tenant_id) in tenants
        if profiles:
            return str(getattr(user.tenant, "tenant_profile_id", None)) in profiles
        return True
    if kind == "CUSTOMER_USERS":
        return user.authority == Authority.CUSTOMER_USER
    return str(user.pk) in (users.get("usersIds") or ())
