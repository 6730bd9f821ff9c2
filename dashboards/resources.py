"""Resources (ThingsBoard's TbResource): JS modules, key stores, LwM2M models, images, dashboards...

    save_resource(user, data)              TbResource JSON (``data`` base64) -> resource (id in body = update)
    create(user, kind, name, data, ...)    a new resource from uploaded bytes (multipart)
    replace_data(resource, name, data)     new bytes, new etag
    info_json / resource_json              TbResourceInfo / TbResource (with ``data``)

A resource's key is unique per type in its scope (the system's or a tenant's): a new one whose key is
taken gets ``name_(1).ext``, ``name_(2).ext``... (the name shortened to fit 255 characters); ``/``, ``?``,
``#``, ``\\`` and control characters in a key (one taken from a file name) become ``_``. Its ``etag`` is
the SHA-256 of its bytes. Bytes past ``RESOURCE_MAX_BYTES`` are refused with a 413. Images (type IMAGE)
must be what they claim: see dashboards/images.py, which also finds the dashboards and widgets that show one.
"""

import base64
import binascii
import hashlib
import re
import secrets

from django.conf import settings
from django.db import IntegrityError, transaction
from rest_framework.exceptions import APIException, ValidationError

from dashboards.images import check_image, references
from dashboards.library import check_writable, get_visible, json_field, owner_tenant, text_field
from dashboards.models import Resource
from tbproject.api.ids import entity_id, parse_uuid

__all__ = ["RESOURCE_TYPES", "SUB_TYPES", "TooLarge", "save_resource", "create", "replace_data", "decode_data",
           "check_size", "info_json", "resource_json", "link", "public_link", "find_by_key", "set_public",
           "MEDIA_TYPES", "safe_file_name", "delete", "store", "safe_key"]

RESOURCE_TYPES = ("LWM2M_MODEL", "JKS", "PKCS_12", "JS_MODULE", "IMAGE", "DASHBOARD", "GENERAL")
SUB_TYPES = ("IMAGE", "SCADA_SYMBOL", "EXTENSION", "MODULE")
#: what a download of each type is served as (an image: its own media type)
MEDIA_TYPES = {"JS_MODULE": "application/javascript", "JKS": "application/x-java-keystore",
               "PKCS_12": "application/x-pkcs12", "LWM2M_MODEL": "application/xml", "DASHBOARD": "application/json"}


class TooLarge(APIException):
    status_code = 413
    default_detail = "The resource is too large"
    default_code = "too_large"


def check_size(size: int) -> None:
    limit = settings.RESOURCE_MAX_BYTES
    if size > limit:
        raise TooLarge(f"The resource is {size} bytes; the limit (RESOURCE_MAX_BYTES) is {limit} bytes")


def decode_data(raw) -> bytes:
    """``data`` of a TbResource: base64 text (a ``data:...;base64,`` URL too)."""
    if not isinstance(raw, str):
        raise ValidationError("'data' must be the resource's bytes as base64 text")
    raw = raw.split(",", 1)[1] if raw.startswith("data:") and "," in raw else raw
    check_size(len(raw) * 3 // 4 - 2)
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError):
        raise ValidationError("'data' is not valid base64") from None


_KEY_UNSAFE = re.compile(r"[/?#\\\x00-\x1f\x7f]")
_KEY_MAX = 255  # Resource.resource_key's max_length


def safe_key(key: str) -> str:
    """A key that a link can carry as one path segment: ``/``, ``?``, ``#``, ``\\`` and control characters
    become ``_`` (``a/b?.js`` -> ``a_b_.js``)."""
    return _KEY_UNSAFE.sub("_", key)


def _unique_key(tenant, kind: str, key: str, exclude=None) -> str:
    """``key``, or ``stem_(n).ext`` with the first n free, the stem shortened so that it fits 255
    characters; one query reads every key that could be taken."""
    stem, dot, ext = key.rpartition(".")
    stem, ext = (stem, f".{ext}") if dot and stem and len(ext) < 32 else (key, "")
    prefix = stem[:max(0, _KEY_MAX - len(ext) - 16)]
    taken = Resource.objects.filter(tenant=tenant, resource_type=kind, resource_key__startswith=prefix)
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    names = set(taken.values_list("resource_key", flat=True))
    candidate, n = key, 0
    while candidate in names:
        n += 1
        suffix = f"_({n}){ext}"
        candidate = stem[:_KEY_MAX - len(suffix)] + suffix
    return candidate


def store(resource: Resource, data: bytes) -> None:
    """Set the bytes of ``resource`` (not saved): checked (size, image), media type and etag."""
    check_size(len(data))
    media_type = MEDIA_TYPES.get(resource.resource_type, "application/octet-stream")
    if resource.resource_type == "IMAGE":
        media_type, descriptor = check_image(data)
        resource.descriptor = {**(resource.descriptor or {}), **descriptor}
        resource.resource_sub_type = resource.resource_sub_type or "IMAGE"
    resource.data, resource.media_type = data, media_type
    resource.etag = hashlib.sha256(data).hexdigest()


def create(user, kind: str, file_name: str, data: bytes, *, title=None, sub_type=None, key=None,
           descriptor=None, is_public=None) -> Resource:
    """A new resource of the caller's scope; its key is ``key`` (or the file name), made unique."""
    tenant = owner_tenant(user)
    for name, value in (("fileName", file_name), ("title", title), ("resourceKey", key)):
        if value is not None:
            text_field({name: value}, name)
    if kind == "IMAGE" and is_public is None:
        is_public = False
    resource = Resource(tenant=tenant, resource_type=kind, resource_sub_type=sub_type, file_name=file_name,
                        title=title or file_name, descriptor=descriptor, is_public=bool(is_public),
                        public_resource_key=secrets.token_urlsafe(24) if kind == "IMAGE" else None)
    store(resource, data)
    return _save_new(resource, key or file_name)


def _save_new(resource: Resource, key: str) -> Resource:
    for _ in range(3):  # two uploads of the same name at once: the loser takes the next suffix
        resource.resource_key = _unique_key(resource.tenant, resource.resource_type, safe_key(key))
        try:
            with transaction.atomic():
                resource.save()
            return resource
        except IntegrityError:
            continue
    raise ValidationError("A resource with such key already exists!")


def replace_data(resource: Resource, file_name: str | None, data: bytes) -> Resource:
    store(resource, data)
    if file_name:
        resource.file_name = text_field({"fileName": file_name}, "fileName")
    resource.save()
    return resource


def _choice(data: dict, name: str, choices, required: bool = False):
    value = data.get(name)
    if value is None and not required:
        return None
    if value not in choices:
        raise ValidationError(f"'{name}' must be one of: {', '.join(choices)}")
    return value


def save_resource(user, data) -> Resource:
    """``POST /api/resource``: a new resource (``resourceType``, ``title``, ``fileName``, ``data``), or
    with ``id`` an update of its title, descriptor and (when sent) its bytes."""
    if not isinstance(data, dict):
        raise ValidationError("Request body must be a JSON object")
    raw = data.get("id")
    raw = raw.get("id") if isinstance(raw, dict) else raw
    title = text_field(data, "title")
    descriptor = json_field(data, "descriptor")
    if raw:
        resource = get_visible(Resource.objects, user, pk=parse_uuid(raw))
        check_writable(user, resource)
        resource.title = title or resource.title
        if descriptor is not None:
            resource.descriptor = descriptor
        if data.get("data") is not None:
            return replace_data(resource, text_field(data, "fileName"), decode_data(data["data"]))
        resource.save()
        return resource
    kind = _choice(data, "resourceType", RESOURCE_TYPES, required=True)
    file_name = text_field(data, "fileName", required=True, message="Resource file name should be specified!")
    if data.get("data") is None:
        raise ValidationError("Resource data should be specified!")
    return create(user, kind, file_name, decode_data(data["data"]), title=title, descriptor=descriptor,
                  sub_type=_choice(data, "resourceSubType", SUB_TYPES), key=text_field(data, "resourceKey"),
                  is_public=data.get("public") if isinstance(data.get("public"), bool) else None)


def find_by_key(user, kind: str, scope: str, key: str) -> Resource:
    """A resource by ThingsBoard's (type, scope, key): scope ``system`` or ``tenant`` (the caller's)."""
    if scope not in ("system", "tenant"):
        raise ValidationError("The scope must be 'system' or 'tenant'")
    rows = Resource.objects.filter(tenant__isnull=scope == "system")
    return get_visible(rows, user, resource_type=kind, resource_key=key)


def set_public(resource: Resource, is_public: bool) -> Resource:
    resource.is_public = is_public
    resource.public_resource_key = resource.public_resource_key or secrets.token_urlsafe(24)
    resource.save(update_fields=["is_public", "public_resource_key", "version"])
    return resource


def link(resource: Resource) -> str:
    if resource.resource_type == "IMAGE":
        return f"/api/images/{resource.scope}/{resource.resource_key}"
    return f"/api/resource/{resource.resource_type.lower()}/{resource.scope}/{resource.resource_key}"


def public_link(resource: Resource) -> str | None:
    if resource.resource_type != "IMAGE" or not resource.is_public or not resource.public_resource_key:
        return None
    return f"/api/images/public/{resource.public_resource_key}"


def info_json(resource: Resource) -> dict:
    return {"id": entity_id("TB_RESOURCE", resource.pk), "createdTime": resource.created_time,
            "tenantId": entity_id("TENANT", resource.tenant_id), "customerId": None, "title": resource.title,
            "resourceType": resource.resource_type, "resourceSubType": resource.resource_sub_type,
            "resourceKey": resource.resource_key, "publicResourceKey": resource.public_resource_key,
            "etag": resource.etag, "fileName": resource.file_name, "descriptor": resource.descriptor,
            "link": link(resource), "name": resource.title, "public": resource.is_public,
            "publicLink": public_link(resource), "version": resource.version}


def resource_json(resource: Resource) -> dict:
    return {**info_json(resource), "data": base64.b64encode(bytes(resource.data)).decode("ascii")}


def safe_file_name(name: str) -> str:
    """A file name for a Content-Disposition header."""
    return re.sub(r'[^\w.\-() ]', "_", name)[:200] or "resource"


def delete(user, resource: Resource, force: bool) -> dict:
    """ThingsBoard's TbResourceDeleteResult / TbImageDeleteResult: refused (``success`` false, with the
    ``references``) while a dashboard or widget shows it, unless ``force``."""
    check_writable(user, resource)
    links = [link(resource)] + ([f"/api/images/public/{resource.public_resource_key}"]
                                if resource.public_resource_key else [])
    found = {} if force else references(resource, links)
    if found:
        return {"success": False, "references": found}
    resource.delete()
    return {"success": True}
