"""The mobile app's push sessions of a user (ThingsBoard's MobileSessionInfo, kept as the user's ``MOBILE``
settings document, a type no client reads or writes through /api/user/settings):
``{"sessions": {<X-Mobile-Token, the app's FCM token>: {"fcmTokenTimestamp": <ms>}}}``.

The notification center's mobile app delivery would read these tokens; a user keeps at most
``MAX_SESSIONS`` of them (the oldest by timestamp go first), as a device of the app re-registers often.
"""

from django.db import transaction

from tenants.accounts import AccountError
from tenants.models import UserSettings

__all__ = ["KIND", "MAX_SESSIONS", "MAX_TOKEN", "find", "save", "remove", "tokens"]

KIND = "MOBILE"
MAX_SESSIONS = 20
MAX_TOKEN = 1024
LONG_MAX = 2**63 - 1


def _token(raw) -> str:
    token = str(raw or "").strip()
    if not token:
        raise AccountError("Required request header 'X-Mobile-Token' is not present")
    if len(token) > MAX_TOKEN or "\x00" in token:
        raise AccountError(f"X-Mobile-Token must be at most {MAX_TOKEN} characters, without NUL characters")
    return token


def _sessions(user, *, lock: bool = False) -> tuple[UserSettings | None, dict]:
    rows = UserSettings.objects.filter(user=user, type=KIND)
    row = (rows.select_for_update() if lock else rows).first()
    sessions = row.settings.get("sessions") if row is not None and isinstance(row.settings, dict) else None
    return row, dict(sessions) if isinstance(sessions, dict) else {}


def find(user, raw_token) -> dict | None:
    """The session of this token as MobileSessionInfo, None when the user has none."""
    found = _sessions(user)[1].get(_token(raw_token))
    return dict(found) if isinstance(found, dict) else None


def save(user, raw_token, body) -> dict:
    token = _token(raw_token)
    if not isinstance(body, dict):
        raise AccountError("Request body must be a JSON object {fcmTokenTimestamp}")
    stamp = body.get("fcmTokenTimestamp")
    if stamp is not None and (isinstance(stamp, bool) or not isinstance(stamp, int) or not 0 <= stamp <= LONG_MAX):
        raise AccountError("fcmTokenTimestamp must be a timestamp in milliseconds")
    info = {"fcmTokenTimestamp": stamp}
    with transaction.atomic():
        row, sessions = _sessions(user, lock=True)
        sessions[token] = info
        if len(sessions) > MAX_SESSIONS:
            others = sorted((t for t in sessions if t != token),
                            key=lambda t: (sessions[t] or {}).get("fcmTokenTimestamp") or 0, reverse=True)
            sessions = {t: sessions[t] for t in others[:MAX_SESSIONS - 1]} | {token: info}
        UserSettings.objects.update_or_create(user=user, type=KIND, defaults={"settings": {"sessions": sessions}})
    return info


def remove(user, raw_token) -> None:
    token = _token(raw_token)
    with transaction.atomic():
        row, sessions = _sessions(user, lock=True)
        if row is not None and sessions.pop(token, None) is not None:
            row.settings = {"sessions": sessions}
            row.save(update_fields=["settings"])


def tokens(user) -> list[str]:
    """The user's registered push tokens, newest first."""
    sessions = _sessions(user)[1]
    return sorted(sessions, key=lambda t: (sessions[t] or {}).get("fcmTokenTimestamp") or 0, reverse=True)
