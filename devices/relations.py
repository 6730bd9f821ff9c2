"""Entity relations: save, find, delete, always inside one tenant.

The API (devices/api/relations.py) resolves both ends to rows the caller may see before calling
here, so these functions take resolved entities and trust them.
"""

from django.db.models import Q

from devices.models import Asset, Device, EntityRelation
from tenants.models import Customer

__all__ = ["save", "find", "delete", "delete_all", "name_of", "search", "COMMON", "TYPE_GROUPS", "MAX_LEVEL"]

COMMON = "COMMON"
#: RelationTypeGroup of ThingsBoard's API (tb-pe-client 4.4)
TYPE_GROUPS = ("COMMON", "DASHBOARD", "FROM_ENTITY_GROUP", "RULE_CHAIN", "RULE_NODE", "EDGE",
               "EDGE_AUTO_ASSIGN_RULE_CHAIN", "AGENT")

#: deepest level a relation search walks (ThingsBoard's maxLevel 0 means "unbounded")
MAX_LEVEL = 10

_NAMED = {"DEVICE": (Device, "name"), "ASSET": (Asset, "name"), "CUSTOMER": (Customer, "title")}


def _ends(source, target) -> dict:
    return {"from_type": source.entity_type, "from_id": source.pk, "to_type": target.entity_type, "to_id": target.pk}


def save(tenant_id, source, target, rel_type: str, type_group: str = COMMON, additional_info=None) -> EntityRelation:
    """Create the relation, or update the additional info of the one that exists."""
    relation, _ = EntityRelation.objects.update_or_create(
        tenant_id=tenant_id, type=rel_type, type_group=type_group, **_ends(source, target),
        defaults={"additional_info": additional_info})
    return relation


def find(tenant_id, *, source=None, target=None, rel_type: str | None = None, type_group: str | None = None):
    """Relations from ``source`` and/or to ``target``, optionally of one type and type group."""
    rows = EntityRelation.objects.filter(tenant_id=tenant_id)
    if source is not None:
        rows = rows.filter(from_id=source.pk, from_type=source.entity_type)
    if target is not None:
        rows = rows.filter(to_id=target.pk, to_type=target.entity_type)
    if rel_type is not None:
        rows = rows.filter(type=rel_type)
    if type_group is not None:
        rows = rows.filter(type_group=type_group)
    return rows.order_by("type", "from_type", "to_type", "id")


def delete(tenant_id, source, target, rel_type: str, type_group: str = COMMON) -> EntityRelation | None:
    """Remove one relation; returns it, or None when there was none."""
    rows = find(tenant_id, source=source, target=target, rel_type=rel_type, type_group=type_group)
    relation = rows.first()
    if relation is not None:
        rows.delete()
    return relation


def delete_all(entity_id) -> int:
    """Every relation from or to the entity (its deletion, or DELETE /api/relations)."""
    return EntityRelation.objects.filter(Q(from_id=entity_id) | Q(to_id=entity_id)).delete()[0]


def name_of(entity_type: str, entity_id, tenant_id) -> str | None:
    """The display name of a relation's end (EntityRelationInfo's fromName/toName)."""
    model, field = _NAMED.get(entity_type, (None, None))
    if model is None:
        return None
    return model.objects.filter(tenant_id=tenant_id, pk=entity_id).values_list(field, flat=True).first()


#: the most ids one query of :func:`search` names (a level may reach many more: read in batches)
_BATCH = 500


def _level(tenant_id, frontier: set, forward: bool, type_group: str | None) -> list[EntityRelation]:
    """The relations from (``forward``) or to the frontier's entities: per entity type, ``IN``
    batches of ids (an OR per entity nests past SQLite's expression depth of 1000)."""
    by_type: dict[str, list] = {}
    for kind, pk in frontier:
        by_type.setdefault(kind, []).append(pk)
    found = []
    for kind, ids in sorted(by_type.items()):
        for start in range(0, len(ids), _BATCH):
            batch = ids[start:start + _BATCH]
            near = Q(from_type=kind, from_id__in=batch) if forward else Q(to_type=kind, to_id__in=batch)
            rows = EntityRelation.objects.filter(near, tenant_id=tenant_id)
            if type_group is not None:
                rows = rows.filter(type_group=type_group)
            found.extend(rows)
    return found


def search(tenant_id, root_type: str, root_id, *, direction: str = "FROM", max_level: int = 1,
           type_group: str | None = None, last_level_only: bool = False) -> list[EntityRelation]:
    """Relations reached from the root level by level (``direction`` FROM follows from->to), each
    entity visited once; with ``last_level_only`` only those of the deepest level reached."""
    levels = max_level if 0 < max_level <= MAX_LEVEL else MAX_LEVEL
    forward = direction == "FROM"
    frontier, seen, found = {(root_type, root_id)}, {(root_type, root_id)}, []
    for _ in range(levels):
        rows = _level(tenant_id, frontier, forward, type_group)
        level, frontier = [], set()
        for relation in sorted(rows, key=lambda r: (r.type, r.id)):
            far = (relation.to_type, relation.to_id) if forward else (relation.from_type, relation.from_id)
            if far not in seen:
                seen.add(far)
                frontier.add(far)
                level.append(relation)
        if not level:
            break
        found = level if last_level_only else found + level
    return found
