"""Each user's 2FA provider configs (``/api/2fa/account/...``): generated, submitted (EMAIL: a code is mailed),
verified with a code and saved, made the default, deleted. Every call acts on the caller's own configs: no
endpoint takes a user id, so no one reaches another user's.

Stored (``TwoFaSettings.configs``): TOTP ``{useByDefault, secret (sealed), issuer, account}``, EMAIL
``{useByDefault, email}``, BACKUP_CODE ``{useByDefault, codes: [keyed hashes]}``. Answered: the TOTP ``authUrl``
with its secret masked, and the backup codes masked, one mask per code left (ThingsBoard's client requires a
non-empty ``codes`` list), with ``codesLeft``. The secret and the codes are shown once, by ``generate``.
"""

import math
import re
import secrets
from urllib.parse import parse_qs, quote, quote_plus, unquote, urlsplit

import pyotp
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.validators import validate_email
from django.db import transaction

from tbproject.clock import now_ms
from tbproject.text import check_text
from tenants.models import TwoFaSettings
from tenants.system import mail
from tenants.two_factor import TwoFaError, platform, sealing

__all__ = ["MASK", "SECRET_MASK", "row_of", "TOTP_WINDOW", "provider_type", "enabled_provider", "configured", "answer",
           "generate", "submit", "verify_and_save", "update", "delete", "send_email_code", "take_email_code", "totp_ok",
           "use_backup_code", "code_text", "auth_url"]

MASK = "********"
#: the secret shown in a saved TOTP config's authUrl: word characters (ThingsBoard's client checks the URL against
#: ``secret=(\w+?)``) and no base32 key, so a URL posted back with it is refused
SECRET_MASK = "SECRET_HIDDEN"
ORDER = platform.PROVIDER_TYPES
TOTP_WINDOW = 1  # the codes of the 30 s steps before and after pass too (clock drift), as ThingsBoard allows
_SECRET = re.compile(r"^[A-Z2-7]{16,128}$")
_BACKUP = re.compile(r"^[a-z0-9]{8,64}$")
SUBJECT = "ThingsBoard - two-factor authentication"
BACKUP_ONLY = "To use 2FA backup codes you first need to configure at least one provider"  # ThingsBoard's


def row_of(user, *, lock: bool = False) -> TwoFaSettings:
    rows = TwoFaSettings.objects.select_for_update() if lock else TwoFaSettings.objects
    found = rows.filter(user=user).first()
    if found is None:
        TwoFaSettings.objects.get_or_create(user=user, defaults={"tenant_id": user.tenant_id})
        found = rows.get(user=user)
    return found


def provider_type(value) -> str:
    if value not in ORDER:
        raise TwoFaError(f"providerType must be one of {', '.join(ORDER)}")
    return value


def enabled_provider(kind) -> dict:
    """The platform config of ``kind``; a 400 when the platform does not enable it."""
    config = platform.provider(provider_type(kind))
    if config is None:
        raise TwoFaError(f"2FA provider {kind} is not configured")
    return config


def configured(user) -> dict[str, dict]:
    """``user``'s stored configs of the providers the platform enables, in ThingsBoard's order; none when
    backup codes would be left alone (they are no factor of their own, as in ThingsBoard)."""
    stored = TwoFaSettings.objects.filter(user=user).values_list("configs", flat=True).first() or {}
    enabled = set(platform.available_types())
    found = {k: stored[k] for k in ORDER if k in stored and k in enabled}
    return {} if set(found) == {"BACKUP_CODE"} else found


def auth_url(issuer: str, account: str, secret: str) -> str:
    return (f"otpauth://totp/{quote(issuer)}:{quote(account, safe='@')}?issuer={quote_plus(issuer)}"
            f"&secret={secret}")


def _shown(kind: str, config: dict) -> dict:
    body = {"providerType": kind, "useByDefault": bool(config.get("useByDefault"))}
    if kind == "TOTP":
        body["authUrl"] = auth_url(config.get("issuer") or "", config.get("account") or "", SECRET_MASK)
    elif kind == "EMAIL":
        body["email"] = config.get("email")
    elif kind == "BACKUP_CODE":
        left = len(config.get("codes") or ())
        body.update(codes=[MASK] * left, codesLeft=left)
    return body


def answer(user) -> dict:
    """ThingsBoard's AccountTwoFaSettings of ``user``, secrets masked."""
    return {"configs": {kind: _shown(kind, config) for kind, config in configured(user).items()}}


def generate(user, kind) -> dict:
    """A fresh config template: TOTP a new secret in ``authUrl``, EMAIL the user's address, BACKUP_CODE new codes."""
    config = enabled_provider(kind)
    if kind == "TOTP":
        return {"providerType": kind, "useByDefault": False,
                "authUrl": auth_url(config["issuerName"], user.email, pyotp.random_base32())}
    if kind == "EMAIL":
        return {"providerType": kind, "useByDefault": False, "email": user.email}
    codes = [secrets.token_hex(4) for _ in range(config.get("codesQuantity") or platform.DEFAULT_CODES_QUANTITY)]
    return {"providerType": kind, "useByDefault": False, "codes": codes, "codesLeft": len(codes)}


def _totp(url) -> dict:
    if not isinstance(url, str) or len(url) > 2048 or not url.startswith("otpauth://totp/"):
        raise TwoFaError("authUrl must be an otpauth://totp/ URL")
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    secret = (query.get("secret") or [""])[0].upper().rstrip("=")
    if not _SECRET.match(secret):
        raise TwoFaError("authUrl: secret must be a base32 key of 16 to 128 characters")
    label = unquote(parts.path.lstrip("/"))
    issuer, _, account = label.rpartition(":")
    issuer = (query.get("issuer") or [issuer])[0]
    try:
        check_text(label + issuer)
    except ValueError as e:
        raise TwoFaError(f"authUrl: {e}") from None
    return {"secret": secret, "issuer": issuer[:255], "account": account[:255]}


def _email(value) -> str:
    if not isinstance(value, str) or len(value) > 254:
        raise TwoFaError("email must be an email address")
    try:
        validate_email(check_text(value.strip()))
    except (DjangoValidationError, ValueError):
        raise TwoFaError("email must be an email address") from None
    return value.strip()


def _codes(value) -> list[str]:
    if (not isinstance(value, list) or not 1 <= len(value) <= 100
            or not all(isinstance(c, str) and _BACKUP.match(c) for c in value) or len(set(value)) != len(value)):
        raise TwoFaError("codes must be a list of 1 to 100 different backup codes "
                         "(8 to 64 lowercase letters or digits)")
    return value


def _posted(data) -> tuple[str, dict]:
    if not isinstance(data, dict):
        raise TwoFaError("Request body must be a JSON object")
    kind = provider_type(data.get("providerType"))
    enabled_provider(kind)
    default = data.get("useByDefault")
    if default is not None and not isinstance(default, bool):
        raise TwoFaError("useByDefault must be true or false")
    config = {"useByDefault": bool(default)}
    if kind == "TOTP":
        return kind, {**config, **_totp(data.get("authUrl"))}
    if kind == "EMAIL":
        return kind, {**config, "email": _email(data.get("email"))}
    if kind == "SMS":
        raise TwoFaError("SMS two-factor authentication is not supported by this server")
    return kind, {**config, "codes": _codes(data.get("codes"))}


def code_text(code) -> str:
    """A posted verification code, or a 400 for one that cannot be a code."""
    if not isinstance(code, str) or not code.strip():
        raise TwoFaError("Verification code is required")
    if len(code) > 64:
        raise TwoFaError("Verification code is incorrect")
    return code.strip()


def submit(user, data) -> None:
    """``POST /api/2fa/account/config/submit``: EMAIL mails a code to the posted address; others do nothing."""
    kind, config = _posted(data)
    if kind == "EMAIL":
        send_email_code(user, "setup", config["email"])


def verify_and_save(user, data, code) -> dict:
    """``POST /api/2fa/account/config?verificationCode=``: the config saved when the code is right (backup
    codes need none, but another provider first); the account settings answered."""
    kind, config = _posted(data)
    if kind == "BACKUP_CODE" and not set(configured(user)) - {"BACKUP_CODE"}:
        raise TwoFaError(BACKUP_ONLY)
    if kind != "BACKUP_CODE":
        code = code_text(code)
        right = (pyotp.TOTP(config["secret"]).verify(code, valid_window=TOTP_WINDOW) if kind == "TOTP"
                 else take_email_code(user, "setup", code, to=config["email"]))
        if not right:
            raise TwoFaError("Verification code is incorrect")
    if kind == "TOTP":
        config["secret"] = sealing.seal(config["secret"])
    elif kind == "BACKUP_CODE":
        config["codes"] = [sealing.digest(user.pk, c) for c in config["codes"]]
    with transaction.atomic():
        row = row_of(user, lock=True)
        configs = {**row.configs, kind: config}
        _defaults(configs, kind if config["useByDefault"] else None)
        row.configs = configs
        row.save(update_fields=["configs"])
    return answer(user)


def _defaults(configs: dict, chosen: str | None) -> None:
    """``chosen`` becomes the only default; with none, the first config in ThingsBoard's order (backup codes last)."""
    if chosen:
        for kind, config in configs.items():
            config["useByDefault"] = kind == chosen
    if configs and not any(c.get("useByDefault") for c in configs.values()):
        first = next((k for k in ORDER if k in configs and k != "BACKUP_CODE"), next(iter(configs)))
        configs[first]["useByDefault"] = True


def update(user, kind, data) -> dict:
    """``PUT /api/2fa/account/config?providerType=``: ``useByDefault`` of one config."""
    provider_type(kind)
    if not isinstance(data, dict) or not isinstance(data.get("useByDefault"), bool):
        raise TwoFaError("useByDefault must be true or false")
    with transaction.atomic():
        row = row_of(user, lock=True)
        configs = dict(row.configs)
        if kind not in configs:
            raise TwoFaError(f"Config for {kind} 2FA provider not found")
        configs[kind] = {**configs[kind], "useByDefault": data["useByDefault"]}
        _defaults(configs, kind if data["useByDefault"] else None)
        row.configs = configs
        row.save(update_fields=["configs"])
    return answer(user)


def delete(user, kind) -> dict:
    """``DELETE /api/2fa/account/config?providerType=``; the backup codes go with the last other provider."""
    provider_type(kind)
    with transaction.atomic():
        row = row_of(user, lock=True)
        configs = {k: v for k, v in row.configs.items() if k != kind}
        if set(configs) == {"BACKUP_CODE"}:
            configs = {}
        _defaults(configs, None)
        row.configs = configs
        row.save(update_fields=["configs"])
    return answer(user)


def send_email_code(user, purpose: str, to: str) -> None:
    """Mail a fresh six-digit code to ``to``, valid for the EMAIL provider's ``verificationCodeLifetime``; a 429
    when the last one went out less than ``minVerificationCodeSendPeriod`` seconds ago."""
    doc = platform.current() or {}
    lifetime = (platform.provider("EMAIL") or {}).get("verificationCodeLifetime") or platform.DEFAULT_CODE_LIFETIME
    period_ms = (doc.get("minVerificationCodeSendPeriod") or 30) * 1000
    code = f"{secrets.randbelow(10**6):06d}"
    with transaction.atomic():
        row = row_of(user, lock=True)
        now, last = now_ms(), row.state.get("sentAt") or 0
        if last and now - last < period_ms:
            wait = math.ceil((period_ms - now + last) / 1000)
            raise TwoFaError("Too many verification code sending requests", 429, wait)
        row.state = {**row.state, "sentAt": now,
                     purpose: {"to": to, "code": sealing.digest(user.pk, code), "expires": now + lifetime * 1000}}
        row.save(update_fields=["state"])
    try:
        mail.send(to, SUBJECT, f"Your verification code: {code}\n\nIt is valid for {lifetime} seconds.")
    except mail.MailError as e:
        raise TwoFaError(f"Unable to send the verification code: {e}", 500) from None


def take_email_code(user, purpose: str, code: str, to: str | None = None) -> bool:
    """Whether ``code`` is the pending ``purpose`` code (not expired, sent to ``to``); a right one is used up."""
    with transaction.atomic():
        row = row_of(user, lock=True)
        pending = row.state.get(purpose)
        if (not isinstance(pending, dict) or (to is not None and pending.get("to") != to)
                or (pending.get("expires") or 0) < now_ms() or not sealing.same(pending.get("code"), user.pk, code)):
            return False
        row.state = {k: v for k, v in row.state.items() if k != purpose}
        row.save(update_fields=["state"])
    return True


def totp_ok(user, code: str) -> bool:
    secret = sealing.unseal((configured(user).get("TOTP") or {}).get("secret"))
    return bool(secret) and pyotp.TOTP(secret).verify(code, valid_window=TOTP_WINDOW)


def use_backup_code(user, code: str) -> bool:
    """Whether ``code`` is one of ``user``'s backup codes; a right one is used up (the config goes with the last)."""
    with transaction.atomic():
        row = row_of(user, lock=True)
        config = row.configs.get("BACKUP_CODE") or {}
        codes = config.get("codes") or []
        left = [c for c in codes if not sealing.same(c, user.pk, code)]
        if len(left) == len(codes):
            return False
        configs = {k: v for k, v in row.configs.items() if k != "BACKUP_CODE"}
        if left:
            configs["BACKUP_CODE"] = {**config, "codes": left}
        _defaults(configs, None)
        row.configs = configs
        row.save(update_fields=["configs"])
    return True
