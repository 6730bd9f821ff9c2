"""Each user's notification settings (ThingsBoard's UserNotificationSettings), kept as the user's
``NOTIFICATIONS`` settings document (tenants.UserSettings, the table ThingsBoard keeps them in too):

    {"prefs": {"ALARM": {"enabled": true, "enabledDeliveryMethods": {"WEB": true, "EMAIL": false}}, ...}}

A notification type a user switched off (``enabled: false``), or a method switched off for it,
skips that user at delivery; what the user never set is on.
"""

from rest_framework.exceptions import ValidationError

from notifications.choices import DELIVERY_METHODS, NOTIFICATION_TYPES, TRIGGER_TYPES
from tenants.models import UserSettings

__all__ = ["KIND", "get", "save", "disabled", "clean"]

KIND = "NOTIFICATIONS"
CHUNK = 500  # ids per query (SQLite takes at most 999 parameters)


def _defaults() -> dict:
    return {t: {"enabled": True, "enabledDeliveryMethods": {m: True for m in DELIVERY_METHODS}}
            for t in TRIGGER_TYPES}


def get(user) -> dict:
    row = UserSettings.objects.filter(user=user, type=KIND).values_list("settings", flat=True).first()
    prefs = _defaults()
    stored = (row or {}).get("prefs") if isinstance(row, dict) else None
    for kind, pref in (stored or {}).items():
        prefs[kind] = pref
    return {"prefs": prefs}


def clean(data) -> dict:
    prefs = data.get("prefs") if isinstance(data, dict) else None
    if not isinstance(prefs, dict):
        raise ValidationError("prefs must be an object")
    out = {}
    for kind, pref in prefs.items():
        if kind not in NOTIFICATION_TYPES:
            raise ValidationError(f"prefs: unsupported notification type {str(kind)[:64]}")
        if not isinstance(pref, dict) or not isinstance(pref.get("enabledDeliveryMethods", {}), dict):
            raise ValidationError(f"prefs.{kind}.enabledDeliveryMethods must be an object")
        enabled = pref.get("enabled", True)
        methods = pref.get("enabledDeliveryMethods") or {}
        if not isinstance(enabled, bool) or any(m not in DELIVERY_METHODS or not isinstance(v, bool)
                                                for m, v in methods.items()):
            raise ValidationError(f"prefs.{kind}: enabled and each delivery method must be true or false, "
                                  f"methods among {', '.join(DELIVERY_METHODS)}")
        out[kind] = {"enabled": enabled, "enabledDeliveryMethods": dict(methods)}
    return {"prefs": out}


def save(user, data) -> dict:
    cleaned = clean(data)
    UserSettings.objects.update_or_create(user=user, type=KIND, defaults={"settings": cleaned})
    return get(user)


def disabled(user_ids, notification_type: str) -> dict:
    """{user id: set of methods switched off for this type} for the users among ``user_ids`` who
    switched any off: one query for the whole batch."""
    out, ids = {}, list(user_ids)
    rows = [row for start in range(0, len(ids), CHUNK) for row in UserSettings.objects.filter(
        user_id__in=ids[start:start + CHUNK], type=KIND).values_list("user_id", "settings")]
    for user_id, settings in rows:
        pref = ((settings or {}).get("prefs") or {}).get(notification_type) if isinstance(settings, dict) else None
        if not isinstance(pref, dict):
            continue
        if pref.get("enabled") is False:
            out[user_id] = set(DELIVERY_METHODS)
            continue
        off = {m for m, on in (pref.get("enabledDeliveryMethods") or {}).items() if on is False}
        if off:
            out[user_id] = off
    return out
