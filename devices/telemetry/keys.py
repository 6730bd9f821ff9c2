"""The telemetry key dictionary: key name <-> small integer id, cached per process.

Ids are never reused or deleted, so a cached mapping stays valid for the life of the database.
"""

from devices.models import TelemetryKey

__all__ = ["key_ids", "key_names", "lookup_ids", "clear_cache"]

_ids: dict[str, int] = {}
_names: dict[int, str] = {}


def _remember(rows) -> None:
    for key_id, name in rows:
        _ids[name] = key_id
        _names[key_id] = name


def key_ids(names) -> dict[str, int]:
    """Ids for the given key names, creating missing keys (safe under concurrent writers)."""
    missing = [n for n in set(names) if n not in _ids]
    if missing:
        _remember(TelemetryKey.objects.filter(key__in=missing).values_list("id", "key"))
        still = [n for n in missing if n not in _ids]
        if still:
            TelemetryKey.objects.bulk_create([TelemetryKey(key=n) for n in still], ignore_conflicts=True)
            _remember(TelemetryKey.objects.filter(key__in=still).values_list("id", "key"))
    return {n: _ids[n] for n in names}


def key_names(ids) -> dict[int, str]:
    missing = [i for i in set(ids) if i not in _names]
    if missing:
        _remember(TelemetryKey.objects.filter(id__in=missing).values_list("id", "key"))
    return {i: _names[i] for i in ids if i in _names}


def lookup_ids(names) -> dict[str, int]:
    """Ids of existing keys only (reads never create keys)."""
    missing = [n for n in set(names) if n not in _ids]
    if missing:
        _remember(TelemetryKey.objects.filter(key__in=missing).values_list("id", "key"))
    return {n: _ids[n] for n in names if n in _ids}


def clear_cache() -> None:
    """Forget cached ids (tests roll back the dictionary table between cases)."""
    _ids.clear()
    _names.clear()
