"""The widget library: ThingsBoard's widgets bundles and widget types, as JSON in and out.

    save_bundle(user, data)                  WidgetsBundle JSON -> bundle (id in body = update)
    save_widget_type(user, data, by_fqn)     WidgetTypeDetails JSON -> widget type (``updateExistingByFqn``)
    set_bundle_types(user, bundle, types)    a bundle's widget types, in this order
    bundle_json / type_json / details_json / info_json   the answers

A widget type's ``fqn`` is unique in its scope (the system's, or one tenant's); dashboards name it with
its scope qualifier (``typeFullFqn``: ``system.cards.timeseries_table``, ``tenant.my_gauge``), which
``find_by_fqn`` reads, as ``GET /api/widgetType?fqn=`` does in ThingsBoard. The descriptor is kept as the
JSON text sent, key order and all, and served back unchanged.
"""

import re

from django.db import IntegrityError, transaction
from django.db.models import Q
from rest_framework.exceptions import NotFound, ValidationError

from dashboards.library import bool_field, check_writable, get_visible, int_field, json_field, owner_tenant, text_field
from dashboards.models import BundleWidget, WidgetsBundle, WidgetType
from tbproject.api.ids import entity_id, parse_uuid
from tbproject.jsontext import compact

__all__ = ["save_bundle", "save_widget_type", "set_bundle_types", "types_by_fqns", "find_by_fqn", "bundle_types",
           "bundle_json", "type_json", "details_json", "info_json", "filter_types"]

MAX_LONG_TEXT = 1024 * 1024
WIDGET_KINDS = ("timeseries", "latest", "rpc", "alarm", "static")


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "widget"


def _unique(model, tenant, field: str, base: str, exclude=None) -> str:
    """``base``, or ``base_1``, ``base_2``... the first one free in the owner's scope, ``base`` shortened so
    that the result fits the field (one query)."""
    limit = model._meta.get_field(field).max_length
    base = base[:limit]
    taken = model.objects.filter(tenant=tenant, **{f"{field}__startswith": base[:max(0, limit - 14)]})
    if exclude is not None:
        taken = taken.exclude(pk=exclude)
    names = set(taken.values_list(field, flat=True))
    candidate, n = base, 0
    while candidate in names:
        n += 1
        candidate = f"{base[:limit - len(str(n)) - 1]}_{n}"
    return candidate


def _instance(model, user, data: dict):
    """The row a save names by ``id`` (a writable one), or None for a new one."""
    raw = data.get("id")
    raw = raw.get("id") if isinstance(raw, dict) else raw
    if not raw:
        return None
    obj = get_visible(model.objects, user, pk=parse_uuid(raw))
    check_writable(user, obj)
    return obj


def save_bundle(user, data) -> WidgetsBundle:
    """Create or update a widgets bundle; a new one without an alias (or with a taken one) gets one from its title."""
    if not isinstance(data, dict):
        raise ValidationError("Request body must be a JSON object")
    bundle = _instance(WidgetsBundle, user, data)
    tenant = owner_tenant(user) if bundle is None else bundle.tenant
    title = text_field(data, "title", required=True, message="Widgets bundle title should be specified!")
    alias = text_field(data, "alias")
    fields = {"title": title, "image": text_field(data, "image", max_length=MAX_LONG_TEXT),
              "description": text_field(data, "description", max_length=MAX_LONG_TEXT),
              "order": int_field(data, "order"), "scada": bool_field(data, "scada")}
    if bundle is None:
        bundle = WidgetsBundle(tenant=tenant, **fields)
        bundle.alias = _unique(WidgetsBundle, tenant, "alias", alias or _slug(title))
    else:
        for name, value in fields.items():
            setattr(bundle, name, value)
        bundle.alias = alias or bundle.alias
    try:
        with transaction.atomic():
            bundle.save()
    except IntegrityError:
        raise ValidationError("Widgets bundle with such alias already exists!") from None
    return bundle


def _descriptor(data: dict) -> tuple[str, str]:
    value = json_field(data, "descriptor")
    if value is None:
        raise ValidationError("Widgets type descriptor should be specified!")
    if not isinstance(value, dict):
        raise ValidationError("'descriptor' must be a JSON object")
    kind = value.get("type")
    return compact(value), kind if isinstance(kind, str) and len(kind) <= 32 else ""


def _tags(data: dict):
    tags = json_field(data, "tags")
    if tags is not None and (not isinstance(tags, list) or not all(isinstance(t, str) and len(t) <= 255 for t in tags)):
        raise ValidationError("'tags' must be a list of strings")
    return tags


def save_widget_type(user, data, update_existing_by_fqn: bool = False) -> WidgetType:
    """Create or update a widget type. Without an id and with ``update_existing_by_fqn``, the one of the
    same fqn in the caller's scope is updated (how a bundle import replaces what it imported before)."""
    if not isinstance(data, dict):
        raise ValidationError("Request body must be a JSON object")
    widget = _instance(WidgetType, user, data)
    tenant = owner_tenant(user) if widget is None else widget.tenant
    fqn = text_field(data, "fqn")
    if fqn is not None and not re.fullmatch(r"[\w.\-]+", fqn):
        raise ValidationError("'fqn' may hold letters, digits, '_', '-' and '.' only")
    if widget is None and fqn and update_existing_by_fqn:
        widget = WidgetType.objects.filter(tenant=tenant, fqn=fqn).first()
    descriptor_text, kind = _descriptor(data)
    fields = {"name": text_field(data, "name", required=True, message="Widgets type name should be specified!"),
              "deprecated": bool_field(data, "deprecated"), "scada": bool_field(data, "scada"),
              "image": text_field(data, "image", max_length=MAX_LONG_TEXT),
              "description": text_field(data, "description", max_length=MAX_LONG_TEXT),
              "tags": _tags(data), "descriptor_text": descriptor_text, "widget_kind": kind}
    try:
        with transaction.atomic():
            if widget is None:
                widget = WidgetType(tenant=tenant, **fields)
                widget.fqn = fqn or _unique(WidgetType, tenant, "fqn", _slug(fields["name"]))
            else:
                for name, value in fields.items():
                    setattr(widget, name, value)
                widget.fqn = fqn or widget.fqn
            widget.save()
    except IntegrityError:
        raise ValidationError("Widget type with such fqn already exists!") from None
    return widget


def find_by_fqn(user, fqn: str) -> WidgetType:
    """``system.<fqn>`` or ``tenant.<fqn>`` (ThingsBoard's qualified form); a bare fqn is looked up in the
    caller's tenant first, then in the system's."""
    scope, _, rest = fqn.partition(".")
    if scope == "system" and rest:
        return get_visible(WidgetType.objects.filter(tenant__isnull=True), user, fqn=rest)
    if scope == "tenant" and rest:
        return get_visible(WidgetType.objects.filter(tenant__isnull=False), user, fqn=rest)
    return get_visible(WidgetType.objects, user, fqn=fqn)


def types_by_fqns(user, fqns) -> list[WidgetType]:
    if not isinstance(fqns, list) or not all(isinstance(f, str) for f in fqns):
        raise ValidationError("The body must be a JSON array of widget type fqns")
    return [find_by_fqn(user, f) for f in dict.fromkeys(fqns)]


def types_by_ids(user, ids) -> list[WidgetType]:
    if not isinstance(ids, list) or not all(isinstance(i, str | dict) for i in ids):
        raise ValidationError("The body must be a JSON array of widget type ids")
    raw = [i.get("id") if isinstance(i, dict) else i for i in ids]
    return [get_visible(WidgetType.objects, user, pk=parse_uuid(r)) for r in dict.fromkeys(raw)]


def set_bundle_types(user, bundle: WidgetsBundle, types: list[WidgetType]) -> None:
    """The bundle holds exactly ``types``, in this order (a tenant's bundle may hold system widget types)."""
    check_writable(user, bundle)
    if any(t.tenant_id not in (None, bundle.tenant_id) for t in types):
        raise NotFound("Requested item wasn't found!")
    with transaction.atomic():
        BundleWidget.objects.filter(bundle=bundle).delete()
        BundleWidget.objects.bulk_create(
            [BundleWidget(bundle=bundle, widget_type=t, position=i) for i, t in enumerate(types)])


def bundle_types(bundle: WidgetsBundle):
    return WidgetType.objects.filter(bundle_rows__bundle=bundle).order_by("bundle_rows__position")


def filter_types(queryset, *, deprecated: str = "ALL", kinds=None, full_search: bool = False, text: str = ""):
    """ThingsBoard's widget type filters: ``deprecatedFilter`` (ALL, ACTUAL, DEPRECATED), ``widgetTypeList``
    and ``fullSearch`` (the text in the name, description or tags, not only the name)."""
    if deprecated == "ACTUAL":
        queryset = queryset.filter(deprecated=False)
    elif deprecated == "DEPRECATED":
        queryset = queryset.filter(deprecated=True)
    if kinds:
        queryset = queryset.filter(widget_kind__in=kinds)
    if full_search and text:
        queryset = queryset.filter(Q(name__icontains=text) | Q(description__icontains=text) | Q(fqn__icontains=text))
    return queryset


def _base(obj, entity_type: str) -> dict:
    return {"id": entity_id(entity_type, obj.pk), "createdTime": obj.created_time,
            "tenantId": entity_id("TENANT", obj.tenant_id)}


def bundle_json(bundle: WidgetsBundle) -> dict:
    return {**_base(bundle, "WIDGETS_BUNDLE"), "alias": bundle.alias, "title": bundle.title, "image": bundle.image,
            "scada": bundle.scada, "description": bundle.description, "order": bundle.order,
            "version": bundle.version, "name": bundle.title, "externalId": None}


def type_json(widget: WidgetType) -> dict:
    return {**_base(widget, "WIDGET_TYPE"), "fqn": widget.fqn, "name": widget.name, "deprecated": widget.deprecated,
            "scada": widget.scada, "version": widget.version, "descriptor": widget.descriptor}


def details_json(widget: WidgetType) -> dict:
    return {**type_json(widget), "image": widget.image, "description": widget.description, "tags": widget.tags,
            "externalId": None}


def info_json(widget: WidgetType, bundles=None) -> dict:
    data = type_json(widget)
    del data["descriptor"]
    data.update({"image": widget.image, "description": widget.description, "tags": widget.tags,
                 "widgetType": widget.widget_kind or None})
    if bundles is not None:
        data["bundles"] = [{"id": entity_id("WIDGETS_BUNDLE", b.pk), "name": b.title} for b in bundles]
    return data
