"""Entity fields (ENTITY_FIELD keys) per entity type (entity views included), as ThingsBoard names them.

Each entity type maps a field name either to a column (used in SQL for filters, sorting and text
search) or to a function of the row (computed: ownerName, ownerType, displayName, additionalInfo,
entityType), evaluated in Python. ThingsBoard's aliases are kept: a customer's or tenant's
``name``/``label`` is its title, a device's ``title`` is its name. A field the type does not
have answers "" (ThingsBoard selects ``''`` for it); ``id`` is not an entity field there either.
"""

import json
from dataclasses import dataclass

__all__ = ["Column", "fields_of", "field_value", "field_text", "column_of", "NAME_COLUMN", "SELECT_RELATED"]


@dataclass(frozen=True)
class Column:
    path: str
    numeric: bool = False


def _json(row) -> str:
    return json.dumps(row.additional_info or {}, separators=(",", ":"))


def _owner_name(row) -> str:
    return row.customer.title if row.customer_id else row.tenant.title


def _display_name(row) -> str:
    return (row.label or "").strip() or row.name


_CREATED = {"createdTime": Column("created_time", numeric=True)}
_LABELED = {
    **_CREATED, "name": Column("name"), "title": Column("name"), "type": Column("profile__name"),
    "label": Column("label"), "additionalInfo": _json, "displayName": _display_name, "ownerName": _owner_name,
    "ownerType": lambda row: "CUSTOMER" if row.customer_id else "TENANT",
}
_TITLED = {**_CREATED, "title": Column("title"), "name": Column("title"), "label": Column("title"),
           "displayName": Column("title"), "email": Column("email"), "additionalInfo": _json}
_CONTACT = {**_TITLED, **{name: Column(name) for name in ("country", "state", "city", "address", "address2", "zip",
                                                           "phone")}}
_GROUP = {**_CREATED, "name": Column("name"), "title": Column("name"), "displayName": Column("name"),
          "type": Column("type"), "additionalInfo": _json}
# an entity view has no label (ThingsBoard's "label" of one is ""); its type is its own column
_VIEW = {**_CREATED, "name": Column("name"), "title": Column("name"), "type": Column("type"),
         "displayName": Column("name"), "additionalInfo": _json, "ownerName": _owner_name,
         "ownerType": _LABELED["ownerType"]}
_FIELDS = {"DEVICE": _LABELED, "ASSET": _LABELED, "ENTITY_VIEW": _VIEW, "CUSTOMER": _CONTACT, "TENANT": _TITLED,
           "ENTITY_GROUP": _GROUP}
#: the column textSearch always reads, per entity type
NAME_COLUMN = {"DEVICE": "name", "ASSET": "name", "ENTITY_VIEW": "name", "CUSTOMER": "title", "TENANT": "title",
               "ENTITY_GROUP": "name"}
#: joins that rendering computed fields needs, per entity type (one query per page, not one per row)
SELECT_RELATED = {"DEVICE": ("profile", "customer", "tenant"), "ASSET": ("profile", "customer", "tenant"),
                  "ENTITY_VIEW": ("customer", "tenant")}


def fields_of(entity_type: str) -> dict:
    return _FIELDS[entity_type]


def column_of(entity_type: str, name: str) -> Column | None:
    """The column behind a field, or None for a computed (or unknown) one."""
    spec = _FIELDS[entity_type].get(name)
    return spec if isinstance(spec, Column) else None


def field_value(row, entity_type: str, name: str):
    """The field's raw value (a number for createdTime), None when the row has no such column."""
    if name == "entityType":
        return entity_type
    spec = _FIELDS[entity_type].get(name)
    if spec is None:
        return ""
    if isinstance(spec, Column):
        value = row
        for part in spec.path.split("__"):
            value = getattr(value, part, None)
        return value
    return spec(row)


def field_text(row, entity_type: str, name: str) -> str | None:
    """The field as ThingsBoard sends it: text (a number as digits), or null for an empty column."""
    value = field_value(row, entity_type, name)
    return None if value is None else str(value)
