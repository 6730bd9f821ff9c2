"""ThingsBoard's UserSettings: one JSON document per user and settings type, read and written only
by its own user (UserController's /api/user/settings endpoints).

- ``put``: only the keys sent change: a top-level key is replaced, a dotted key (``"B.D": 30``)
  sets that one nested value (``{A:5, B:{C:10, D:20}}`` put with ``{B.D: 30}`` gives
  ``{A:5, B:{C:10, D:30}}``), as ThingsBoard documents it;
- ``save``: the whole general document is replaced;
- ``delete``: comma-separated dotted paths are removed (``A.B,C``); a path not there is ignored.
"""

import json

from tbproject.text import check_json
from tenants.accounts import AccountError
from tenants.models import UserSettings

__all__ = ["TYPES", "settings_type", "get", "put", "save", "delete", "MAX_CHARS"]

#: ThingsBoard's UserSettingsType values a client may use (the reserved ones are the server's own)
TYPES = ("GENERAL", "QUICK_LINKS", "DOC_LINKS", "DASHBOARDS", "GETTING_STARTED")
MAX_CHARS = 100_000  # the stored document, as JSON text


def settings_type(raw) -> str:
    value = str(raw or "").upper()
    if value not in TYPES:
        raise AccountError(f"Unsupported user settings type '{str(raw)[:32]}': use one of "
                           f"{', '.join(t.lower() for t in TYPES)}")
    return value


def get(user, kind: str) -> dict:
    row = UserSettings.objects.filter(user=user, type=kind).first()
    return row.settings if row is not None and isinstance(row.settings, dict) else {}


def _object(body) -> dict:
    if not isinstance(body, dict):
        raise AccountError("User settings must be a JSON object")
    try:
        return check_json(body)
    except ValueError:
        raise AccountError("Text in user settings cannot contain NUL characters or lone surrogates") from None


def _path(raw: str) -> list[str]:
    parts = raw.strip().split(".")
    if not all(parts):
        raise AccountError(f"Invalid settings path '{raw[:64]}'")
    return parts


def _store(user, kind: str, document: dict) -> dict:
    if len(json.dumps(document)) > MAX_CHARS:
        raise AccountError(f"User settings are limited to {MAX_CHARS} characters of JSON")
    UserSettings.objects.update_or_create(user=user, type=kind, defaults={"settings": document})
    return document


def save(user, kind: str, body) -> dict:
    return _store(user, kind, _object(body))


def put(user, kind: str, body) -> dict:
    document = get(user, kind)
    for key, value in _object(body).items():
        *parents, leaf = _path(key)
        node = document
        for name in parents:
            if not isinstance(node.get(name), dict):
                node[name] = {}
            node = node[name]
        node[leaf] = value
    return _store(user, kind, document)


def delete(user, kind: str, paths: str) -> dict:
    document = get(user, kind)
    for raw in str(paths).split(","):
        if not raw.strip():
            continue
        *parents, leaf = _path(raw)
        node = document
        for name in parents:
            node = node.get(name) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(leaf, None)
    return _store(user, kind, document)
