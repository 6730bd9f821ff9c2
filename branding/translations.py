"""Custom translations per locale and level, and the end-user translation built from them.

A translation is a nested JSON object of UI keys (``{"home": {"home": "My home"}}``); a dotted key
(``"home.home"``), as ``PATCH`` sends, names a path in it. Levels merge system -> tenant -> customer, deep.

    full(owner, code)    en_US base <- en_US custom <- base of ``code`` <- custom of ``code`` (merged levels):
                         what a user of ``owner`` sees (the en_US layers are the fallback of untranslated keys)
    basic_edit(owner, code)   per key {"t": translation here, "o": en_US origin, "p": the parent's, "s": status}
                         status C (customized here), A (added here, unknown to the base), T (translated
                         above or in the base), U (untranslated): the shape is a guess at ThingsBoard's
"""

import copy

from django.db import transaction
from rest_framework.exceptions import ValidationError

from branding.levels import Owner, parents, white_labeling_allowed
from branding.locales import DEFAULT_LOCALE, base, check_code, display_name
from branding.models import CustomTranslation
from tbproject.text import check_json

__all__ = ["custom", "merged_custom", "save", "patch", "delete", "delete_key", "full", "available", "infos",
           "basic_edit", "flatten", "checked", "MAX_KEYS"]

MAX_KEYS = 20_000
_MAX_DEPTH = 8


def _expand(data: dict) -> dict:
    """Dotted keys to nested objects; a leaf must be a string (a 400 names the key)."""
    out: dict = {}
    for key, value in data.items():
        if not isinstance(key, str) or not key.strip() or len(key) > 255:
            raise ValidationError("Translation keys must be non-empty strings")
        if isinstance(value, dict):
            value = _expand(value)
        elif not isinstance(value, str):
            raise ValidationError(f"The translation of '{key:.64}' must be a string or an object")
        _put(out, key.split("."), value)
    return out


def _put(tree: dict, path: list[str], value) -> None:
    for part in path[:-1]:
        node = tree.get(part)
        if not isinstance(node, dict):
            node = tree[part] = {}
        tree = node
    last = path[-1]
    tree[last] = deep_merge(tree[last], value) if isinstance(value, dict) and isinstance(tree.get(last), dict) \
        else value


def deep_merge(below: dict, above: dict) -> dict:
    out = copy.deepcopy(below)
    for key, value in above.items():
        out[key] = deep_merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) \
            else copy.deepcopy(value)
    return out


def flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    out = {}
    for key, value in tree.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, f"{path}."))
        else:
            out[path] = value
    return out


def checked(data) -> dict:
    if not isinstance(data, dict):
        raise ValidationError("Request body must be a JSON object")
    try:
        check_json(data)
    except ValueError as e:
        raise ValidationError(str(e)) from None
    tree = _expand(data)
    keys = flatten(tree)
    if len(keys) > MAX_KEYS or any(k.count(".") >= _MAX_DEPTH for k in keys):
        raise ValidationError(f"A custom translation holds at most {MAX_KEYS} keys, {_MAX_DEPTH} levels deep")
    return tree


def custom(owner: Owner, code: str) -> dict:
    row = CustomTranslation.objects.filter(locale_code=check_code(code), **owner.filter()).first()
    return row.value if row is not None and isinstance(row.value, dict) else {}


def merged_custom(owner: Owner, code: str, *, upto_parent: bool = False) -> dict:
    out: dict = {}
    levels = parents(owner) if upto_parent else [*parents(owner), owner]
    for level in levels:
        if level.level == "SYSTEM" or white_labeling_allowed(level):
            out = deep_merge(out, custom(level, code))
    return out


def save(owner: Owner, code: str, data) -> None:
    value = checked(data)
    CustomTranslation.objects.update_or_create(locale_code=check_code(code), **owner.filter(),
                                               defaults={"value": value})


def patch(owner: Owner, code: str, data) -> None:
    changes = checked(data)
    with transaction.atomic():
        row, _ = CustomTranslation.objects.select_for_update().get_or_create(locale_code=check_code(code),
                                                                            **owner.filter())
        value = deep_merge(row.value if isinstance(row.value, dict) else {}, changes)
        if len(flatten(value)) > MAX_KEYS:
            raise ValidationError(f"A custom translation holds at most {MAX_KEYS} keys")
        row.value = value
        row.save(update_fields=["value"])


def delete(owner: Owner, code: str) -> None:
    CustomTranslation.objects.filter(locale_code=check_code(code), **owner.filter()).delete()


def delete_key(owner: Owner, code: str, key_path: str) -> None:
    with transaction.atomic():
        row = CustomTranslation.objects.select_for_update().filter(locale_code=check_code(code),
                                                                   **owner.filter()).first()
        if row is None or not isinstance(row.value, dict):
            return
        parts, node, trail = key_path.split("."), row.value, []
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                return
            trail.append((node, part))
            node = node[part]
        node.pop(parts[-1], None)
        for parent, part in reversed(trail):  # drop the objects the deletion left empty
            if parent[part] == {}:
                del parent[part]
        row.save(update_fields=["value"])


def full(owner: Owner, code: str) -> dict:
    check_code(code)
    out = deep_merge(base(DEFAULT_LOCALE), merged_custom(owner, DEFAULT_LOCALE))
    if code != DEFAULT_LOCALE:
        out = deep_merge(deep_merge(out, base(code)), merged_custom(owner, code))
    return out


def _customized_codes(owner: Owner) -> set[str]:
    codes = set()
    for level in [*parents(owner), owner]:
        codes.update(CustomTranslation.objects.filter(**level.filter()).values_list("locale_code", flat=True))
    return codes


def available(owner: Owner) -> dict[str, str]:
    """code -> display name: the shipped locales and those customized at the owner's levels."""
    codes = {DEFAULT_LOCALE} | _customized_codes(owner)
    return {code: display_name(code) for code in sorted(codes)}


def _progress(owner: Owner, code: str) -> int:
    origin = flatten(base(DEFAULT_LOCALE))
    if code == DEFAULT_LOCALE or not origin:
        return 100
    translated = flatten(deep_merge(base(code), merged_custom(owner, code)))
    return int(100 * sum(1 for key in origin if key in translated) / len(origin))


def infos(owner: Owner) -> list[dict]:
    from branding.locales import LOCALES

    mine = _customized_codes(owner)
    return [{"localeCode": code, "language": LOCALES.get(code, (code, ""))[0],
             "country": LOCALES.get(code, ("", code.split("_")[-1]))[1], "progress": _progress(owner, code),
             "customized": code in mine} for code in sorted({DEFAULT_LOCALE} | mine)]


def basic_edit(owner: Owner, code: str) -> dict:
    check_code(code)
    origin = flatten(base(DEFAULT_LOCALE))
    parent = flatten(deep_merge(base(code), merged_custom(owner, code, upto_parent=True)))
    own = flatten(custom(owner, code))
    out: dict = {}
    for key in sorted(set(origin) | set(parent) | set(own)):
        if key in own:
            status = "C" if key in origin else "A"
        else:
            status = "T" if key in parent else "U"
        _put(out, key.split("."), {"t": own.get(key, parent.get(key)), "o": origin.get(key), "p": parent.get(key),
                                   "s": status})
    return out
