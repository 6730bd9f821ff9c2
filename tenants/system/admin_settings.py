"""The system administrator's settings documents (``GET /api/admin/settings/{key}``, ``POST /api/admin/settings``):

- ``general``: ``baseUrl`` and ``prohibitDifferentUrl``. With ``prohibitDifferentUrl`` the links mailed to users
  (activation, password reset) start with ``baseUrl``; without a stored document ``PUBLIC_BASE_URL`` plays it.
- ``mail``: the SMTP server mails go through (tenants/system/mail.py); without one the ``EMAIL_*`` settings do.
  Its ``password`` is write-only: never answered, and kept when a save leaves it out (or null), as ThingsBoard,
  while ``smtpHost``, ``smtpPort`` and ``username`` are unchanged (else the mail goes without a password).
- ``sms``: stored as given, its secrets (``accountToken``, ``password``, ``secretAccessKey``) as the mail password.
- ``connectivity`` (device connectivity hints) and any other key: stored and answered as given.

``jwt`` and ``securitySettings`` have endpoints of their own (tenants/system/jwt_settings.py, security.py) and
are refused here, so that the signing key is never answered through this one.
"""

from django.conf import settings

from tbproject.text import check_text
from tenants.choices import NULL_UUID
from tenants.models import AdminSettings
from tenants.system import store
from tenants.system.store import SettingsError

__all__ = ["defaults", "get", "save", "answer", "base_url", "mail_document", "RESERVED", "SECRET_FIELDS",
           "MAIL_DEFAULTS"]

RESERVED = {"jwt": "/api/admin/jwtSettings", "securitySettings": "/api/admin/securitySettings",
            "twoFaSettings": "/api/2fa/settings"}
#: fields of a document that are never answered
SECRET_FIELDS = {"mail": ("password", "refreshToken", "clientSecret"),  # clientSecret: mail OAuth2 (oauth/)
                 # the client's SmsProviderConfiguration models: Twilio, SMPP, AWS SNS
                 "sms": ("accountToken", "password", "secretAccessKey")}
#: fields naming where a document's secrets go: a stored secret is reused only while they are unchanged
_SECRET_OWNER = {"mail": ("smtpHost", "smtpPort", "username"),
                 "sms": ("type", "accountSid", "host", "port", "systemId", "accessKeyId", "region")}
#: more owners of single secrets: the mail OAuth2 client's secret and refresh token go to its token endpoint
_FIELD_OWNER = {("mail", "clientSecret"): ("tokenUri", "clientId"), ("mail", "refreshToken"): ("tokenUri", "clientId")}
NOT_FOUND = "Requested item wasn't found!"
MAIL_DEFAULTS = {"mailFrom": "", "smtpProtocol": "smtp", "smtpHost": "localhost", "smtpPort": "25",
                 "timeout": "10000", "enableTls": False, "tlsVersion": "TLSv1.2", "username": "", "password": "",
                 "enableProxy": False, "showChangePassword": False}
_CONNECTIVITY = {name: {"enabled": name in ("http", "mqtt", "coap"), "host": "", "port": port}
                 for name, port in (("http", 8080), ("https", 443), ("mqtt", 1883), ("mqtts", 8883),
                                    ("coap", 5683), ("coaps", 5684))}
_TLS_VERSIONS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")


def defaults(key: str) -> dict | None:
    """What a fresh install answers for ``key`` (from the environment's settings where it has them)."""
    if key == "general":
        base = settings.PUBLIC_BASE_URL.rstrip("/")
        return {"baseUrl": base or "http://localhost:8080", "prohibitDifferentUrl": bool(base)}
    if key == "mail":
        return {**MAIL_DEFAULTS, "mailFrom": settings.DEFAULT_FROM_EMAIL,
                "smtpProtocol": "smtps" if settings.EMAIL_USE_SSL else "smtp",
                "smtpHost": settings.EMAIL_HOST or "localhost", "smtpPort": str(settings.EMAIL_PORT),
                "timeout": str(settings.EMAIL_TIMEOUT * 1000), "enableTls": settings.EMAIL_USE_TLS,
                "username": settings.EMAIL_HOST_USER, "password": settings.EMAIL_HOST_PASSWORD}
    if key == "connectivity":
        return {name: dict(value) for name, value in _CONNECTIVITY.items()}
    return None


def _key(key) -> str:
    if not isinstance(key, str) or not key.strip():
        raise SettingsError("Administration settings key should be specified!")
    if len(key) > 255:
        raise SettingsError("key is longer than 255 characters")
    try:
        check_text(key)
    except ValueError as e:
        raise SettingsError(f"key: {e}") from None
    if key in RESERVED:
        raise SettingsError(f"The '{key}' settings are read and saved through {RESERVED[key]}")
    return key


def _document(key: str) -> tuple[dict | None, AdminSettings | None]:
    row = AdminSettings.objects.filter(key=key).first()
    if row is not None and isinstance(row.json_value, dict):
        return row.json_value, row
    return defaults(key), None


def get(key) -> dict:
    """The answer to ``GET /api/admin/settings/{key}`` (LookupError, a 404, for a key never saved and without
    a default)."""
    key = _key(key)
    value, row = _document(key)
    if value is None:
        raise LookupError(NOT_FOUND)
    return answer(key, value, row)


def answer(key: str, value: dict, row: AdminSettings | None) -> dict:
    """ThingsBoard's AdminSettings JSON, with the document's secrets left out."""
    shown = {k: v for k, v in value.items() if k not in SECRET_FIELDS.get(key, ())}
    body = {"key": key, "jsonValue": shown, "tenantId": {"entityType": "TENANT", "id": str(NULL_UUID)}}
    if row is not None:
        body.update(id={"entityType": "ADMIN_SETTINGS", "id": str(row.pk)}, createdTime=row.created_time)
    return body


def save(data) -> dict:
    """``POST /api/admin/settings``: the document stored under its key; the answer as :func:`get`'s."""
    if not isinstance(data, dict):
        raise SettingsError("Request body must be a JSON object")
    key = _key(data.get("key"))
    value = store.checked_document(data.get("jsonValue"))
    if key == "mail":
        value = mail_document(value, keep_from=_document("mail")[0] or {})
    elif key == "sms":
        value = _kept_secrets("sms", dict(value), _document("sms")[0] or {})
    elif key == "general":
        value = _general(value)
    row = store.write(key, value)
    return answer(key, value, row)


def mail_document(value: dict, *, keep_from: dict) -> dict:
    """A mail document checked, its secrets taken from ``keep_from`` where ``value`` leaves them out."""
    value = _kept_secrets("mail", dict(value), keep_from)
    if value.get("mailFrom") is not None:
        value["mailFrom"] = store.mail_address(value["mailFrom"], "mailFrom", named=True)
    for field in ("mailFrom", "smtpHost", "username", "password", "tlsVersion"):
        if value.get(field) is not None and not isinstance(value[field], str):
            raise SettingsError(f"{field} must be a string")
        if isinstance(value.get(field), str) and len(value[field]) > 1024:
            raise SettingsError(f"{field} is longer than 1024 characters")
    if value.get("smtpProtocol", "smtp") not in ("smtp", "smtps"):
        raise SettingsError("smtpProtocol must be 'smtp' or 'smtps'")
    if value.get("tlsVersion") and value["tlsVersion"] not in _TLS_VERSIONS:
        raise SettingsError(f"tlsVersion must be one of {', '.join(_TLS_VERSIONS)}")
    for field in ("enableTls", "enableProxy"):
        flag = value.get(field)
        if flag is not None and not isinstance(flag, bool) and flag not in ("true", "false"):
            raise SettingsError(f"{field} must be true or false")
    store.integer(value, "smtpPort", default=25, minimum=1, maximum=65535, numeric_text=True)
    store.integer(value, "timeout", default=10000, minimum=0, maximum=3_600_000, numeric_text=True)
    return value


def _kept_secrets(key: str, value: dict, keep_from: dict) -> dict:
    """``value`` with the stored secrets it leaves out (or sends null), as ThingsBoard keeps them, but only while
    the server and login they belong to are unchanged: a secret is never sent to a new host or user."""
    def same(fields) -> bool:
        return all(str(value.get(f) or "") == str(keep_from.get(f) or "") for f in fields)

    for field in SECRET_FIELDS[key]:
        owners = _SECRET_OWNER[key] + _FIELD_OWNER.get((key, field), ())
        if value.get(field) is None and keep_from.get(field) is not None and same(owners):
            value[field] = keep_from[field]
    return value


def _general(value: dict) -> dict:
    base = value.get("baseUrl")
    if base is not None and (not isinstance(base, str) or len(base) > 2048
                             or (base and not base.startswith(("http://", "https://")))):
        raise SettingsError("baseUrl must be an http:// or https:// URL")
    if value.get("prohibitDifferentUrl") is not None and not isinstance(value["prohibitDifferentUrl"], bool):
        raise SettingsError("prohibitDifferentUrl must be true or false")
    return value


def base_url() -> str:
    """Where users' links must start: the stored ``general.baseUrl`` when ``prohibitDifferentUrl`` is on,
    else ``PUBLIC_BASE_URL`` ("" for neither: the request's own address then)."""
    general = store.read("general")
    if general is not None:
        base = general.get("baseUrl")
        if general.get("prohibitDifferentUrl") is True and isinstance(base, str) and base:
            return base.rstrip("/")
    return settings.PUBLIC_BASE_URL.rstrip("/")
