"""What a posted OAuth2 client, template, domain, mobile app or bundle may hold: ThingsBoard's required fields and
enums, checked before anything is stored; every refusal is a ValidationError with the field's JSON name (400).

Secrets are write-only: the API answers :data:`MASK` for them, and a save that posts the mask (or leaves the
field out) keeps the stored value."""

from urllib.parse import urlsplit

from rest_framework.exceptions import ValidationError

from oauth.choices import APP_STATUSES, AUTH_METHODS, BADGE_POSITIONS, MAPPER_TYPES, PLATFORMS, TENANT_NAME_STRATEGIES
from tbproject.text import check_text

__all__ = ["MASK", "body", "text", "url", "flag", "secret", "choice", "json_object", "string_list", "mapper_config",
           "qr_code_config", "platforms", "auth_method", "app_status"]

MASK = "******"


def body(data) -> dict:
    if not isinstance(data, dict):
        raise ValidationError("Request body must be a JSON object")
    return data


def text(data: dict, key: str, *, required: bool = False, limit: int = 255) -> str:
    value = data.get(key)
    if value is None or value == "":
        if required:
            raise ValidationError(f"{key} is required and cannot be empty")
        return ""
    if not isinstance(value, str):
        raise ValidationError(f"{key} must be a string")
    if len(value) > limit:
        raise ValidationError(f"{key} must be at most {limit} characters")
    try:
        return check_text(value)
    except ValueError as e:
        raise ValidationError(f"{key}: {e}") from None


def url(data: dict, key: str, *, required: bool = False) -> str:
    value = text(data, key, required=required, limit=1024)
    if value and (urlsplit(value).scheme not in ("http", "https") or not urlsplit(value).netloc):
        raise ValidationError(f"{key} must be an http:// or https:// URL")
    return value


def flag(data: dict, key: str, default: bool) -> bool:
    value = data.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise ValidationError(f"{key} must be true or false")
    return value


def secret(data: dict, key: str, stored: str | None, *, required: bool = True, minimum: int = 1,
           limit: int = 2048) -> str:
    """The posted secret, or the stored one where the mask or nothing was posted. A caller passes ``stored``
    None where the secret's endpoint changed: the secret must then be posted again."""
    value = data.get(key)
    if (value is None or value == "" or value == MASK) and stored:
        return stored
    if value == MASK:
        raise ValidationError(f"{key} is required: '{MASK}' only keeps a stored value (post the secret itself)")
    value = text(data, key, required=required, limit=limit)
    if value and len(value) < minimum:
        raise ValidationError(f"{key} must be at least {minimum} characters")
    return value


def choice(data: dict, key: str, allowed: tuple, *, default: str | None = None) -> str:
    value = data.get(key, default)
    if value not in allowed:
        raise ValidationError(f"{key} must be one of: {', '.join(allowed)}")
    return value


def json_object(data: dict, key: str):
    value = data.get(key)
    if value is not None and not isinstance(value, dict):
        raise ValidationError(f"{key} must be a JSON object")
    return value


def string_list(data: dict, key: str, *, required: bool = False, allowed: tuple | None = None) -> list[str]:
    value = data.get(key)
    if value is None:
        value = []
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ValidationError(f"{key} must be a list of strings")
    if required and not value:
        raise ValidationError(f"{key} is required and cannot be empty")
    if allowed is not None and any(v not in allowed for v in value):
        raise ValidationError(f"{key} may hold only: {', '.join(allowed)}")
    return list(dict.fromkeys(value))


def _basic(value, mapper_type: str) -> dict:
    if not isinstance(value, dict):
        raise ValidationError(f"mapperConfig.basic is required for the {mapper_type} mapper")
    out = {"tenantNameStrategy": choice(value, "tenantNameStrategy", TENANT_NAME_STRATEGIES)}
    for key in ("emailAttributeKey", "firstNameAttributeKey", "lastNameAttributeKey", "tenantNamePattern",
                "customerNamePattern", "defaultDashboardName", "parentCustomerNamePattern"):
        out[key] = text(value, key) or None
    if mapper_type == "BASIC" and not out["emailAttributeKey"]:
        raise ValidationError("mapperConfig.basic.emailAttributeKey is required for the BASIC mapper")
    if out["tenantNameStrategy"] == "CUSTOM" and not out["tenantNamePattern"]:
        raise ValidationError("mapperConfig.basic.tenantNamePattern is required for the CUSTOM tenant name strategy")
    out["alwaysFullScreen"] = flag(value, "alwaysFullScreen", False)
    out["userGroupsNamePattern"] = string_list(value, "userGroupsNamePattern") or None
    return out


def _custom(value, stored: dict | None) -> dict:
    if not isinstance(value, dict):
        raise ValidationError("mapperConfig.custom is required for the CUSTOM mapper")
    target = url(value, "url", required=True)
    kept = (stored or {}).get("password") if (stored or {}).get("url") == target else None  # not to a new URL
    return {"url": target, "username": text(value, "username") or None,
            "password": secret(value, "password", kept, required=False) or None,
            "sendToken": flag(value, "sendToken", False)}


def mapper_config(value, stored: dict | None = None) -> dict:
    """ThingsBoard's OAuth2MapperConfig: ``type`` decides which of ``basic``/``custom`` is required."""
    if not isinstance(value, dict):
        raise ValidationError("mapperConfig is required and must be a JSON object")
    mapper_type = choice(value, "type", MAPPER_TYPES)
    out = {"allowUserCreation": flag(value, "allowUserCreation", True), "activateUser": flag(value, "activateUser",
                                                                                              False),
           "type": mapper_type, "basic": None, "custom": None}
    if mapper_type == "CUSTOM":
        out["custom"] = _custom(value.get("custom"), (stored or {}).get("custom"))
    else:
        out["basic"] = _basic(value.get("basic"), mapper_type)
    return out


def qr_code_config(value) -> dict:
    if not isinstance(value, dict):
        raise ValidationError("qrCodeConfig is required and must be a JSON object")
    out = {key: flag(value, key, default) for key, default in
           (("showOnHomePage", True), ("badgeEnabled", True), ("qrCodeLabelEnabled", True))}
    out["badgePosition"] = choice(value, "badgePosition", BADGE_POSITIONS, default="RIGHT")
    out["qrCodeLabel"] = text(value, "qrCodeLabel") or "Scan to connect or download mobile app"
    return out


def platforms(data: dict) -> list[str]:
    return string_list(data, "platforms", allowed=PLATFORMS)


def auth_method(data: dict) -> str:
    return choice(data, "clientAuthenticationMethod", AUTH_METHODS)


def app_status(data: dict) -> str:
    return choice(data, "status", APP_STATUSES)
