"""Mobile apps, app bundles and the QR code settings (ThingsBoard's MobileAppController,
MobileAppBundleController, QrCodeSettingsController): saving them, what a mobile app's login screen
is offered, and the short-lived secret of the QR code deep link that logs the app in as the user who
scanned it."""

import secrets

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.http import Http404
from rest_framework.exceptions import ValidationError

from oauth import selfreg, services
from oauth import validation as v
from oauth.choices import MOBILE_PLATFORMS
from oauth.models import MobileApp, MobileAppBundle, QrCodeSettings
from tbproject.api.ids import parse_uuid

__all__ = ["save_app", "save_bundle", "set_bundle_clients", "qr_settings", "save_qr_settings", "merged_qr",
           "store_links", "new_secret", "take_secret", "SECRET_TTL_S"]

#: how long a QR code's deep-link secret logs the app in (ThingsBoard's mobileSecretKeyTtl default)
SECRET_TTL_S = 60
_SECRET_KEY = "oauth:qr-secret:"


def save_app(data) -> MobileApp:
    data = v.body(data)
    app = services._existing(MobileApp, data)
    app.pkg_name = v.text(data, "pkgName", required=True)
    app.title = v.text(data, "title")
    app.app_secret = v.secret(data, "appSecret", app.app_secret, minimum=16)
    app.platform_type = v.choice(data, "platformType", MOBILE_PLATFORMS)
    app.status = v.app_status(data)
    app.version_info = v.json_object(data, "versionInfo")
    app.store_info = v.json_object(data, "storeInfo")
    try:
        with transaction.atomic():
            app.save()
    except IntegrityError:
        raise ValidationError("Mobile app with such package name and platform type already exists!") from None
    return app


def _app(data: dict, key: str, platform: str) -> MobileApp | None:
    raw = data.get(key)
    raw = raw.get("id") if isinstance(raw, dict) else raw
    if not raw:
        return None
    app = MobileApp.objects.filter(pk=parse_uuid(raw)).first()
    if app is None:
        raise Http404(f"Mobile app {raw} is not found")
    if app.platform_type != platform:
        raise ValidationError(f"{key} must name an {platform} app")
    return app


def save_bundle(data, client_ids: list | None) -> MobileAppBundle:
    data = v.body(data)
    bundle = services._existing(MobileAppBundle, data)
    bundle.title = v.text(data, "title", required=True)
    bundle.description = v.text(data, "description", limit=10000)
    bundle.android_app = _app(data, "androidAppId", "ANDROID")
    bundle.ios_app = _app(data, "iosAppId", "IOS")
    bundle.layout_config = v.json_object(data, "layoutConfig")
    bundle.self_registration_params = selfreg.checked(data.get("selfRegistrationParams"),
                                                      bundle.self_registration_params)
    bundle.oauth2_enabled = v.flag(data, "oauth2Enabled", True)
    clients = services.clients_by_ids(client_ids) if client_ids is not None else None
    with transaction.atomic():
        bundle.save()
        if clients is not None:
            bundle.oauth2_clients.set(clients)
    return bundle


def set_bundle_clients(bundle: MobileAppBundle, client_ids) -> None:
    if not isinstance(client_ids, list):
        raise ValidationError("Request body must be a JSON array of OAuth2 client ids")
    bundle.oauth2_clients.set(services.clients_by_ids(client_ids))


def _default_qr(tenant_id) -> QrCodeSettings:
    return QrCodeSettings(tenant_id=tenant_id, use_system_settings=tenant_id is not None, use_default_app=True,
                          qr_code_config=v.qr_code_config({}), created_time=0)


def _stored_qr(tenant_id) -> QrCodeSettings | None:
    return QrCodeSettings.objects.filter(tenant_id=tenant_id).first()


def qr_settings(tenant_id) -> QrCodeSettings:
    """The stored settings of the system (``tenant_id`` None) or of a tenant; defaults when none are stored."""
    return _stored_qr(tenant_id) or _default_qr(tenant_id)


def save_qr_settings(tenant_id, data) -> QrCodeSettings:
    data = v.body(data)
    values = {"use_system_settings": v.flag(data, "useSystemSettings", tenant_id is not None) and tenant_id is not None,
              "use_default_app": v.flag(data, "useDefaultApp", True),
              "qr_code_config": v.qr_code_config(data.get("qrCodeConfig")),
              "android_enabled": v.flag(data, "androidEnabled", True), "ios_enabled": v.flag(data, "iosEnabled", True)}
    raw = data.get("mobileAppBundleId")
    raw = raw.get("id") if isinstance(raw, dict) else raw
    values["mobile_app_bundle"] = MobileAppBundle.objects.filter(pk=parse_uuid(raw)).first() if raw else None
    if raw and values["mobile_app_bundle"] is None:
        raise Http404(f"Mobile app bundle {raw} is not found")
    if not values["use_default_app"] and values["mobile_app_bundle"] is None:
        raise ValidationError("mobileAppBundleId is required when useDefaultApp is false")
    for attempt in (1, 2):  # a concurrent first save may store the row between our read and our insert
        row = _stored_qr(tenant_id) or QrCodeSettings(tenant_id=tenant_id)
        for name, value in values.items():
            setattr(row, name, value)
        try:
            with transaction.atomic():
                row.save()
            return row
        except IntegrityError:
            if attempt == 2:
                raise
    return row


def merged_qr(tenant_id) -> QrCodeSettings:
    """What a user's home page shows: the tenant's settings unless they use the system's."""
    own = qr_settings(tenant_id) if tenant_id else None
    return own if own is not None and not own.use_system_settings else qr_settings(None)


def store_links(row: QrCodeSettings) -> tuple[str | None, str | None]:
    """(Google Play, App Store) links of the settings' bundle apps (``storeInfo.storeLink``)."""
    bundle = row.mobile_app_bundle if not row.use_default_app else None
    links = []
    for app, enabled in ((bundle.android_app if bundle else None, row.android_enabled),
                         (bundle.ios_app if bundle else None, row.ios_enabled)):
        info = app.store_info if app is not None and isinstance(app.store_info, dict) else {}
        links.append(info.get("storeLink") if enabled else None)
    return links[0], links[1]


def new_secret(user) -> str:
    """A one-time secret the QR code's deep link carries; GET /api/noauth/qr/{secret} trades it for tokens."""
    secret = secrets.token_urlsafe(24)
    cache.set(_SECRET_KEY + secret, str(user.pk), SECRET_TTL_S)
    return secret


def take_secret(secret: str):
    """The user id a live secret was made for (and the secret is spent), else None."""
    key = _SECRET_KEY + str(secret)[:128]
    user_id = cache.get(key)
    # only the caller whose delete removed the key gets it: two concurrent callers never both do
    return user_id if user_id is not None and cache.delete(key) else None
