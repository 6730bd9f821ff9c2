"""A path-by-path diff of two JSON documents, for the audit log.

Paths join keys with dots; a key that has dots itself is bracketed (``otherProperties[sasl.jaas.config]``),
as integrations.types.base.split_path reads them; list items are numbered (``nodes.2.name``).
Lists of different lengths are one change."""

__all__ = ["json_diff", "join"]

_MISSING = object()


def join(prefix: str, key) -> str:
    key = str(key)
    if "." in key or "[" in key:
        return f"{prefix}[{key}]"
    return f"{prefix}.{key}" if prefix else key


def json_diff(old, new, ignore: frozenset = frozenset()) -> list[dict]:
    """``[{"path", "old", "new"}]``; a key absent on one side has None there. ``ignore`` names
    keys skipped at any depth (volatile ones: version, createdTime)."""
    out: list[dict] = []
    _walk("", old, new, ignore, out)
    return out


def _walk(path: str, old, new, ignore, out) -> None:
    if isinstance(old, dict) and isinstance(new, dict):
        for key in dict.fromkeys([*old, *new]):
            if key not in ignore:
                _walk(join(path, key), old.get(key, _MISSING), new.get(key, _MISSING), ignore, out)
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            _walk(join(path, i), a, b, ignore, out)
    elif old != new:
        out.append({"path": path, "old": None if old is _MISSING else old, "new": None if new is _MISSING else new})
