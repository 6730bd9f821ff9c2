"""The JSON ThingsBoard answers for the OAuth 2.0 entities (tb_pe_client's OAuth2Client, OAuth2ClientInfo,
OAuth2ClientRegistrationTemplate, Domain, DomainInfo, MobileApp, MobileAppBundle(Info), QrCodeSettings).
Secrets answer :data:`oauth.validation.MASK`, never their value."""

from oauth import selfreg
from oauth.models import Domain, MobileApp, MobileAppBundle, OAuth2Client, OAuth2ClientTemplate, QrCodeSettings
from oauth.validation import MASK
from tbproject.api.ids import entity_id
from tenants.choices import NULL_UUID

__all__ = ["client_json", "client_info_json", "template_json", "domain_json", "domain_info_json", "app_json",
           "bundle_json", "bundle_info_json", "qr_json", "masked_mapper"]

_SYSTEM = {"tenantId": entity_id("TENANT", NULL_UUID)}


def masked_mapper(config: dict | None) -> dict | None:
    if not isinstance(config, dict):
        return config
    custom = config.get("custom")
    if isinstance(custom, dict) and custom.get("password"):
        return {**config, "custom": {**custom, "password": MASK}}
    return config


def client_json(c: OAuth2Client) -> dict:
    return {
        "id": entity_id("OAUTH2_CLIENT", c.pk), "createdTime": c.created_time, "additionalInfo": c.additional_info,
        **_SYSTEM, "customerId": None, "ownerId": entity_id("TENANT", NULL_UUID), "title": c.title,
        "mapperConfig": masked_mapper(c.mapper_config), "clientId": c.client_id, "clientSecret": MASK,
        "authorizationUri": c.authorization_uri, "accessTokenUri": c.access_token_uri, "scope": c.scope,
        "userInfoUri": c.user_info_uri or None, "userNameAttributeName": c.user_name_attribute_name,
        "jwkSetUri": c.jwk_set_uri or None, "clientAuthenticationMethod": c.client_authentication_method,
        "loginButtonLabel": c.login_button_label, "loginButtonIcon": c.login_button_icon or None,
        "platforms": c.platforms, "name": c.title,
    }


def client_info_json(c: OAuth2Client) -> dict:
    info = c.additional_info if isinstance(c.additional_info, dict) else {}
    return {"id": entity_id("OAUTH2_CLIENT", c.pk), "createdTime": c.created_time, "title": c.title,
            "providerName": info.get("providerName"), "platforms": c.platforms, "name": c.title}


def template_json(t: OAuth2ClientTemplate) -> dict:
    return {
        "id": entity_id("OAUTH2_CLIENT_REGISTRATION_TEMPLATE", t.pk), "createdTime": t.created_time,
        "additionalInfo": t.additional_info, "providerId": t.provider_id,
        "mapperConfig": masked_mapper(t.mapper_config),
        "authorizationUri": t.authorization_uri or None, "accessTokenUri": t.access_token_uri or None,
        "scope": t.scope, "userInfoUri": t.user_info_uri or None,
        "userNameAttributeName": t.user_name_attribute_name or None, "jwkSetUri": t.jwk_set_uri or None,
        "clientAuthenticationMethod": t.client_authentication_method or None, "comment": t.comment or None,
        "loginButtonIcon": t.login_button_icon or None, "loginButtonLabel": t.login_button_label or None,
        "helpLink": t.help_link or None, "name": t.provider_id,
    }


def domain_json(d: Domain) -> dict:
    return {"id": entity_id("DOMAIN", d.pk), "createdTime": d.created_time, **_SYSTEM, "customerId": None,
            "ownerId": entity_id("TENANT", NULL_UUID), "name": d.name, "oauth2Enabled": d.oauth2_enabled,
            "propagateToEdge": d.propagate_to_edge}


def domain_info_json(d: Domain) -> dict:
    clients = sorted(d.oauth2_clients.all(), key=lambda c: c.title)
    return {**domain_json(d), "oauth2ClientInfos": [client_info_json(c) for c in clients]}


def app_json(a: MobileApp) -> dict:
    return {"id": entity_id("MOBILE_APP", a.pk), "createdTime": a.created_time, **_SYSTEM, "pkgName": a.pkg_name,
            "title": a.title or None, "appSecret": MASK, "platformType": a.platform_type, "status": a.status,
            "versionInfo": a.version_info, "storeInfo": a.store_info, "name": a.pkg_name}


def _app_id(app_id):
    return entity_id("MOBILE_APP", app_id) if app_id else None


def bundle_json(b: MobileAppBundle) -> dict:
    return {"id": entity_id("MOBILE_APP_BUNDLE", b.pk), "createdTime": b.created_time, **_SYSTEM, "title": b.title,
            "description": b.description or None, "androidAppId": _app_id(b.android_app_id),
            "iosAppId": _app_id(b.ios_app_id), "layoutConfig": b.layout_config,
            "selfRegistrationParams": selfreg.masked(b.self_registration_params), "oauth2Enabled": b.oauth2_enabled,
            "name": b.title}


def bundle_info_json(b: MobileAppBundle) -> dict:
    clients = sorted(b.oauth2_clients.all(), key=lambda c: c.title)
    return {**bundle_json(b), "androidPkgName": b.android_app.pkg_name if b.android_app_id else None,
            "iosPkgName": b.ios_app.pkg_name if b.ios_app_id else None,
            "oauth2ClientInfos": [client_info_json(c) for c in clients],
            "qrCodeEnabled": QrCodeSettings.objects.filter(mobile_app_bundle=b, use_default_app=False).exists()}


def qr_json(q: QrCodeSettings, *, google_play_link: str | None, app_store_link: str | None) -> dict:
    return {"id": entity_id("QR_CODE_SETTINGS", q.pk) if q.pk else None, "createdTime": q.created_time,
            "tenantId": entity_id("TENANT", q.tenant_id or NULL_UUID), "useSystemSettings": q.use_system_settings,
            "useDefaultApp": q.use_default_app,
            "mobileAppBundleId": entity_id("MOBILE_APP_BUNDLE", q.mobile_app_bundle_id) if q.mobile_app_bundle_id
            else None, "qrCodeConfig": q.qr_code_config, "androidEnabled": q.android_enabled,
            "iosEnabled": q.ios_enabled, "googlePlayLink": google_play_link, "appStoreLink": app_store_link}
