"""Images (ThingsBoard 3.7+: resources of type IMAGE): what counts as one, and who shows one.

    check_image(data)       -> (media type, descriptor) of a PNG, JPEG, GIF, WEBP, ICO or SVG; else a 400
    references(image)       the dashboards, widget types and bundles whose JSON holds the image's link

The type is decided by the bytes (magic numbers), never by the file name or the declared content type.
An SVG is parsed (the standard library's XML parser) and refused when it could run script in a browser that
opens it: ``<script>``/``<foreignObject>``/XHTML elements, ``on...`` event attributes, links (``href``,
``xlink:href``, ``src``...) whose scheme, once entities are decoded, is not http, https or data:image,
``<animate>``/``<set>`` of a link or an event attribute, xml-stylesheet instructions, or entity
declarations (an XML entity bomb; refused before parsing): refused, not rewritten, so that what is stored
is byte for byte what was sent. Pillow is not installed here, so the preview of an image is the image
itself (its ``previewDescriptor`` says so).

ThingsBoard links images in dashboards and widgets as ``tb-image;/api/images/tenant/<key>`` (or
``.../system/<key>``, or the public link): a text search for the link finds every user of an image.
"""

import base64
import re
import struct
from xml.etree import ElementTree

from django.db.models import Q
from rest_framework.exceptions import ValidationError

from dashboards.models import Dashboard, Resource, WidgetsBundle, WidgetType
from tbproject.api.ids import entity_id

__all__ = ["check_image", "references", "inline", "SUPPORTED"]

SUPPORTED = "PNG, JPEG, GIF, WEBP, ICO or SVG"
_SVG_ROOT = re.compile(rb"^\s*(?:<\?xml[^>]*\?>\s*|<!--.*?-->\s*|<!DOCTYPE[^>\[]*>\s*)*<svg[\s>]", re.S | re.I)
_ENTITY = re.compile(rb"<!ENTITY|<!DOCTYPE[^>]*\[", re.I)
_STYLESHEET = re.compile(rb"<\?xml-stylesheet", re.I)
_SCRIPT_ELEMENTS = frozenset({"script", "foreignobject", "handler", "listener", "iframe", "embed", "object"})
_URL_ATTRIBUTES = frozenset({"href", "src", "base", "action", "formaction", "data"})
_XHTML = "{http://www.w3.org/1999/xhtml}"
_SAFE_URL = re.compile(r"(?:https?:|data:image/)", re.I)
_SCHEME = re.compile(r"[a-z][a-z0-9+.\-]*:", re.I)
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]")


def _local(name: str) -> str:
    return name.rsplit("}", 1)[-1].lower()


def _unsafe_url(value: str) -> bool:
    """A link that could run script: a scheme other than http, https or data:image/ (entities are already
    decoded by the parser; browsers drop whitespace and control characters inside a scheme)."""
    value = _URL_NOISE.sub("", value)
    return bool(_SCHEME.match(value)) and not _SAFE_URL.match(value)


def _svg_problem(data: bytes) -> str | None:
    """Why an SVG could run script in a browser that opens it, or None. Entity declarations and
    xml-stylesheet instructions are refused before parsing; then every element and attribute is checked."""
    if _ENTITY.search(data):
        return "entity declarations (a DOCTYPE internal subset) are refused"
    if _STYLESHEET.search(data):
        return "xml-stylesheet processing instructions are refused"
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as e:
        return f"it is not well-formed XML ({e})"
    if not isinstance(root.tag, str) or _local(root.tag) != "svg":
        return "its root element is not <svg>"
    for element in root.iter():
        tag = _local(element.tag)
        if tag in _SCRIPT_ELEMENTS or element.tag.startswith(_XHTML):
            return f"<{tag}> elements are refused"
        attrs = {_local(k): v for k, v in element.attrib.items()}
        for name, value in attrs.items():
            if name.startswith("on"):
                return f"event handler attributes ({name}) are refused"
            if name in _URL_ATTRIBUTES and _unsafe_url(value):
                return f"'{name}' links with a scheme other than http, https or data:image are refused"
        if tag in ("animate", "set", "animatemotion", "animatetransform", "animatecolor"):
            target = _URL_NOISE.sub("", attrs.get("attributename", "")).rsplit(":", 1)[-1].lower()
            if target in _URL_ATTRIBUTES or target.startswith("on"):
                return f"<{tag}> of '{target}' is refused"
    return None


def _sniff(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if data[:4] == b"\x00\x00\x01\x00" and len(data) > 6 and data[4:6] != b"\x00\x00":
        return "image/x-icon"
    head = data[3:] if data.startswith(b"\xef\xbb\xbf") else data
    if _SVG_ROOT.match(head[:4096]):
        return "image/svg+xml"
    return None


def _size(media_type: str, data: bytes) -> tuple[int, int] | None:
    """(width, height) read from the header, where that is simple; None otherwise."""
    try:
        if media_type == "image/png" and data[12:16] == b"IHDR":
            return struct.unpack(">II", data[16:24])
        if media_type == "image/gif":
            return struct.unpack("<HH", data[6:10])
        if media_type == "image/jpeg":
            return _jpeg_size(data)
    except struct.error:
        return None
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker, length = data[i + 1], struct.unpack(">H", data[i + 2:i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    return None


def check_image(data: bytes) -> tuple[str, dict]:
    """The media type and ThingsBoard's image descriptor of ``data``; a 400 when it is no image we serve."""
    media_type = _sniff(data)
    if media_type is None:
        raise ValidationError(f"The file is not an image: expected {SUPPORTED}")
    if media_type == "image/svg+xml":
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            raise ValidationError("An SVG image must be UTF-8 text") from None
        problem = _svg_problem(data)
        if problem:
            raise ValidationError(f"This SVG image could run script: {problem}")
    descriptor = {"mediaType": media_type, "size": len(data)}
    size = _size(media_type, data)
    if size:
        descriptor.update(width=size[0], height=size[1])
    # no thumbnailer here: the preview is the image itself
    descriptor["previewDescriptor"] = dict(descriptor)
    return media_type, descriptor


def references(resource, links: list[str]) -> dict[str, list[dict]]:
    """``{"DASHBOARD": [{id, name}], "WIDGET_TYPE": [...], "WIDGETS_BUNDLE": [...]}`` of the rows whose JSON
    holds one of ``links`` (an image's or a JS module's): a tenant's resource, that tenant's rows; a
    system one, everyone's."""
    found: dict[str, list[dict]] = {}
    for model, entity_type, fields, name in ((Dashboard, "DASHBOARD", ("configuration_text", "image"), "title"),
                                             (WidgetType, "WIDGET_TYPE", ("descriptor_text", "image"), "name"),
                                             (WidgetsBundle, "WIDGETS_BUNDLE", ("image",), "title")):
        match = Q()
        for link in links:
            for field in fields:
                match |= Q(**{f"{field}__contains": link})
        rows = model.objects.filter(match)
        if resource.tenant_id is not None:
            rows = rows.filter(tenant_id=resource.tenant_id)
        rows = [r for r in rows[:100] if _really_links(r, fields, links)]
        if rows:
            found[entity_type] = [{"id": entity_id(entity_type, r.pk), "name": getattr(r, name)} for r in rows]
    return found


def _really_links(row, fields, links) -> bool:
    """``.../tenant/a.png`` is contained in ``.../tenant/a.png.bak``: the link must end where the text's does."""
    for field in fields:
        text = getattr(row, field, None) or ""
        for link in links:
            for m in re.finditer(re.escape(link), text):
                nxt = text[m.end():m.end() + 1]
                if not nxt or not (nxt.isalnum() or nxt in "._-()"):
                    return True
    return False


_LINK = re.compile(r"^tb-image;/api/images/(system|tenant)/([^/?#]+)$")


def inline(value, user):
    """ThingsBoard's ``inlineImages``: a ``tb-image;/api/images/{type}/{key}`` link the user may read as a
    data URL (what an export carries to another server); anything else as it is."""
    match = _LINK.match(value) if isinstance(value, str) else None
    if match is None:
        return value
    rows = Resource.objects.for_user(user).filter(resource_type="IMAGE", resource_key=match[2],
                                                  tenant__isnull=match[1] == "system")
    image = rows.first()
    if image is None:
        return value
    return f"data:{image.media_type};base64,{base64.b64encode(bytes(image.data)).decode('ascii')}"
