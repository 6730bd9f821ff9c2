"""Trendz Analytics, ThingsBoard's separate analytics product, as this server knows it: where it is.

The configuration (TrendzConfiguration ``{trendzUrl, tbUrl}``) is kept per tenant (the system administrator's
is the system's, and a tenant without one falls back to it, then to the TRENDZ_URL setting), as an
AdminSettings row ``trendz/<tenant id>`` (``trendz/system``), out of reach of /api/admin/settings/{key}.

No Trendz client runs here: connecting records the result ThingsBoard records when it cannot reach
Trendz (TRENDZ_URL_UNREACHABLE, NOT_AVAILABLE); no request leaves this server for the configured URL.
"""

from urllib.parse import urlsplit

from django.conf import settings

from tbproject.clock import now_ms
from tenants.system import store
from tenants.system.store import SettingsError

__all__ = ["config", "save_config", "sync_result", "connect", "healthcheck", "NOT_SYNCED"]

NOT_SYNCED = {"version": None, "updatedTs": None, "type": "SYNC_NOT_INITIALIZED", "status": "NOT_AVAILABLE"}
MAX_URL = 1024


def _key(tenant_id) -> str:
    return f"trendz/{tenant_id or 'system'}"


def _document(tenant_id) -> dict:
    return store.read(_key(tenant_id)) or {}


def config(tenant_id) -> dict:
    """The effective TrendzConfiguration of a tenant (None: the system's)."""
    for doc in (_document(tenant_id), _document(None) if tenant_id else {}):
        found = doc.get("config")
        if isinstance(found, dict) and found.get("trendzUrl"):
            return {"trendzUrl": found.get("trendzUrl"), "tbUrl": found.get("tbUrl")}
    return {"trendzUrl": getattr(settings, "TRENDZ_URL", "") or None,
            "tbUrl": settings.PUBLIC_BASE_URL.rstrip("/") or None}


def _url(body: dict, name: str) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > MAX_URL:
        raise SettingsError(f"{name} must be an http(s) URL of at most {MAX_URL} characters")
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname or any(c.isspace() for c in value.strip()):
        raise SettingsError(f"{name} must be an http(s) URL, got '{value[:64]}'")
    return value.strip().rstrip("/")


def save_config(tenant_id, body) -> dict:
    if not isinstance(body, dict):
        raise SettingsError("Request body must be a JSON object {trendzUrl, tbUrl}")
    saved = {"trendzUrl": _url(body, "trendzUrl"), "tbUrl": _url(body, "tbUrl")}
    doc = _document(tenant_id)
    if doc.get("config") != saved:
        doc = {"config": saved, "sync": dict(NOT_SYNCED)}  # another Trendz: the last sync says nothing of it
    store.write(_key(tenant_id), doc)
    return dict(saved)


def sync_result(tenant_id) -> dict:
    found = _document(tenant_id).get("sync")
    return dict(found) if isinstance(found, dict) else dict(NOT_SYNCED)


def connect(tenant_id) -> dict:
    """The Connect button: the configuration's Trendz is not reachable from here (no Trendz client runs)."""
    current = config(tenant_id)
    if not current["trendzUrl"]:
        raise SettingsError("Trendz URL is not configured: save it first (POST /api/trendz/config)")
    doc = _document(tenant_id)  # its own configuration, if any: the fallback is read, never copied
    sync = {"version": None, "updatedTs": now_ms(), "type": "TRENDZ_URL_UNREACHABLE", "status": "NOT_AVAILABLE"}
    known = doc.get("sync") if isinstance(doc.get("sync"), dict) else {}
    if {**known, "updatedTs": None} == {**sync, "updatedTs": None} and known.get("updatedTs"):
        return dict(known)  # the same result as last time: no write on every call
    doc["sync"] = sync
    store.write(_key(tenant_id), doc)
    return dict(sync)


def healthcheck(tenant_id) -> dict:
    sync = sync_result(tenant_id)
    url = config(tenant_id)["trendzUrl"]
    if not url:
        return {"version": None, "type": "SYNC_NOT_INITIALIZED", "status": "NOT_AVAILABLE",
                "message": "Trendz is not configured"}
    return {"version": sync.get("version"), "type": "TRENDZ_URL_UNREACHABLE", "status": "NOT_AVAILABLE",
            "message": f"Trendz is not reachable at {url}"}
