"""WhiteLabelingParams and LoginWhiteLabelingParams (tb-pe-client 4.4's models): checking what a client
sends, the full JSON answered (every field, null when unset), and the merge of a level over its parent.

Merge rule (a child level overrides its parent where it sets a value): the logo comes with its height, the
name/version switch with the platform name and version, each palette of ``paletteSettings`` separately;
``customCss`` is the parent's followed by the child's, so that the child's rules win the cascade (a guess:
ThingsBoard's UI applies one stylesheet).

Image fields keep the string sent: ``tb-image;/api/images/{system|tenant}/{key}``, ``/api/images/...``, an
``http(s)://`` URL or a ``data:image/...`` URL; anything else (``javascript:``, ``data:text/html``) is a 400.
"""

import re
import uuid

from rest_framework.exceptions import ValidationError

from tbproject.text import check_json

__all__ = ["GENERAL_FIELDS", "LOGIN_FIELDS", "clean", "full", "merge", "image_link", "IMAGE_LINK", "host_name"]

_STR, _INT, _BOOL = str, int, bool
#: field -> type (dict: an object checked by its own function)
GENERAL_FIELDS = {
    "logoImageUrl": _STR, "logoImageHeight": _INT, "collapsedLogoImageUrl": _STR, "appTitle": _STR,
    "favicon": dict, "paletteSettings": dict, "primaryColorPanels": _BOOL, "helpLinkBaseUrl": _STR,
    "uiHelpBaseUrl": _STR, "enableHelpLinks": _BOOL, "whiteLabelingEnabled": _BOOL, "showNameVersion": _BOOL,
    "platformName": _STR, "platformVersion": _STR, "customCss": _STR, "hideConnectivityDialog": _BOOL,
    "overrideTrendzName": _BOOL,
}
LOGIN_FIELDS = {
    **GENERAL_FIELDS, "pageBackgroundColor": _STR, "darkForeground": _BOOL, "domainId": dict, "baseUrl": _STR,
    "prohibitDifferentUrl": _BOOL, "adminSettingsId": _STR, "showNameBottom": _BOOL,
    "domainName": _STR,  # ThingsBoard 3.x's login domain; 4.x names a Domain entity (domainId) instead
}
_IMAGES = ("logoImageUrl", "collapsedLogoImageUrl")
_URLS = ("helpLinkBaseUrl", "uiHelpBaseUrl", "baseUrl")
_MAX_TEXT = 255
_MAX_LONG = {"customCss": 256 * 1024, **{f: 2 * 1024 * 1024 for f in _IMAGES}}
IMAGE_LINK = re.compile(r"^(?:tb-image;)?/api/images/(system|tenant)/([^/?#\s]+)$")
_SAFE_IMAGE = re.compile(r"^(?:https?://\S+|data:image/[a-z0-9.+-]+(?:;[a-z0-9=.+-]+)*,\S*)$", re.I)
_COLOR = re.compile(r"^[#\w(),.%\s-]{0,64}$")
_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")


def host_name(value: str) -> str | None:
    """``value`` (``host`` or ``host:port``) lower-cased when it is a DNS name of real labels and a port in
    1..65535, else None."""
    value = value.strip().lower()
    host, sep, port = value.partition(":")
    if sep and not (port.isdigit() and 0 < int(port) <= 65535 and len(port) <= 5):
        return None
    if not host or len(host) > 253 or not all(_LABEL.match(label) for label in host.split(".")):
        return None
    return value


def image_link(value) -> tuple[str, str] | None:
    """(scope, key) of an image link kept in this server's images, else None."""
    match = IMAGE_LINK.match(value) if isinstance(value, str) else None
    return (match.group(1), match.group(2)) if match else None


def _image(name: str, value: str) -> str:
    if value and not (IMAGE_LINK.match(value) or _SAFE_IMAGE.match(value)):
        raise ValidationError(f"'{name}' must be an image link (tb-image;/api/images/..., http(s):// or "
                              "data:image/...)")
    return value


def _palette(name: str, value) -> dict:
    if not isinstance(value, dict) or not isinstance(value.get("type"), str) or not value["type"]:
        raise ValidationError(f"'{name}' must be an object with a 'type' (both palettes are required)")
    colors = value.get("colors")
    if colors is not None and not (isinstance(colors, dict) and all(
            isinstance(k, str) and isinstance(v, str) and _COLOR.match(v) for k, v in colors.items())):
        raise ValidationError(f"'{name}.colors' must map hues to color codes")
    extends = value.get("extends")
    if extends is not None and not isinstance(extends, str):
        raise ValidationError(f"'{name}.extends' must be a string")
    return {"type": value["type"][:64], "extends": extends, "colors": colors}


def _object(name: str, value):
    if name == "favicon":
        url = value.get("url")
        if url is not None and not isinstance(url, str):
            raise ValidationError("'favicon.url' must be a string")
        return {"url": _image("favicon.url", url or "") or None, **({"type": value["type"]} if isinstance(
            value.get("type"), str) else {})}
    if name == "paletteSettings":
        return {"primaryPalette": _palette("paletteSettings.primaryPalette", value.get("primaryPalette")),
                "accentPalette": _palette("paletteSettings.accentPalette", value.get("accentPalette"))}
    raw = value.get("id")  # domainId
    if raw is None:
        return None
    try:
        return {"entityType": "DOMAIN", "id": str(uuid.UUID(str(raw)))}
    except ValueError:
        raise ValidationError("'domainId.id' must be a UUID") from None


def _value(name: str, kind, value):
    if value is None:
        return None
    if kind is _BOOL or kind is _INT:
        if not isinstance(value, kind) or (kind is _INT and isinstance(value, bool)):
            raise ValidationError(f"'{name}' must be {'true or false' if kind is _BOOL else 'an integer'}")
        return value
    if kind is dict:
        if not isinstance(value, dict):
            raise ValidationError(f"'{name}' must be an object")
        return _object(name, value)
    if not isinstance(value, str):
        raise ValidationError(f"'{name}' must be a string")
    limit = _MAX_LONG.get(name, _MAX_TEXT if name not in _URLS else 2048)
    if len(value) > limit:
        raise ValidationError(f"'{name}' is longer than {limit} characters")
    if name in _IMAGES:
        return _image(name, value)
    if name in _URLS and value and not re.match(r"^https?://", value, re.I):
        raise ValidationError(f"'{name}' must be an http(s) URL")
    if name == "pageBackgroundColor" and not _COLOR.match(value):
        raise ValidationError("'pageBackgroundColor' must be a color code")
    if name == "domainName" and not value.strip():
        return ""
    if name == "domainName":
        value = host_name(value)
        if value is None:
            raise ValidationError("'domainName' must be a host name (DNS labels, an optional port up to 65535)")
    return value


def clean(data, *, login: bool = False) -> dict:
    """The known fields of a posted params object, checked (a 400 names the first bad one); others dropped."""
    if not isinstance(data, dict):
        raise ValidationError("Request body must be a JSON object")
    try:
        check_json(data)
    except ValueError as e:
        raise ValidationError(str(e)) from None
    fields = LOGIN_FIELDS if login else GENERAL_FIELDS
    return {name: _value(name, kind, data.get(name)) for name, kind in fields.items() if data.get(name) is not None}


def full(settings: dict | None, *, login: bool = False) -> dict:
    """Every field of the model, null where unset."""
    settings = settings or {}
    return {name: settings.get(name) for name in (LOGIN_FIELDS if login else GENERAL_FIELDS)}


def _set(value) -> bool:
    return value is not None and value != "" and value != {}


def merge(parent: dict, child: dict) -> dict:
    """``child`` over ``parent`` (both as stored); see the module's rule."""
    out = dict(parent)
    for name, value in child.items():
        if not _set(value) or name in ("logoImageHeight", "platformName", "platformVersion"):
            continue
        if name == "logoImageUrl":
            out["logoImageHeight"] = child.get("logoImageHeight") or parent.get("logoImageHeight")
        elif name == "favicon" and not value.get("url"):
            continue
        elif name == "showNameVersion":
            out["platformName"], out["platformVersion"] = child.get("platformName"), child.get("platformVersion")
        elif name == "paletteSettings":
            mine, theirs = value, parent.get("paletteSettings") or {}
            value = {key: mine.get(key) or theirs.get(key) for key in ("primaryPalette", "accentPalette")}
        elif name == "customCss" and parent.get("customCss"):
            value = f"{parent['customCss']}\n{value}"
        out[name] = value
    return out
