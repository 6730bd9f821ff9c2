"""A tenant's self-registration parameters in ThingsBoard PE's JSON (WebSelfRegistrationParams), read and saved:

    GET    /api/selfRegistration/selfRegistrationParams    the tenant's, or null
    POST   /api/selfRegistration/selfRegistrationParams    save (create or replace); answers what was saved
    DELETE /api/selfRegistration/selfRegistrationParams

Both shapes are read: ThingsBoard 4's (``domainId``, ``captcha: {version, siteKey, secretKey}``, ``signUpFields``,
``defaultDashboard: {id, fullscreen}``...) and the 3.x names (``domainName``, ``captchaSiteKey``,
``captchaSecretKey``, ``notificationEmail``, ``signUpTextMessage``, ``defaultDashboardId``...); the answer carries
both. The captcha secret key is write-only: a save without it keeps the stored one. There are no Domain
entities here: the domain is ``domainName``, or the ``name`` of a Domain row of an installed app by ``domainId``.
"""

import re
import uuid

from django.apps import apps
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from dashboards.models import Dashboard
from devices.models import EntityGroup
from roles.choices import RoleType
from roles.models import Role
from signup.choices import DEFAULT_FIELDS, CaptchaVersion, SignUpFieldId
from signup.models import SelfRegistration
from tbproject.api import role_hook
from tbproject.api.ids import entity_id
from tenants.accounts import AccountError, parse_id, text_field

__all__ = ["answer", "save", "delete", "of_tenant", "check_domain", "check_fields", "check_permissions", "NULL_ID",
           "MAX_TEXT", "GRANT_RIGHTS", "grants_roles", "may_grant"]

#: ThingsBoard's id of "nothing" (a permission template's user group, made at sign-up)
NULL_ID = "13814000-1dd2-11b2-8080-808080808080"
MAX_TEXT = 100_000
_HOST = re.compile(r"^(?=.{1,253}$)[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$")
NOT_FOUND = "Requested item wasn't found!"
#: what saving sign-up permissions needs besides WHITE_LABELING: they become group permissions of roles
GRANT_RIGHTS = (("GROUP_PERMISSION", "WRITE"), ("ROLE", "READ"))


def of_tenant(tenant_id) -> SelfRegistration | None:
    return SelfRegistration.objects.filter(tenant_id=tenant_id).first()


def _id(entity_type: str, value) -> dict | None:
    return entity_id(entity_type, value) if value else None


def _permission(tenant_id, grant: dict) -> dict:
    return {"id": None, "createdTime": None, "tenantId": entity_id("TENANT", tenant_id),
            "userGroupId": entity_id("ENTITY_GROUP", NULL_ID), "roleId": entity_id("ROLE", grant["roleId"]),
            "entityGroupId": _id("ENTITY_GROUP", grant.get("entityGroupId")),
            "entityGroupType": grant.get("entityGroupType"), "isPublic": False, "public": False}


def answer(row: SelfRegistration) -> dict:
    """ThingsBoard's WebSelfRegistrationParams of ``row`` (with the 3.x names beside), never the secret key."""
    default = str(row.default_dashboard_id) if row.default_dashboard_id else None
    home = str(row.home_dashboard_id) if row.home_dashboard_id else None
    return {
        "type": "WEB", "enabled": row.enabled, "title": row.title,
        "captcha": {"version": row.captcha_version, "siteKey": row.captcha_site_key,
                    "logActionName": row.captcha_action or None},
        "permissions": [_permission(row.tenant_id, g) for g in row.permissions],
        "notificationRecipient": _id("NOTIFICATION_TARGET", row.notification_recipient_id),
        "signUpFields": row.sign_up_fields or DEFAULT_FIELDS, "customerTitlePrefix": row.customer_title_prefix,
        "showPrivacyPolicy": row.show_privacy_policy, "showTermsOfUse": row.show_terms_of_use,
        "defaultDashboard": {"id": default, "fullscreen": row.default_dashboard_fullscreen} if default else None,
        "homeDashboard": {"id": home, "hideToolbar": row.home_dashboard_hide_toolbar} if home else None,
        "customerGroupId": _id("ENTITY_GROUP", row.customer_group_id),
        "customMenuId": _id("CUSTOM_MENU", row.custom_menu_id),
        "domainId": entity_id("DOMAIN", row.domain_id or uuid.uuid5(uuid.NAMESPACE_DNS, row.domain_name)),
        "privacyPolicy": row.privacy_policy, "termsOfUse": row.terms_of_use,
        # ThingsBoard 3.x's names of the same values
        "domainName": row.domain_name, "captchaSiteKey": row.captcha_site_key, "captchaVersion": row.captcha_version,
        "captchaAction": row.captcha_action, "notificationEmail": row.notification_email,
        "signUpTextMessage": row.title, "defaultDashboardId": default,
        "defaultDashboardFullscreen": row.default_dashboard_fullscreen, "homeDashboardId": home,
        "homeDashboardHideToolbar": row.home_dashboard_hide_toolbar,
    }


def _bool(data: dict, key: str, default: bool) -> bool:
    value = data.get(key)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise AccountError(f"{key} must be true or false")
    return value


def _domain(tenant_id, data: dict, stored: SelfRegistration | None) -> tuple[str, uuid.UUID | None]:
    domain_id = parse_id(data.get("domainId"), "domainId")
    name = data.get("domainName")
    if name is None and domain_id is not None:
        name = _domain_entity_name(domain_id, tenant_id)
        if name is None and stored is not None and stored.domain_id == domain_id:
            name = stored.domain_name
        if name is None:
            raise AccountError(NOT_FOUND, 404)
    return check_domain(name), domain_id


def check_domain(name) -> str:
    """``name`` as a host name (lower case, no trailing dot), or a 400."""
    if not isinstance(name, str) or not name.strip():
        raise AccountError("Domain name should be specified!")
    name = name.strip().lower().rstrip(".")
    if not _HOST.match(name):
        raise AccountError(f"Invalid domain name {name[:255]!r}: a host name without scheme, port or path")
    return name


def _domain_entity_name(domain_id, tenant_id) -> str | None:
    """The name of a Domain row (ThingsBoard 4's domains) of an installed app, looked up by model name only
    (no import of that app); a domain of another tenant is not found."""
    for config in apps.get_app_configs():
        try:
            model = config.get_model("Domain")
        except LookupError:
            continue
        row = model.objects.filter(pk=domain_id).first()
        if getattr(row, "tenant_id", None) not in (None, tenant_id):
            continue
        name = getattr(row, "name", None)
        if isinstance(name, str):
            return name
    return None


def _captcha(data: dict, stored: SelfRegistration | None) -> dict:
    captcha = data.get("captcha")
    if captcha is None:
        captcha = {"version": data.get("captchaVersion") or CaptchaVersion.V2, "siteKey": data.get("captchaSiteKey"),
                   "secretKey": data.get("captchaSecretKey"), "logActionName": data.get("captchaAction")}
    if not isinstance(captcha, dict):
        raise AccountError("captcha must be a JSON object")
    version = captcha.get("version") or CaptchaVersion.V2
    if version not in CaptchaVersion.values:
        raise AccountError(f"Captcha version {str(version)[:32]!r} is not supported: use v2 or v3")
    site = text_field(captcha, "siteKey", 255).strip()
    secret = text_field(captcha, "secretKey", 255).strip() or (stored.captcha_secret_key if stored else "")
    if not site or not secret:
        raise AccountError("Captcha site key and secret key should be specified!")
    return {"captcha_version": version, "captcha_site_key": site, "captcha_secret_key": secret,
            "captcha_action": text_field(captcha, "logActionName", 255).strip()}


def check_fields(fields) -> list:
    """The sign-up fields ThingsBoard's way ([] for the default form), or a 400."""
    if fields in (None, []):
        return []
    if not isinstance(fields, list) or len(fields) > len(SignUpFieldId.values):
        raise AccountError("signUpFields must be a list of sign-up fields")
    out, seen = [], set()
    for field in fields:
        if not isinstance(field, dict) or field.get("id") not in SignUpFieldId.values:
            raise AccountError(f"Unknown sign-up field {str(field)[:64]!r}")
        if field["id"] in seen:
            raise AccountError(f"Sign-up field {field['id']} is listed twice")
        seen.add(field["id"])
        label = text_field(field, "label", 255) or field["id"].replace("_", " ").capitalize()
        required = field["id"] in ("EMAIL", "PASSWORD") or _bool(field, "required", False)
        out.append({"id": field["id"], "label": label, "required": required})
    if not {"EMAIL", "PASSWORD"} <= seen:
        raise AccountError("Sign-up fields must include EMAIL and PASSWORD")
    return out


def grants_roles(stored: SelfRegistration | None, permissions) -> bool:
    """Whether a save touches the roles granted at sign-up: it names some, or some are stored (kept or dropped)."""
    return bool(permissions) or bool(stored is not None and stored.permissions)


def may_grant(user) -> bool:
    """Whether ``user`` holds :data:`GRANT_RIGHTS` by its roles (the Django admin's check; the API's is
    ``role_hook.require``): white labeling alone must not hand signed-up users rights the user itself lacks."""
    return all(role_hook.permits(user, *right) for right in GRANT_RIGHTS)


def check_permissions(tenant_id, grants) -> list:
    """[{roleId, entityGroupId, entityGroupType}] of roles and groups of the tenant, or a 400/404."""
    grants = grants or []
    if not isinstance(grants, list) or len(grants) > 100:
        raise AccountError("permissions must be a list of group permissions")
    out = []
    for grant in grants:
        if not isinstance(grant, dict):
            raise AccountError("permissions must be a list of group permissions")
        role_id = parse_id(grant.get("roleId"), "roleId")
        if role_id is None:
            raise AccountError("Group permission role should be specified!")
        role = Role.objects.filter(tenant_id=tenant_id, pk=role_id).first()
        if role is None:
            raise AccountError(NOT_FOUND, 404)
        group_id = parse_id(grant.get("entityGroupId"), "entityGroupId")
        group_type = None
        if role.type == RoleType.GENERIC and group_id is not None:
            raise AccountError("A generic role is granted without an entity group")
        if role.type == RoleType.GROUP:
            group = EntityGroup.objects.filter(tenant_id=tenant_id, pk=group_id).first() if group_id else None
            if group is None:
                raise AccountError("A group role needs an entity group" if group_id is None else NOT_FOUND,
                                   400 if group_id is None else 404)
            group_type = group.type
        out.append({"roleId": str(role_id), "entityGroupId": str(group_id) if group_id else None,
                    "entityGroupType": group_type})
    return out


def _dashboard(tenant_id, data: dict, key: str, legacy: str, flag: str, legacy_flag: str) -> tuple:
    params = data.get(key)
    if params is not None and not isinstance(params, dict):
        raise AccountError(f"{key} must be a JSON object")
    raw = params.get("id") if params else data.get(legacy)
    dashboard_id = parse_id(raw, key)
    if dashboard_id is None:
        return None, False
    dashboard = Dashboard.objects.filter(tenant_id=tenant_id, pk=dashboard_id).first()
    if dashboard is None:
        raise AccountError(NOT_FOUND, 404)
    return dashboard, _bool(params, flag, False) if params else _bool(data, legacy_flag, False)


def _customer_group(tenant_id, data: dict):
    group_id = parse_id(data.get("customerGroupId"), "customerGroupId")
    if group_id is None:
        return None
    group = EntityGroup.objects.filter(tenant_id=tenant_id, pk=group_id).first()
    if group is None:
        raise AccountError(NOT_FOUND, 404)
    if group.type != "CUSTOMER":
        raise AccountError(f"Entity group [{group.name}] holds {group.type} entities, not CUSTOMER")
    return group_id


def _notification_email(data: dict) -> str:
    email = data.get("notificationEmail")
    if email in (None, ""):
        return ""
    if not isinstance(email, str):
        raise AccountError("notificationEmail must be a string")
    try:
        validate_email(email.strip())
    except ValidationError:
        raise AccountError(f"Invalid email address format '{email[:254]}'!") from None
    return email.strip().lower()


def _values(tenant_id, data: dict, stored: SelfRegistration | None) -> dict:
    kind = data.get("type", "WEB")
    if kind != "WEB":
        raise AccountError("Only WEB self-registration is supported by this server" if kind == "MOBILE"
                           else f"Unknown self-registration type {str(kind)[:32]!r}")
    domain_name, domain_id = _domain(tenant_id, data, stored)
    default, fullscreen = _dashboard(tenant_id, data, "defaultDashboard", "defaultDashboardId", "fullscreen",
                                     "defaultDashboardFullscreen")
    home, hide_toolbar = _dashboard(tenant_id, data, "homeDashboard", "homeDashboardId", "hideToolbar",
                                    "homeDashboardHideToolbar")
    title = text_field(data, "title", MAX_TEXT) if "title" in data else text_field(data, "signUpTextMessage", MAX_TEXT)
    return {
        "domain_name": domain_name, "domain_id": domain_id, "enabled": _bool(data, "enabled", True), "title": title,
        **_captcha(data, stored), "notification_email": _notification_email(data),
        "notification_recipient_id": parse_id(data.get("notificationRecipient"), "notificationRecipient"),
        "sign_up_fields": check_fields(data.get("signUpFields")),
        "customer_title_prefix": text_field(data, "customerTitlePrefix", 128),
        "customer_group_id": _customer_group(tenant_id, data),
        "custom_menu_id": parse_id(data.get("customMenuId"), "customMenuId"),
        "permissions": check_permissions(tenant_id, data.get("permissions")), "default_dashboard": default,
        "default_dashboard_fullscreen": fullscreen, "home_dashboard": home, "home_dashboard_hide_toolbar": hide_toolbar,
        "show_privacy_policy": _bool(data, "showPrivacyPolicy", False),
        "privacy_policy": text_field(data, "privacyPolicy", MAX_TEXT),
        "show_terms_of_use": _bool(data, "showTermsOfUse", False),
        "terms_of_use": text_field(data, "termsOfUse", MAX_TEXT),
    }


def save(tenant_id, data) -> SelfRegistration:
    """Create or replace the tenant's parameters from ``data``; AccountError (400/404) for what is refused."""
    if not isinstance(data, dict):
        raise AccountError("Request body must be a JSON object")
    stored = of_tenant(tenant_id)
    values = _values(tenant_id, data, stored)
    taken = SelfRegistration.objects.filter(domain_name=values["domain_name"]).exclude(tenant_id=tenant_id)
    if taken.exists():
        raise AccountError(f"Domain '{values['domain_name']}' is used by another self-registration")
    try:
        with transaction.atomic():
            if stored is None:
                return SelfRegistration.objects.create(tenant_id=tenant_id, **values)
            for field, value in values.items():
                setattr(stored, field, value)
            stored.save()
            return stored
    except IntegrityError:  # the same domain saved by another tenant meanwhile
        raise AccountError(f"Domain '{values['domain_name']}' is used by another self-registration") from None


def delete(tenant_id) -> None:
    SelfRegistration.objects.filter(tenant_id=tenant_id).delete()
