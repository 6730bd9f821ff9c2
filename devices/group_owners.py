"""Entity groups hold their owner's entities only, as in ThingsBoard PE: a group belongs to the tenant or to one
of its customers (``EntityGroup.customer``), and a device, asset, entity view or user joins only the groups of its
own owner (its ``customer``; none: the tenant's). A customer's device is in no tenant group, a tenant's device in no
customer's group.

* :func:`check_members` is asked by every path that adds members (``POST /api/entityGroup/{id}/addEntities``, an
  entity saved with ``entityGroupId(s)``, ``POST /api/owner/...`` with group ids, auto-provisioning's ``groupName``,
  the "add to group" rule node, the admin); a member of another owner is refused (:class:`NotOwned`, a 400 in the
  API) and nothing is added.
* An owner change (``POST /api/owner/...``, assign and unassign, claiming, the customer nodes, the admin, a save
  with another ``customerId``) takes the entity out of its former owner's groups in the same save (a post_save
  receiver comparing the owner it was loaded with, :func:`owner_saved`; a device leaving a group with an OTA
  package is told its package), its former owner's "All" group with them, and joins its new owner's "All" group
  (devices/all_groups.py); users join the new customer's "All" user group in roles/moved_users.py.

Dashboards are not covered: a dashboard here has no single owner (it is the tenant's, assigned to customers); a
customer's dashboard group takes the dashboards assigned to that customer (devices/api/groups.py).
"""

from django.db import models

from devices import all_groups

__all__ = ["OWNED_TYPES", "NotOwned", "not_owned_message", "foreign_member", "check_members", "owner_saved",
           "leave_foreign_groups", "remember_owner"]

#: group types whose members have one owner, their ``customer_id`` (none: the tenant)
OWNED_TYPES = ("DEVICE", "ASSET", "ENTITY_VIEW", "USER")
#: the owner an entity was loaded with (set by the models' ``from_db``)
LOADED = "_tb_loaded_owner"
#: member model label -> its group type
GROUP_TYPES = {label: kind for kind, (label, _) in all_groups.MODELS.items()}
_UNKNOWN = object()


class NotOwned(ValueError):
    """A member of another owner than the group's."""


def not_owned_message(entity_pk, group) -> str:
    return f"Entity [{entity_pk}] is not owned by the owner of entity group [{group.name}]"


def foreign_member(group, entities):
    """The first of ``entities`` (model rows) whose owner is not ``group``'s, or None. Types without one owner
    (dashboards) and rows of another model are left to their callers."""
    if group.type not in OWNED_TYPES:
        return None
    return next((e for e in entities if getattr(e, "customer_id", None) != group.customer_id
                 or getattr(e, "tenant_id", None) != group.tenant_id), None)


def check_members(group, entities) -> None:
    """Raise :class:`NotOwned` (ThingsBoard's rule) if any of ``entities`` belongs to another owner than ``group``."""
    foreign = foreign_member(group, entities)
    if foreign is not None:
        raise NotOwned(not_owned_message(foreign.pk, group))


def remember_owner(instance, field_names) -> None:
    """Called from ``from_db``: keep the owner the row was loaded with (no query)."""
    if "customer_id" in field_names:
        instance.__dict__[LOADED] = instance.__dict__.get("customer_id")


def leave_foreign_groups(entity) -> int:
    """Take ``entity`` (a device, asset or entity view) out of the groups of any owner but its own; returns how
    many it left. One query when it is in none; a device leaving a group with an OTA package is told its package."""
    from devices.ota.signals import change_members_fresh

    owner = entity.customer_id
    foreign = list(entity.groups.exclude(customer_id=owner).only("pk", "type", "ota_assigned"))
    if not foreign:
        return 0
    change_members_fresh(foreign, [entity], lambda: entity.groups.remove(*foreign), action="removed", known=True)
    return len(foreign)


def owner_saved(sender, instance, created: bool, raw: bool = False, update_fields=None, **kwargs) -> None:
    """post_save of Device, Asset and EntityView: an entity whose owner changed leaves its former owner's groups.

    Owner changes must go through ``save()``: ``QuerySet.update()`` and ``bulk_update()`` send no post_save, so an
    entity moved that way would stay in its former owner's groups (call :func:`leave_foreign_groups` after one)."""
    if update_fields is not None and not {"customer", "customer_id"} & set(update_fields):
        return  # the owner was not saved: compared at a later save
    loaded = instance.__dict__.get(LOADED, _UNKNOWN)
    instance.__dict__[LOADED] = instance.customer_id
    if created or raw or loaded is _UNKNOWN or loaded == instance.customer_id:
        return
    leave_foreign_groups(instance)
    all_groups.join(GROUP_TYPES[type(instance)._meta.label], [instance])  # the new owner's "All"


def connect(*senders: type[models.Model]) -> None:
    for sender in senders:
        models.signals.post_save.connect(owner_saved, sender=sender,
                                         dispatch_uid=f"devices.group_owners.{sender._meta.label_lower}")
