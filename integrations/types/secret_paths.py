"""Paths of the secrets in a configuration, as a type's ``secret_fields`` declares them.

    split_path("a.b[c.d]")                          -> ["a", "b", "c.d"]   (a bracketed part is one key)
    expand({"h": {"X-A": "1", "Y.B": "2"}}, "h.*")  -> ["h.X-A", "h[Y.B]"]  (``*``: every key of that map)
    expand({...}, "a.b")                            -> ["a.b"]             (a fixed path, set or not)

A wildcard is a plain ``*`` part; ``[*]`` names a key that is a star. The concrete paths of a
wildcard are what the API's errors, the audit log and the packages (transfer/) name each value by.
"""

import re

__all__ = ["WILDCARD", "split_path", "join_path", "nameable", "expand", "expand_keys", "get_keys", "set_keys"]

WILDCARD = "*"
_PATH_PART = re.compile(r"\[([^\]]+)\]|([^.\[\]]+)")
_PLAIN = re.compile(r"[^.\[\]]+")


def split_path(path: str) -> list[str]:
    """``a.b[c.d]`` -> ["a", "b", "c.d"]: a bracketed part is one key, dots and all (Kafka's
    ``otherProperties`` keys such as ``sasl.jaas.config``)."""
    return [bracketed or plain for bracketed, plain in _PATH_PART.findall(path)]


def _parts(path: str) -> list[tuple[str, bool]]:
    """(key, is the wildcard) per part of ``path``."""
    return [(bracketed or plain, not bracketed and plain == WILDCARD) for bracketed, plain in _PATH_PART.findall(path)]


def nameable(key: str) -> bool:
    """True when a path can name ``key`` (a key that is empty or holds ``]`` cannot be)."""
    return bool(key) and "]" not in key


def join_path(keys: list[str]) -> str:
    """The path of ``keys``, bracketing a key that holds ``.`` or ``[`` or is ``*``: split_path's inverse."""
    out = ""
    for key in keys:
        out += (("." if out else "") + key) if _PLAIN.fullmatch(key) and key != WILDCARD else f"[{key}]"
    return out


def expand_keys(data, path: str) -> list[list[str]]:
    """The keys of every value ``path`` names in ``data``: a fixed path once (present or not), a
    wildcard part once per key of the dict at that place (none when there is no dict)."""
    parts = _parts(path)
    if not any(wild for _, wild in parts):
        return [[key for key, _ in parts]]
    found: list[list[str]] = []

    def walk(node, i: int, keys: list[str]) -> None:
        if i == len(parts):
            found.append(keys)
            return
        key, wild = parts[i]
        if wild:
            for name in node if isinstance(node, dict) else ():
                walk(node[name], i + 1, [*keys, name])
        else:
            walk(node.get(key) if isinstance(node, dict) else None, i + 1, [*keys, key])

    walk(data, 0, [])
    return found


def expand(data, path: str) -> list[str]:
    """expand_keys as paths; a fixed path comes back as written."""
    if not any(wild for _, wild in _parts(path)):
        return [path]
    return [join_path(keys) for keys in expand_keys(data, path)]


def get_keys(data, keys: list[str]):
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


def set_keys(data, keys: list[str], value) -> None:
    """Replace the value at ``keys`` when it is there (nothing is created)."""
    *parents, last = keys
    if not isinstance(data, dict):
        return
    for key in parents:
        if not isinstance(data.get(key), dict):
            return
        data = data[key]
    if last in data:
        data[last] = value
