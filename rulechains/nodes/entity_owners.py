"""Customer and entity-group action nodes: ThingsBoard's "assign to customer" and "unassign from
customer" (CE), and ThingsBoard PE's "add to group" and "remove from group".

Each acts on the message originator, a device or asset of the batch's tenant (read once per
batch); one of another tenant, or one that no longer exists, fails as not found. Assigning does
what ``POST /api/customer/{customerId}/device/{id}`` does, group membership what
``POST /api/entityGroup/{id}/addEntities`` and ``deleteEntities`` do (a device joining or leaving a group
with an OTA package is told its package); neither publishes an event.
"""

from django.db import DatabaseError, OperationalError, transaction

from devices import group_owners
from devices.choices import GroupType
from devices.models import EntityGroup
from devices.ota.signals import change_members_fresh
from rulechains.messages import SUCCESS
from rulechains.nodes.base import BaseNode, NodeError, Out, bool_option, fail, field, substitute
from rulechains.nodes.entities import EntityKey, Targets, cache_seconds, pattern

__all__ = ["AssignToCustomerNode", "UnassignFromCustomerNode", "AddToGroupNode", "RemoveFromGroupNode"]

#: originator types ThingsBoard's customer nodes take, in its EntityType order (its error text lists them so)
_CUSTOMER_ORIGINATORS = ("DASHBOARD", "ASSET", "DEVICE", "ENTITY_VIEW", "EDGE")
_NOUNS = {"DEVICE": "Device", "ASSET": "Asset", "DASHBOARD": "Dashboard", "ENTITY_VIEW": "Entity view",
          "EDGE": "Edge", "CUSTOMER": "Customer"}


def _unsupported(msg, allowed) -> NodeError:
    return NodeError(f"Unsupported originator type '{msg.originator_type}'! Only {', '.join(allowed)} types are "
                     "allowed.")


def _missing_originator(msg) -> NodeError:
    noun = _NOUNS.get(msg.originator_type, msg.originator_type)
    return NodeError(f"{noun} with id [{msg.originator_id}] is not found")


class _OriginatorNode(BaseNode):
    """A node that changes its originator, a device or asset of the tenant: :meth:`resolve` finds
    (or creates) what it needs, then :meth:`apply` writes in a savepoint of its own, so that a
    refused write fails that message only."""

    group = "ACTION"
    side_effects = True
    #: originator types ThingsBoard accepts; others fail with its "Unsupported originator type" text
    originator_types: tuple = ("DEVICE", "ASSET")

    def process_batch(self, ctx, msgs):
        entities = ctx.originators([m for m in msgs if m.originator_type in ("DEVICE", "ASSET")])
        self.prepare(ctx, [m for m in msgs if m.originator_type in self.originator_types])
        outs = []
        for msg in msgs:
            try:
                if msg.originator_type not in self.originator_types:
                    raise _unsupported(msg, self.originator_types)
                outs.append(self.guarded(msg, entities.get(msg.originator_id), self.resolve(ctx, msg)))
            except NodeError as e:
                outs.append(fail(msg, e))
        return outs

    def prepare(self, ctx, msgs) -> None:
        """Hook: read what the batch's messages need, once."""

    def resolve(self, ctx, msg):
        """Hook: what :meth:`apply` needs for ``msg`` (a customer, a group); NodeError if there is none."""

    def guarded(self, msg, entity, target) -> list[Out]:
        if entity is None:
            raise _missing_originator(msg)
        try:
            with transaction.atomic():
                self.apply(entity, target)
        except OperationalError:
            raise
        except DatabaseError as e:
            return fail(msg, f"{type(e).__name__}: {e}"[:1024])
        return [Out(SUCCESS, msg)]

    def apply(self, entity, target) -> None:
        raise NotImplementedError


class AssignToCustomerNode(_OriginatorNode):
    """ThingsBoard's "assign to customer": assigns the originator to the customer titled
    ``customerNamePattern`` (``${metadataKey}``, ``$[dataKey]``), which is created first when
    missing and ``createCustomerIfNotExists`` is set; otherwise a missing customer is a Failure
    ("Customer with title 'x' doesn't exist!"). An entity assigned to another customer moves.
    Dashboards, entity views and edges are not kept here: such originators are never found."""

    label = "assign to customer"
    originator_types = _CUSTOMER_ORIGINATORS
    defaults = {"customerNamePattern": "", "createCustomerIfNotExists": False}
    fields = (field("customerNamePattern", label="Customer title pattern", help="${metadataKey}, $[dataKey]"),
              field("createCustomerIfNotExists", "bool", "Create new customer if it doesn't exist"))

    @classmethod
    def clean_config(cls, configuration):
        cache_seconds(configuration, "customerCacheExpiration")
        return {**configuration, "customerNamePattern": pattern(configuration, "customerNamePattern"),
                "createCustomerIfNotExists": bool_option(configuration, "createCustomerIfNotExists")}

    def prepare(self, ctx, msgs):
        self.customers = Targets(ctx.tenant_id, "CUSTOMER", create=self.config["createCustomerIfNotExists"])
        self.customers.prefetch(self.key(m) for m in msgs)

    def key(self, msg) -> EntityKey:
        return EntityKey("CUSTOMER", substitute(self.config["customerNamePattern"], msg))

    def resolve(self, ctx, msg):
        return self.customers.get(self.key(msg))

    def apply(self, entity, customer):
        if entity.customer_id != customer.pk:
            entity.customer_id = customer.pk
            entity.save(update_fields=["customer", "version"])


class UnassignFromCustomerNode(_OriginatorNode):
    """ThingsBoard's "unassign from customer": the originator goes back to the tenant; one that
    is not assigned stays as it is (Success). ``customerNamePattern`` only names the customer of
    a dashboard originator, and dashboards are not kept here."""

    label = "unassign from customer"
    originator_types = _CUSTOMER_ORIGINATORS
    defaults = {"customerNamePattern": ""}
    fields = (field("customerNamePattern", label="Customer title pattern", help="used for dashboards only"),)

    @classmethod
    def clean_config(cls, configuration):
        cache_seconds(configuration, "customerCacheExpiration")
        return {**configuration, "customerNamePattern": pattern(configuration, "customerNamePattern")}

    def resolve(self, ctx, msg):
        if msg.originator_type == "DASHBOARD" and not self.config["customerNamePattern"]:
            raise NodeError(f"Failed to unassign dashboard with id '{msg.originator_id}' from customer! "
                            "Customer title should be specified!")

    def apply(self, entity, target):
        if entity.customer_id is not None:
            entity.customer_id = None
            entity.save(update_fields=["customer", "version"])


class _GroupNode(_OriginatorNode):
    """The target group: ``groupNamePattern`` resolved per message, of the originator's type (a
    device group for a device) and of its owner: as in ThingsBoard PE, the node works in the scope of
    the originator's owner (a customer's device joins, or leaves, its customer's group of that name;
    a group holds its owner's entities only, devices/group_owners.py). ThingsBoard PE's customer
    groups do not exist in this product; the owner's "All" group (devices/all_groups.py) holds every entity of
    its owner already: adding to it changes nothing, "remove from current groups" and removing leave it."""

    #: ThingsBoard PE also groups customers; this product keeps device and asset groups only
    originator_types = (GroupType.DEVICE.value, GroupType.ASSET.value)
    create = False

    @classmethod
    def group_config(cls, configuration) -> dict:
        name = pattern(configuration, "groupNamePattern")
        cache_seconds(configuration, "groupCacheExpiration")
        return {**configuration, "groupNamePattern": name}

    def prepare(self, ctx, msgs):
        names = {substitute(self.config["groupNamePattern"], m) for m in msgs}
        rows = EntityGroup.objects.filter(tenant_id=ctx.tenant_id, name__in=names)  # every owner's
        self.groups = {(g.customer_id, g.type, g.name): g for g in rows}
        self.ctx = ctx

    def resolve(self, ctx, msg) -> tuple[str, str]:
        """(group type, name); the group is the originator's owner's (:meth:`guarded`)."""
        return msg.originator_type, substitute(self.config["groupNamePattern"], msg)

    def guarded(self, msg, entity, target) -> list[Out]:
        owner = entity.customer_id if entity is not None else None
        return super().guarded(msg, entity, self.group_of(owner, *target))

    def group_of(self, owner, group_type: str, name: str) -> EntityGroup:
        key = (owner, group_type, name)
        group = self.groups.get(key)
        if group is None and self.create:
            group = self.groups[key] = self.new_group(self.ctx, group_type, name, owner)
        if group is None:
            raise NodeError(f"Entity group with name '{name}' and type '{group_type}' doesn't exist!")
        return group

    @staticmethod
    def new_group(ctx, group_type: str, name: str, owner=None) -> EntityGroup:
        """A group of ``owner`` (a customer id; None: the tenant) created as POST /api/entityGroup creates it
        (get_or_create: racing workers make one)."""
        if not name.strip():
            raise NodeError("Failed to create entity group: Entity group name should be specified!")
        try:
            with transaction.atomic():
                return EntityGroup.objects.get_or_create(tenant_id=ctx.tenant_id, customer_id=owner, type=group_type,
                                                         name=name)[0]
        except OperationalError:
            raise
        except (DatabaseError, ValueError) as e:
            raise NodeError(f"Failed to create entity group with name '{name}' due to: {e}") from None


class AddToGroupNode(_GroupNode):
    """ThingsBoard PE's "add to group": adds the originator to the group named by
    ``groupNamePattern``, created first when missing and ``createGroupIfNotExists`` is set
    (otherwise Failure). ``removeFromCurrentGroups`` first takes it out of every other group."""

    label = "add to group"
    defaults = {"groupNamePattern": "", "createGroupIfNotExists": False, "removeFromCurrentGroups": False,
                "groupCacheExpiration": 300}
    fields = (field("groupNamePattern", label="Group name pattern", help="${metadataKey}, $[dataKey]"),
              field("createGroupIfNotExists", "bool", "Create new group if it doesn't exist"),
              field("removeFromCurrentGroups", "bool", "Remove from current groups"),
              field("groupCacheExpiration", "number", "Groups cache expiration time (s)"))

    @classmethod
    def clean_config(cls, configuration):
        return {**cls.group_config(configuration),
                "createGroupIfNotExists": bool_option(configuration, "createGroupIfNotExists"),
                "removeFromCurrentGroups": bool_option(configuration, "removeFromCurrentGroups")}

    @property
    def create(self) -> bool:
        return self.config["createGroupIfNotExists"]

    def apply(self, entity, group):
        if group_owners.foreign_member(group, [entity]) is not None:  # a group read before an owner change
            raise NodeError(group_owners.not_owned_message(entity.pk, group))
        others = list(entity.groups.exclude(pk=group.pk).exclude(group_all=True)) \
            if self.config["removeFromCurrentGroups"] else []

        def change():
            if others:
                entity.groups.remove(*others)
            group.members.add(entity)

        # a device joining (or leaving) a group with an OTA package is told its package, as the REST API tells it
        change_members_fresh([group, *others], [entity], change)


class RemoveFromGroupNode(_GroupNode):
    """ThingsBoard PE's "remove from group": takes the originator out of the group named by
    ``groupNamePattern``; Success also when it was not a member, Failure when there is no such group."""

    label = "remove from group"
    defaults = {"groupNamePattern": "", "groupCacheExpiration": 300}
    fields = (field("groupNamePattern", label="Group name pattern", help="${metadataKey}, $[dataKey]"),
              field("groupCacheExpiration", "number", "Groups cache expiration time (s)"))

    @classmethod
    def clean_config(cls, configuration):
        return cls.group_config(configuration)

    def apply(self, entity, group):
        if group.group_all:
            return  # ThingsBoard: an entity stays in its owner's "All" group
        change_members_fresh([group], [entity], lambda: group.members.remove(entity))

