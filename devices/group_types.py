"""What each entity-group type holds: group type -> the relation of ``EntityGroup`` naming its members.

devices/ holds devices, assets and entity views (``EntityGroup.devices``, ``.assets``, ``.entity_views``).
An app above devices/ whose entities join groups declares the many-to-many on its own side (``Dashboard.groups``, with
``related_name="dashboards"``) and registers that relation here from its ``AppConfig.ready()``:
devices/ may not import it, yet its group endpoints serve every registered type alike.

A member model shows its display name through ``group_name_field`` ("name" unless it says otherwise:
a dashboard's is its ``title``), which group listings search and sort by.
"""

from django.apps import apps

__all__ = ["register", "relation", "member_model", "member_types", "name_field"]

_RELATIONS: dict[str, str] = {"DEVICE": "devices", "ASSET": "assets", "ENTITY_VIEW": "entity_views"}
#: member model -> its name field, for a model registered with one (a user's is its ``email``)
_NAME_FIELDS: dict = {}


def register(group_type: str, relation_name: str, name_field: str | None = None) -> None:
    """Groups of ``group_type`` hold the rows of ``EntityGroup.<relation_name>`` (a forward or reverse many-to-many);
    ``name_field`` names its members' display name when the model cannot say it (a model of a lower app)."""
    _RELATIONS[group_type] = relation_name
    if name_field:
        _NAME_FIELDS[member_model(group_type)] = name_field


def relation(group_type: str) -> str | None:
    return _RELATIONS.get(group_type)


def member_types() -> tuple[str, ...]:
    return tuple(_RELATIONS)


def member_model(group_type: str):
    """The model a group of ``group_type`` holds, or None for a type no installed app registered."""
    name = _RELATIONS.get(group_type)
    if name is None:
        return None
    return apps.get_model("devices", "EntityGroup")._meta.get_field(name).related_model


def name_field(model) -> str:
    return _NAME_FIELDS.get(model) or getattr(model, "group_name_field", "name")
