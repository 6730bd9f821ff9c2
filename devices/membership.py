"""The one event for entity-group membership changes: :data:`group_members_changed` (re-exported by
devices/signals.py). Apps above devices/ subscribe to it rather than to ``m2m_changed`` on the membership tables:
any ``m2m_changed`` receiver there makes Django read a group's existing members before every ``.add()`` (the
integrations' auto-provisioning adds members on every uplink batch), and it never hears of the rows the "All"
groups' ``INSERT ... SELECT`` adds (devices/all_groups.py).

``group_members_changed.send(sender=<member model: Device, Asset, EntityView, the user model...>,
tenant_id=<UUID>, group_type="DEVICE" | "ASSET" | "ENTITY_VIEW" | ..., action="added" | "removed",
pairs=[(group id, entity id), ...])``: the pairs whose membership row was inserted or deleted (never one that
already was, or was not, there), one send per tenant, type and action, inside the transaction that changed them
(a receiver wanting the committed state uses ``transaction.on_commit``).

Sent from the paths of devices/ that change members: :func:`devices.ota.signals.change_members` and
``change_members_fresh`` (the group endpoints ``addEntities``/``deleteEntities``, entity saves with
``entityGroupId``, the owner endpoints, provisioning's ``groupName``, the rule engine's group nodes), an owner
change leaving its former owner's groups (devices/group_owners.py), every join of an "All" group
(devices/all_groups.py: new entities, owner changes, a deleted customer's entities; not the data migration), a
device moved to another tenant (devices/tenant_assign.py) and the admin's group form. Not sent: user groups
changed by roles/ and oauth/ on their own (user sign-in, roles and customers' default groups), dashboards joining
groups in dashboards/, and rows deleted by a cascade (an entity or a group deleted: their own post_delete).

Cost: nothing when no receiver listens for the member model (``has_listeners``); else, when the caller cannot say
which pairs change (``known``), one read of the affected rows before the change (and one after for a change
adding and removing at once).
"""

from django.dispatch import Signal

__all__ = ["group_members_changed", "ADDED", "REMOVED", "listened", "send", "track"]

group_members_changed = Signal()
ADDED, REMOVED = "added", "removed"


def _member_model(group_type: str):
    from devices import group_types

    return group_types.member_model(group_type)


def listened(group_type: str) -> bool:
    """Whether a receiver listens for members of ``group_type`` (no query)."""
    model = _member_model(group_type)
    return model is not None and group_members_changed.has_listeners(model)


def send(tenant_id, group_type: str, action: str, pairs) -> None:
    """Send ``pairs`` ((group id, entity id)) if there are any and someone listens."""
    pairs = list(pairs)
    if pairs and listened(group_type):
        group_members_changed.send(_member_model(group_type), tenant_id=tenant_id, group_type=group_type,
                                   action=action, pairs=pairs)


def _rows(groups: list, entity_ids: list) -> set:
    """The membership rows among ``groups`` (of one type) and ``entity_ids``: one query."""
    manager = groups[0].members
    source, target = manager.source_field_name, manager.target_field_name
    rows = manager.through.objects.filter(**{f"{source}_id__in": [g.pk for g in groups],
                                             f"{target}_id__in": entity_ids})
    return set(rows.values_list(f"{source}_id", f"{target}_id"))


def track(groups, entities, change, *, action: str | None = None, known: bool = False) -> None:
    """Run ``change()``, which adds ``entities`` to, or removes them from, any of ``groups``, and send what it
    changed. ``action`` ("added" or "removed"): what ``change()`` does (None: both, or unknown: the rows are read
    before and after). ``known``: every (group, entity) pair changes (new entities added, members just read
    removed): no read."""
    groups = [g for g in groups if listened(g.type)]
    if not groups:
        change()
        return
    tenants = {g.pk: g.tenant_id for g in groups}
    types = {g.pk: g.type for g in groups}
    asked = {(g.pk, e.pk) for g in groups for e in entities}
    by_type: dict = {}
    for group in groups:
        by_type.setdefault(group.type, []).append(group)
    ids = [e.pk for e in entities]
    if known and action:
        change()
        changed = {action: asked}
    else:
        before = set().union(*(_rows(same, ids) for same in by_type.values()))
        change()
        if action == ADDED:
            changed = {ADDED: asked - before}
        elif action == REMOVED:
            changed = {REMOVED: before & asked}
        else:
            after = set().union(*(_rows(same, ids) for same in by_type.values()))
            changed = {REMOVED: before - after, ADDED: after - before}
    for done, pairs in changed.items():
        split: dict = {}
        for pair in sorted(pairs, key=str):
            split.setdefault((tenants[pair[0]], types[pair[0]]), []).append(pair)
        for (tenant_id, group_type), some in split.items():
            send(tenant_id, group_type, done, some)
