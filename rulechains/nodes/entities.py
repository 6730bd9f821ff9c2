"""Relation action nodes: ThingsBoard's "create relation" and "delete relation".

Both find a target entity by a name pattern (``${metadataKey}``, ``$[data.path]``) and link the
message originator to it, or unlink it, with relations of ``relationType`` (also a pattern) in
the COMMON type group. ``direction`` FROM means originator -> target, TO target -> originator
(ThingsBoard 3.6+, node configuration version 1). A version-0 configuration (exported before
3.6, recognisable by its ``entityCacheExpiration`` key) meant the opposite, and ThingsBoard
flips its direction when it upgrades the node: so does :meth:`_RelationNode.__init__`.

The configuration helpers and the batch's target lookup (:class:`Targets`) are shared with the
customer and group nodes (rulechains/nodes/entity_owners.py).
"""

from dataclasses import replace
from typing import NamedTuple

from django.db import DatabaseError, IntegrityError, OperationalError, transaction

from devices import relations
from devices.models import DEFAULT_PROFILE, AssetProfile, DeviceProfile
from devices.provisioning import CreationForbidden, Provisioner
from rulechains.messages import SUCCESS
from rulechains.nodes.base import (
    BaseNode,
    ConfigError,
    NodeError,
    Out,
    bool_option,
    fail,
    field,
    int_option,
    substitute,
    text_option,
)
from tenants.models import Customer, User

__all__ = ["CreateRelationNode", "DeleteRelationNode", "Targets", "EntityKey", "pattern", "cache_seconds",
           "TARGET_TYPES", "not_found"]

#: ThingsBoard's target entity types of the relation nodes, in its EntityType order (its error text lists them so)
TARGET_TYPES = ("TENANT", "CUSTOMER", "USER", "DASHBOARD", "ASSET", "DEVICE", "ENTITY_VIEW", "EDGE")
#: how ThingsBoard names an entity of each type in its "doesn't exist" errors, and what it looks it up by
_NOUNS = {"DEVICE": ("Device", "name"), "ASSET": ("Asset", "name"), "CUSTOMER": ("Customer", "title"),
          "USER": ("User", "email"), "DASHBOARD": ("Dashboard", "title"), "ENTITY_VIEW": ("Entity View", "name"),
          "EDGE": ("Edge", "name")}
_FLIPPED = {"FROM": "TO", "TO": "FROM"}
_CREATABLE = ("DEVICE", "ASSET", "CUSTOMER")


def pattern(configuration: dict, key: str, default: str = "") -> str:
    """A text option that may hold ``${metadataKey}`` / ``$[data.path]`` templates ("" when missing)."""
    return text_option(configuration, key, default)


def cache_seconds(configuration: dict, key: str) -> int:
    """A cache expiration in seconds (``*CacheExpiration``). Accepted for the exports that carry
    it; nodes here read what they need once per batch and keep nothing between batches."""
    return int_option(configuration, key, 0, truncate=True)


def _unsupported(entity_type) -> str:
    shown = "null" if entity_type is None else str(entity_type)[:40]  # as ThingsBoard's Java prints it
    return f"Unsupported entity type '{shown}'! Only {' ,'.join(TARGET_TYPES)} types are allowed."


def not_found(entity_type: str, name: str) -> NodeError:
    noun, by = _NOUNS.get(entity_type, (entity_type, "name"))
    return NodeError(f"{noun} with {by} '{name}' doesn't exist!")


class EntityKey(NamedTuple):
    """What a message's target is: its type, its name (title, email) and, for a device or asset to
    create, its profile's name. Read by devices.provisioning.Provisioner like converter output."""

    entity_type: str
    name: str
    profile: str = ""
    label: str | None = None
    customer: str | None = None
    group: str | None = None


class _Ref(NamedTuple):
    """One end of a relation (devices.relations takes anything with these two attributes)."""

    entity_type: str
    pk: object


class Targets:
    """The target entities one batch names, each looked up (and created, if allowed) once.

    Devices and assets go through devices.provisioning.Provisioner (the integrations' creation
    path: profiles made by name, the known-entities cache); customers are found by title and
    created as POST /api/customer creates them; users are found by email within the tenant."""

    def __init__(self, tenant_id, entity_type: str, *, create: bool):
        self.tenant_id, self.entity_type = tenant_id, entity_type
        self.create = create and entity_type in _CREATABLE
        self.provisioner = (Provisioner(tenant_id, allow_create=self.create)
                            if entity_type in ("DEVICE", "ASSET") else None)
        self.found: dict[str, _Ref] = {}
        self._default: str | None = None  # the name of the tenant's default profile, once read

    def prefetch(self, keys) -> None:
        """Load (and create) the targets of ``keys`` (EntityKey, or None for a message without one)."""
        keys = [k for k in keys if k is not None]
        if self.provisioner is not None:
            self.provisioner.prefetch(self._with_profile(k) for k in keys if k.name.strip())
        elif self.entity_type == "CUSTOMER":
            titles = {k.name for k in keys}
            rows = Customer.objects.filter(tenant_id=self.tenant_id, title__in=titles).values_list("title", "pk")
            self.found.update({title: _Ref("CUSTOMER", pk) for title, pk in rows})
        elif self.entity_type == "USER":
            emails = {k.name for k in keys}
            rows = User.objects.filter(tenant_id=self.tenant_id, email__in=emails).values_list("email", "pk")
            self.found.update({email: _Ref("USER", pk) for email, pk in rows})

    def get(self, key: EntityKey) -> _Ref:
        """The target ``key`` names; NodeError with ThingsBoard's text when there is none."""
        if self.entity_type == "TENANT":
            return _Ref("TENANT", self.tenant_id)
        if self.provisioner is not None:
            return self._device_or_asset(key)
        found = self.found.get(key.name)
        if found is None and self.create:
            found = self.found[key.name] = self._new_customer(key.name)
        if found is None:
            raise not_found(self.entity_type, key.name)
        return found

    def _device_or_asset(self, key: EntityKey):
        noun = _NOUNS[key.entity_type][0]
        if not key.name.strip():
            if self.create:
                raise NodeError(f"Failed to create {noun.lower()} with name '{key.name}' due to: "
                                f"{noun} name should be specified!")
            raise not_found(key.entity_type, key.name)
        try:
            return self.provisioner.entity(self._with_profile(key))
        except CreationForbidden:
            raise not_found(key.entity_type, key.name) from None
        except OperationalError:
            raise
        except (DatabaseError, ValueError) as e:
            raise NodeError(f"Failed to create {noun.lower()} with name '{key.name}' due to: {e}") from None

    def _with_profile(self, key: EntityKey) -> EntityKey:
        """ThingsBoard gives a device or asset created without a type the tenant's default profile."""
        if key.profile or not self.create:
            return key
        if self._default is None:
            model = DeviceProfile if self.entity_type == "DEVICE" else AssetProfile
            rows = model.objects.filter(tenant_id=self.tenant_id, is_default=True).values_list("name", flat=True)
            self._default = rows.first() or DEFAULT_PROFILE
        return key._replace(profile=self._default)

    def _new_customer(self, title: str) -> _Ref:
        if not title.strip():
            raise NodeError(f"Failed to create customer with title '{title}' due to: Customer title should be "
                            "specified!")
        try:
            with transaction.atomic():
                customer, _ = Customer.objects.get_or_create(tenant_id=self.tenant_id, title=title)
        except OperationalError:
            raise
        except (DatabaseError, ValueError) as e:
            raise NodeError(f"Failed to create customer with title '{title}' due to: {e}") from None
        return _Ref("CUSTOMER", customer.pk)


class _RelationNode(BaseNode):
    """What the create and delete relation nodes share: the configuration and the target lookup."""

    group = "ACTION"
    side_effects = True
    #: the node needs a target entity (delete relation only with ``deleteForSingleEntity``)
    needs_target = True
    #: whether a missing target is created (create relation's ``createEntityIfNotExists``)
    create = False

    def __init__(self, row):
        super().__init__(row)
        raw = row.configuration or {}
        if not getattr(row, "configuration_version", 0) and isinstance(raw, dict) and "entityCacheExpiration" in raw:
            self.config = {**self.config, "direction": _FLIPPED[self.config["direction"]]}

    @classmethod
    def clean_config(cls, configuration):
        direction = configuration.get("direction") or "FROM"
        if not isinstance(direction, str) or direction not in _FLIPPED:
            raise ConfigError(f"direction must be FROM or TO, got {str(direction)[:40]!r}")
        relation_type = pattern(configuration, "relationType", "Contains")
        if not relation_type.strip():
            raise ConfigError("relationType must not be empty")
        entity_type = configuration.get("entityType")
        # None is ThingsBoard's default (the form makes one choose): its messages fail, see process_batch
        if cls.needs_target_of(configuration) and entity_type is not None and entity_type not in TARGET_TYPES:
            raise ConfigError(_unsupported(entity_type))
        cache_seconds(configuration, "entityCacheExpiration")
        return {**configuration, "direction": direction, "relationType": relation_type, "entityType": entity_type,
                "entityNamePattern": pattern(configuration, "entityNamePattern"),
                "entityTypePattern": pattern(configuration, "entityTypePattern")}

    @classmethod
    def needs_target_of(cls, configuration) -> bool:
        return cls.needs_target

    def key(self, msg) -> EntityKey:
        config = self.config
        return EntityKey(config["entityType"], substitute(config["entityNamePattern"], msg),
                         substitute(config["entityTypePattern"], msg))

    def process_batch(self, ctx, msgs):
        # the originator is the tenant's: the engine admits no other (rulechains/originators.py)
        if not self.needs_target_of(self.config):
            return [self.guarded(ctx, msg, None) for msg in msgs]
        if self.config["entityType"] is None:
            return [fail(msg, _unsupported(None)) for msg in msgs]
        targets = Targets(ctx.tenant_id, self.config["entityType"], create=self.create)
        keys = [self.key(msg) for msg in msgs]
        targets.prefetch(keys)  # a refused batch insert is left to Targets.get, one by one (Provisioner)
        outs = []
        for msg, key in zip(msgs, keys, strict=True):
            try:
                target = targets.get(key)
            except NodeError as e:
                outs.append(fail(msg, e))
                continue
            outs.append(self.guarded(ctx, msg, target))
        return outs

    def guarded(self, ctx, msg, target) -> list[Out]:
        """:meth:`act` in its own savepoint: a refused write fails that message only."""
        try:
            with transaction.atomic():
                return self.act(ctx, msg, target)
        except OperationalError:
            raise
        except DatabaseError as e:
            return fail(msg, f"{type(e).__name__}: {e}"[:1024])

    def act(self, ctx, msg, target) -> list[Out]:
        raise NotImplementedError

    def ends(self, msg, target) -> tuple:
        """(from, to) of the relation between the originator and ``target`` by ``direction``."""
        origin = _Ref(msg.originator_type, msg.originator_id)
        return (origin, target) if self.config["direction"] == "FROM" else (target, origin)

    def originator_relations(self, ctx, msg, relation_type: str):
        """The originator's COMMON relations of ``relation_type`` in ``direction`` (FROM: from it)."""
        origin = _Ref(msg.originator_type, msg.originator_id)
        side = "source" if self.config["direction"] == "FROM" else "target"
        return relations.find(ctx.tenant_id, rel_type=relation_type, type_group=relations.COMMON, **{side: origin})


class CreateRelationNode(_RelationNode):
    """ThingsBoard's "create relation": finds the target (``entityType`` + ``entityNamePattern``;
    TENANT is the tenant itself) and creates the relation unless it exists; Success either way.
    ``createEntityIfNotExists`` creates a missing DEVICE or ASSET (with the profile named by
    ``entityTypePattern``, or the default one) or CUSTOMER. ``removeCurrentRelations`` first
    deletes the originator's other relations of that type and direction.
    ``changeOriginatorToRelatedEntity`` sends the message on as the target's. No target: Failure
    ("Device with name 'x' doesn't exist!"). Entity views, dashboards and edges are not kept
    here, so they are never found."""

    label = "create relation"
    defaults = {"direction": "FROM", "relationType": "Contains", "entityType": None, "entityNamePattern": "",
                "entityTypePattern": None, "createEntityIfNotExists": False, "removeCurrentRelations": False,
                "changeOriginatorToRelatedEntity": False}
    fields = (field("direction", "select", "Direction", choices=("FROM", "TO"),
                    help="FROM: originator -> target; TO: target -> originator"),
              field("relationType", label="Relation type pattern"),
              field("entityType", "select", "Target entity type", choices=TARGET_TYPES),
              field("entityNamePattern", label="Name pattern", help="name, title or email; ${metadataKey}, $[dataKey]"),
              field("entityTypePattern", label="Profile name pattern", help="for a device or asset created here"),
              field("createEntityIfNotExists", "bool", "Create new entity if it doesn't exist"),
              field("removeCurrentRelations", "bool", "Remove current relations"),
              field("changeOriginatorToRelatedEntity", "bool", "Change originator to target entity"))

    @classmethod
    def clean_config(cls, configuration):
        config = super().clean_config(configuration)
        for key in ("createEntityIfNotExists", "removeCurrentRelations", "changeOriginatorToRelatedEntity"):
            config[key] = bool_option(configuration, key)
        return config

    @property
    def create(self) -> bool:
        return self.config["createEntityIfNotExists"]

    def act(self, ctx, msg, target):
        relation_type = substitute(self.config["relationType"], msg)
        if self.config["removeCurrentRelations"]:
            self.originator_relations(ctx, msg, relation_type).delete()
        source, dest = self.ends(msg, target)
        if not relations.find(ctx.tenant_id, source=source, target=dest, rel_type=relation_type,
                              type_group=relations.COMMON).exists():
            try:
                with transaction.atomic():
                    relations.save(ctx.tenant_id, source, dest, relation_type)
            except IntegrityError:
                pass  # another worker created it meanwhile: it exists, as wanted
        if self.config["changeOriginatorToRelatedEntity"]:
            msg = replace(msg, originator_type=target.entity_type, originator_id=target.pk, stored=False)
        return [Out(SUCCESS, msg)]


class DeleteRelationNode(_RelationNode):
    """ThingsBoard's "delete relation": with ``deleteForSingleEntity`` deletes the relation
    between the originator and the target (found as by "create relation", never created; none:
    Failure); without, deletes all the originator's relations of ``relationType`` in
    ``direction``. Success also when there was nothing to delete."""

    label = "delete relation"
    defaults = {"deleteForSingleEntity": False, "direction": "FROM", "relationType": "Contains",
                "entityType": None, "entityNamePattern": "", "entityTypePattern": None}
    fields = (field("deleteForSingleEntity", "bool", "Delete relation with specific entity"),
              field("direction", "select", "Direction", choices=("FROM", "TO"),
                    help="FROM: originator -> target; TO: target -> originator"),
              field("relationType", label="Relation type pattern"),
              field("entityType", "select", "Target entity type", choices=TARGET_TYPES),
              field("entityNamePattern", label="Name pattern", help="name, title or email; ${metadataKey}, $[dataKey]"))

    @classmethod
    def clean_config(cls, configuration):
        config = super().clean_config(configuration)
        config["deleteForSingleEntity"] = bool_option(configuration, "deleteForSingleEntity")
        return config

    @classmethod
    def needs_target_of(cls, configuration) -> bool:
        return bool_option(configuration, "deleteForSingleEntity")

    def act(self, ctx, msg, target):
        relation_type = substitute(self.config["relationType"], msg)
        if target is None:
            self.originator_relations(ctx, msg, relation_type).delete()
        else:
            source, dest = self.ends(msg, target)
            relations.delete(ctx.tenant_id, source, dest, relation_type)
        return [Out(SUCCESS, msg)]
