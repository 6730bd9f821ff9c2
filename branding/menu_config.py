"""CustomMenuConfig (tb-pe-client 4.4): ``{"items": [MenuItem, ...]}`` where an item is HOME, DEFAULT (one of
the UI's own entries, shown, hidden or renamed) or CUSTOM (a LINK to a URL or a dashboard, or a SECTION of
LINKs). Checked before it is stored: a link is http(s) only (never ``javascript:``), a dashboard one of the
owner's, icons a Material icon name or an image link."""

import re

from rest_framework.exceptions import ValidationError

from branding import params
from dashboards.models import Dashboard
from tbproject.api.ids import parse_uuid
from tbproject.text import check_json

__all__ = ["clean_config", "MAX_ITEMS"]

MAX_ITEMS = 500
_ICON = re.compile(r"^[a-z0-9_:-]{1,64}$", re.I)
_URL = re.compile(r"^https?://\S+$", re.I)


class _Counter:
    def __init__(self):
        self.count = 0

    def tick(self):
        self.count += 1
        if self.count > MAX_ITEMS:
            raise ValidationError(f"A custom menu holds at most {MAX_ITEMS} items")


def _text(item: dict, name: str, where: str, *, required: bool = False) -> None:
    value = item.get(name)
    if value is None and not required:
        return
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > 255:
        raise ValidationError(f"{where}: '{name}' must be {'a non-empty' if required else 'a'} string")


def _icon(item: dict, where: str) -> None:
    icon = item.get("icon")
    if icon is None or icon == "":
        return
    if not isinstance(icon, str) or not (_ICON.match(icon) or params.image_link(icon) or _URL.match(icon)
                                         or icon.startswith("data:image/")):
        raise ValidationError(f"{where}: 'icon' must be a Material icon name or an image link")


def _dashboard(item: dict, where: str, tenant_id, *, required: bool) -> None:
    raw = item.get("dashboardId")
    if raw in (None, "") and not required:
        return
    if raw in (None, ""):
        raise ValidationError(f"{where}: 'dashboardId' is required for a dashboard link")
    dashboard_id = parse_uuid(raw)
    if tenant_id is not None and not Dashboard.objects.filter(tenant_id=tenant_id, pk=dashboard_id).exists():
        raise ValidationError(f"{where}: dashboard {dashboard_id} is not found")


def _bool(item: dict, where: str, *names: str) -> None:
    for name in names:
        if item.get(name) is not None and not isinstance(item[name], bool):
            raise ValidationError(f"{where}: '{name}' must be true or false")


def _custom(item: dict, where: str, tenant_id, counter, *, in_section: bool) -> None:
    _text(item, "name", where, required=True)
    kind = item.get("menuItemType")
    if kind not in ("LINK", "SECTION") or (in_section and kind != "LINK"):
        raise ValidationError(f"{where}: 'menuItemType' must be {'LINK' if in_section else 'LINK or SECTION'}")
    _bool(item, where, "hideDashboardToolbar", "setAccessToken")
    if kind == "SECTION":
        _pages(item, where, tenant_id, counter, custom=True)
        return
    link = item.get("linkType") or "URL"
    if link == "URL":
        url = item.get("url")
        if not isinstance(url, str) or not _URL.match(url) or len(url) > 2048:
            raise ValidationError(f"{where}: 'url' must be an http(s) URL")
    elif link == "DASHBOARD":
        _dashboard(item, where, tenant_id, required=True)
    else:
        raise ValidationError(f"{where}: 'linkType' must be URL or DASHBOARD")


def _pages(item: dict, where: str, tenant_id, counter, *, custom: bool) -> None:
    pages = item.get("pages")
    if pages is None:
        return
    if not isinstance(pages, list):
        raise ValidationError(f"{where}: 'pages' must be a list")
    for i, page in enumerate(pages):
        _item(page, f"{where}.pages[{i}]", tenant_id, counter, in_section=True, only_custom=custom)


def _item(item, where: str, tenant_id, counter, *, in_section: bool = False, only_custom: bool = False) -> None:
    counter.tick()
    if not isinstance(item, dict):
        raise ValidationError(f"{where} must be an object")
    kind = item.get("type")
    if kind not in ("HOME", "DEFAULT", "CUSTOM") or (only_custom and kind != "CUSTOM"):
        raise ValidationError(f"{where}: 'type' must be {'CUSTOM' if only_custom else 'HOME, DEFAULT or CUSTOM'}")
    _bool(item, where, "visible")
    _icon(item, where)
    if kind == "CUSTOM":
        _custom(item, where, tenant_id, counter, in_section=in_section)
        return
    _text(item, "id", where)
    _text(item, "name", where)
    if kind == "HOME":
        if item.get("homeType") not in (None, "DEFAULT", "DASHBOARD"):
            raise ValidationError(f"{where}: 'homeType' must be DEFAULT or DASHBOARD")
        _bool(item, where, "hideDashboardToolbar")
        _dashboard(item, where, tenant_id, required=item.get("homeType") == "DASHBOARD")
    if not in_section:
        _pages(item, where, tenant_id, counter, custom=False)


def clean_config(config, tenant_id) -> dict:
    """The config as stored (a 400 names the first bad item)."""
    if config is None:
        return {"items": []}
    if not isinstance(config, dict):
        raise ValidationError("Custom menu config must be a JSON object")
    try:
        check_json(config)
    except ValueError as e:
        raise ValidationError(str(e)) from None
    items = config.get("items")
    if items is None:
        items = []
    if not isinstance(items, list):
        raise ValidationError("'items' must be a list")
    counter = _Counter()
    for i, item in enumerate(items):
        _item(item, f"items[{i}]", tenant_id, counter)
    return {**config, "items": items}
