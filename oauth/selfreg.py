"""A mobile app bundle's ``selfRegistrationParams`` (ThingsBoard's MobileSelfRegistrationParams): the shape
checked on save, its captcha secrets write-only (answered :data:`MASK`, the mask posted back keeps them), and
what an anonymous mobile app is shown of it (SignUpSelfRegistrationParams: title, the captcha's version,
site key and action name, the sign-up fields and the two flags; nothing else)."""

from rest_framework.exceptions import ValidationError

from oauth import validation as v
from oauth.validation import MASK

__all__ = ["checked", "masked", "public"]

CAPTCHA_VERSIONS = ("v2", "v3", "enterprise")
#: the captcha's write-only fields (v2/v3: secretKey; enterprise: the service account's credentials)
CAPTCHA_SECRETS = ("secretKey", "serviceAccountCredentials")
_CAPTCHA_TEXTS = ("siteKey", "logActionName", "projectId", "serviceAccountCredentialsFileName", "androidKey",
                  "iosKey")
_TEXTS = ("title", "customerTitlePrefix")
_LONG_TEXTS = ("privacyPolicy", "termsOfUse")
_FLAGS = ("enabled", "showPrivacyPolicy", "showTermsOfUse")
_KEY = "selfRegistrationParams"


def _captcha(value, stored) -> dict:
    if not isinstance(value, dict):
        raise ValidationError(f"{_KEY}.captcha must be a JSON object")
    out = dict(value)
    out["version"] = v.choice(value, "version", CAPTCHA_VERSIONS)
    for key in _CAPTCHA_TEXTS:
        if value.get(key) is not None:
            out[key] = v.text(value, key, limit=1024)
    stored = stored if isinstance(stored, dict) else {}
    for key in CAPTCHA_SECRETS:
        if key in value or stored.get(key):
            out[key] = v.secret(value, key, stored.get(key), required=False, limit=65536) or None
    return out


def _fields(value) -> list:
    if not isinstance(value, list) or not all(isinstance(f, dict) for f in value):
        raise ValidationError(f"{_KEY}.signUpFields must be a list of JSON objects")
    for field in value:
        if not isinstance(field.get("id"), str) or not field["id"]:
            raise ValidationError(f"{_KEY}.signUpFields: every field needs an id")
        v.text(field, "label", required=True)
        v.flag(field, "required", False)
    return value


def checked(value, stored) -> dict | None:
    """The posted params (None: none), checked; the stored captcha secrets kept where the mask is posted."""
    if value is None:
        return None
    if not isinstance(value, dict):
        raise ValidationError(f"{_KEY} must be a JSON object")
    out = dict(value)
    if value.get("type") is not None and value["type"] != "MOBILE":
        raise ValidationError(f"{_KEY}.type must be MOBILE")
    for key in _TEXTS:
        if value.get(key) is not None:
            out[key] = v.text(value, key)
    for key in _LONG_TEXTS:
        if value.get(key) is not None:
            out[key] = v.text(value, key, limit=100_000)
    for key in _FLAGS:
        if key in value:
            out[key] = v.flag(value, key, False)
    if value.get("captcha") is not None:
        out["captcha"] = _captcha(value["captcha"], (stored or {}).get("captcha") if isinstance(stored, dict) else None)
    if value.get("signUpFields") is not None:
        out["signUpFields"] = _fields(value["signUpFields"])
    for key in ("redirect", "defaultDashboard", "homeDashboard"):
        v.json_object(value, key)
    return out


def masked(params):
    """The stored params as the bundle's API answers them: the captcha's secrets masked."""
    captcha = params.get("captcha") if isinstance(params, dict) else None
    if not isinstance(captcha, dict):
        return params
    return {**params, "captcha": {k: (MASK if k in CAPTCHA_SECRETS and val else val) for k, val in captcha.items()}}


def public(params, platform: str) -> dict | None:
    """What GET /api/noauth/mobile shows anyone (SignUpSelfRegistrationParams); None while sign-up is off."""
    if not isinstance(params, dict) or params.get("enabled") is False:
        return None
    captcha = params.get("captcha") if isinstance(params.get("captcha"), dict) else None
    if captcha is not None:
        site_key = captcha.get("siteKey")
        if captcha.get("version") == "enterprise":  # the key of the app's own platform
            site_key = captcha.get("androidKey" if platform == "ANDROID" else "iosKey")
        captcha = {"version": captcha.get("version"), "siteKey": site_key,
                   "logActionName": captcha.get("logActionName")}
    fields = params.get("signUpFields")
    return {"title": params.get("title"), "captcha": captcha,
            "fields": [{"id": f.get("id"), "label": f.get("label"), "required": f.get("required")}
                       for f in fields if isinstance(f, dict)] if isinstance(fields, list) else None,
            "showPrivacyPolicy": params.get("showPrivacyPolicy"), "showTermsOfUse": params.get("showTermsOfUse")}
