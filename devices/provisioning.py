"""Auto-provisioning: the devices and assets that converter output names, found or created.

ThingsBoard's semantics (reference section 7):

- An entity is looked up by name within the tenant; devices and assets are separate namespaces.
- Found: it is used as it is. Its profile, customer, group and label are never changed, whatever
  later converter output says.
- Not found: it is created only when the integration allows it (``allowCreateDevicesOrAssets``);
  otherwise the caller ignores that entity's data. A new entity gets the named profile
  (``deviceType``/``assetType``), customer (``customerName``) and group (``groupName``, of the
  entity's type and owner: the customer's group when it names a customer, else the tenant's), each created
  first when missing, and its label.
- Past the tenant profile's maxDevices, maxAssets or maxCustomers, creating fails with ThingsBoard's text
  ("Assets limit reached", a ValueError): the pipeline fails only the message naming that entity. A batch
  asks the room left once (tenants/limits/entities.py's room_left), inserts that many of its new entities
  in message order (counted again after the INSERT, the tenant locked until commit) and fails the rest
  without another query. The provisioner
  then knows the type is full for the rest of its batch, and this process for FULL_SECONDS after the commit
  (forgotten at once when the tenant's profile changes or one of its devices or assets is deleted here;
  another process's delete is seen within FULL_SECONDS).
- Concurrent first messages from one new device create it once: creation relies on the
  (tenant, name) unique constraints, and a loser of the race reads the winner's row. The same
  holds for profiles, customers and groups. A new entity and its group membership (and a new
  device's access token, devices/credentials.py) are committed together, before the caller writes
  any data.

One :class:`Provisioner` serves one batch of one tenant and caches what it found or created, so
a batch touching 500 known devices costs one query per entity type, and one naming 500 new ones
an INSERT and a read-back per entity type (plus their groups, one INSERT ... SELECT into their owners' "All"
groups, devices/all_groups.py, and one INSERT of the new devices' access tokens)::

    provisioner = Provisioner(tenant_id, allow_create=True)
    provisioner.prefetch(updates)              # one SELECT per entity type for the unknown names
    entity = provisioner.entity(updates[0])    # EntityRef(entity_type, pk, name, profile)
"""

import itertools
from collections.abc import Iterable
from functools import partial
from typing import NamedTuple
from uuid import UUID

from django.db import DatabaseError, IntegrityError, OperationalError, transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from devices import all_groups, credentials, device_quota, known
from devices.choices import GroupType
from devices.models import Asset, AssetProfile, Device, DeviceProfile, EntityGroup
from devices.ota import signals as ota_signals
from tbproject.process_cache import ProcessCache
from tenants.limits import entities as entity_limits
from tenants.models import Customer, Tenant, TenantProfile

__all__ = ["Provisioner", "EntityRef", "CreationForbidden", "forbidden_message", "entities_provisioned"]

#: Sent (sender: Provisioner) once per :meth:`Provisioner.prefetch` that inserted devices or assets in bulk
#: (``bulk_create`` sends no post_save), after their INSERT: ``tenant_id`` and ``entities`` (the new Device
#: and Asset rows, ids set). notifications/ subscribes (ENTITY_ACTION "added"). Rows created one at a time
#: (:meth:`Provisioner.entity`) and the profiles, customers and groups made on the way send post_save instead.
entities_provisioned = Signal()

FULL_SECONDS = 5.0
_full = ProcessCache(max_entries=10_000)  # (tenant id, DEVICE | ASSET) -> True: no room left, recently

_KINDS = {
    "DEVICE": (Device, DeviceProfile, GroupType.DEVICE),
    "ASSET": (Asset, AssetProfile, GroupType.ASSET),
}


class EntityRef(NamedTuple):
    """What the pipeline needs of a device or asset (cheaper to load than the model row)."""

    entity_type: str  # DEVICE | ASSET
    pk: UUID
    name: str
    profile: str  # the profile's name: ThingsBoard's deviceType / assetType


class CreationForbidden(Exception):
    """The entity does not exist and the integration may not create it."""


def forbidden_message(entity_type: str, name: str) -> str:
    noun = "Device" if entity_type == "DEVICE" else "Asset"
    return (f"{noun} '{name}' does not exist and creating devices or assets is forbidden for this integration "
            "(allowCreateDevicesOrAssets is off): its data was ignored")


class Provisioner:
    """Finds or creates the entities of one tenant for one batch, caching every row it touched.

    ``update`` objects are converters.output.EntityUpdate (``entity_type``, ``name``,
    ``profile``, ``label``, ``customer``, ``group``)."""

    def __init__(self, tenant_id, *, allow_create: bool):
        self.tenant_id = tenant_id
        self.allow_create = allow_create
        self._entities: dict[tuple[str, str], EntityRef] = {}
        self._profiles: dict[tuple[str, str], DeviceProfile | AssetProfile] = {}
        self._customers: dict[str, Customer] = {}
        self._groups: dict[tuple, EntityGroup] = {}  # (type, name, owner customer id)
        self._missing: set[tuple[str, str]] = set()  # looked up by prefetch() and not found
        self._full: set[str] = set()  # entity types past the tenant's limit: no more creations in this batch
        #: entities this provisioner created, in order (for notifications and tests)
        self.created: list[Device | Asset] = []

    def prefetch(self, updates: Iterable) -> None:
        """Load the named entities that exist: from this process's cache of known entities
        (devices/known.py), the rest with one query per entity type; then, when creation is
        allowed, create the missing ones at once (:meth:`_create_many`)."""
        wanted: dict[str, set[str]] = {}
        first: dict[tuple[str, str], object] = {}  # the first update naming each unknown entity
        for update in updates:
            key = (update.entity_type, update.name)
            if key in self._entities or key in first:
                continue
            ref = known.recall(self.tenant_id, *key)
            if ref is not None:
                self._entities[key] = ref
            else:
                first[key] = update
                wanted.setdefault(update.entity_type, set()).add(update.name)
        for entity_type, names in wanted.items():
            for ref in self._lookup(entity_type, names):
                self._entities[(entity_type, ref.name)] = ref
            self._missing.update((entity_type, name) for name in names if (entity_type, name) not in self._entities)
        if self.allow_create:
            made: list = []
            for entity_type in wanted:
                missing = {key[1]: u for key, u in first.items() if key[0] == entity_type and key not in self._entities}
                if missing:
                    made += self._create_many(entity_type, missing)
            if made:
                entities_provisioned.send(Provisioner, tenant_id=self.tenant_id, entities=made)

    def _lookup(self, entity_type: str, names, *, remember: bool = True) -> list[EntityRef]:
        since = known.generation()
        rows = (_KINDS[entity_type][0].objects.filter(tenant_id=self.tenant_id, name__in=list(names))
                .values_list("pk", "name", "profile__name"))
        refs = [EntityRef(entity_type, *row) for row in rows]
        if remember:
            known.remember(self.tenant_id, refs, since)
        return refs

    def _create_many(self, entity_type: str, missing: dict) -> list:
        """Create the entities of ``missing`` (name -> the first update naming it) in one INSERT; returns
        the rows this INSERT made: at most the room the tenant's limit leaves, the first ones in message order.

        Rows another worker inserted first are skipped by the INSERT and read back as they are,
        as :meth:`_create` does one by one; group memberships of the rows created here commit
        with them. If the INSERT fails (a name or label no column can hold), nothing is kept and
        :meth:`entity` creates them one by one, so that only the culprit's message fails. The rows
        are remembered as known entities once they are committed (devices/known.py)."""
        model, _, group_type = _KINDS[entity_type]
        if self._is_full(entity_type):
            return []
        since, full_since = known.generation(), _full.generation
        names = list(missing)  # in message order
        try:
            # The room left, asked once per batch and type (None: no limit). A creation racing ours may take it
            # before our INSERT: the count after it (check_added, the tenant locked) then rolls ours back and
            # :meth:`entity` creates them one by one, until the first refused one marks the type full.
            room = entity_limits.room_left(self.tenant_id, entity_type)
            if room is not None and room < len(missing):  # the first ``room`` ones; the others' messages fail
                self._mark_full(entity_type, full_since)
                if not room:
                    return []
                missing = dict(itertools.islice(missing.items(), room))
            rows = [model(tenant_id=self.tenant_id, name=name, label=update.label or "",
                          profile=self._profile(entity_type, update.profile),
                          customer=self._customer(update.customer) if update.customer else None)
                    for name, update in missing.items()]
            with transaction.atomic():  # the INSERT first: SQLite takes its write lock at once
                model.objects.bulk_create(rows, ignore_conflicts=True)
                stored = {ref.name: ref for ref in self._lookup(entity_type, names, remember=False)}
                mine = [row for row in rows if row.name in stored and stored[row.name].pk == row.pk]
                all_groups.join(entity_type, mine, tell=False)  # their owners' "All": one INSERT ... SELECT
                if entity_type == "DEVICE":  # bulk_create sends no post_save: one more INSERT for all
                    credentials.issue_access_tokens(mine)  # maxDevices too (devices/device_quota.py)
                    ota_signals.devices_created(mine)  # their profile's OTA packages, if it has any
                else:  # nor pre_save: the tenant profile's maxAssets, counted with them (tenants/limits/entities.py)
                    entity_limits.check_added(self.tenant_id, entity_type, len(mine), sender=model)
                members: dict = {}
                for row in mine:
                    group = missing[row.name].group
                    if group:
                        members.setdefault(self._group(group_type, group, row.customer), []).append(row)
                for group, entities in members.items():
                    ota_signals.change_members(group, entities, partial(group.members.add, *entities), action="added",
                                               known=not group.group_all)  # new entities: every pair is added
        except OperationalError:
            raise
        except (DatabaseError, ValueError):
            self._groups.clear()  # groups made inside the rolled-back block are gone: look them up again
            return []
        for name, ref in stored.items():
            self._entities[(entity_type, name)] = ref
        self.created.extend(mine)
        refs = list(stored.values())
        # On commit: a batch that rolls back must not leave ids of rows that never existed.
        transaction.on_commit(lambda: known.remember(self.tenant_id, refs, since))
        return mine

    def entity(self, update) -> EntityRef:
        """The entity ``update`` names; created when missing and allowed.

        Raises :class:`CreationForbidden` when it is missing and creation is off, and database
        errors (e.g. a name no column can hold) when creating it fails."""
        key = (update.entity_type, update.name)
        found = self._entities.get(key)
        if found is not None:
            return found
        if key not in self._missing:
            found = next(iter(self._lookup(update.entity_type, [update.name])), None)
        if found is None:
            if not self.allow_create:
                raise CreationForbidden(forbidden_message(update.entity_type, update.name))
            if self._is_full(update.entity_type):
                raise _limit_reached(update.entity_type, entity_limits.limit_of(self.tenant_id, update.entity_type))
            found = self._create(update)
        self._entities[key] = found
        return found

    def _create(self, update) -> EntityRef:
        model, _, group_type = _KINDS[update.entity_type]
        since = _full.generation
        profile = self._profile(update.entity_type, update.profile)
        customer = self._customer(update.customer) if update.customer else None
        group = self._group(group_type, update.group, customer) if update.group else None
        try:
            with transaction.atomic():
                entity = model.objects.create(tenant_id=self.tenant_id, name=update.name, profile=profile,
                                              customer=customer, label=update.label or "")
                if group is not None:
                    ota_signals.change_members(group, [entity], partial(group.members.add, entity), action="added",
                                               known=not group.group_all)
        except entity_limits.EntitiesLimitReached as e:
            if e.entity_type == update.entity_type:
                self._mark_full(update.entity_type, since)
            raise
        except IntegrityError:
            # Another worker created it first (its INSERT committed while ours waited on the
            # unique index): use that row as it is, never re-assigning what it got.
            return self._lookup(update.entity_type, [update.name])[0]
        self.created.append(entity)
        return EntityRef(update.entity_type, entity.pk, entity.name, profile.name)

    def _is_full(self, entity_type: str) -> bool:
        if entity_type not in self._full and _full.get((str(self.tenant_id), entity_type)):
            self._full.add(entity_type)
        return entity_type in self._full

    def _mark_full(self, entity_type: str, since: int) -> None:
        """No room left: for this batch now, for this process once the batch commits (a rolled-back batch's
        count proves nothing), unless a delete or a profile change came after ``since``."""
        self._full.add(entity_type)
        key = (str(self.tenant_id), entity_type)
        transaction.on_commit(lambda: _full.put_many([(key, True)], since, FULL_SECONDS))

    def _profile(self, entity_type: str, name: str):
        key = (entity_type, name)
        if key not in self._profiles:
            profile_model = _KINDS[entity_type][1]
            # get_or_create retries the read after an IntegrityError: safe under racing workers.
            self._profiles[key], _ = profile_model.objects.get_or_create(tenant_id=self.tenant_id, name=name)
        return self._profiles[key]

    def _customer(self, title: str) -> Customer:
        if title not in self._customers:
            self._customers[title], _ = Customer.objects.get_or_create(tenant_id=self.tenant_id, title=title)
        return self._customers[title]

    def _group(self, group_type: str, name: str, customer: Customer | None) -> EntityGroup:
        """The group ``name`` of the new entity's owner (ThingsBoard PE: a customer's entity joins that customer's
        group, devices/group_owners.py), created when missing."""
        key = (group_type, name, customer.pk if customer is not None else None)
        if key not in self._groups:
            self._groups[key], _ = EntityGroup.objects.get_or_create(tenant_id=self.tenant_id, customer=customer,
                                                                     type=group_type, name=name)
        return self._groups[key]


def _limit_reached(entity_type: str, limit: int) -> entity_limits.EntitiesLimitReached:
    return device_quota.DevicesLimitReached(limit=limit) if entity_type == "DEVICE" \
        else entity_limits.EntitiesLimitReached(entity_type, limit)


@receiver(post_delete, sender=Device, dispatch_uid="devices.provisioning.device_deleted")
@receiver(post_delete, sender=Asset, dispatch_uid="devices.provisioning.asset_deleted")
def _room_again(sender, instance, **kwargs) -> None:
    entity_type = "DEVICE" if sender is Device else "ASSET"
    _full.forget_key((str(instance.tenant_id), entity_type))


@receiver(post_save, sender=TenantProfile, dispatch_uid="devices.provisioning.profile_saved")
@receiver(post_delete, sender=TenantProfile, dispatch_uid="devices.provisioning.profile_deleted")
@receiver(post_save, sender=Tenant, dispatch_uid="devices.provisioning.tenant_saved")
def _limits_changed(sender, **kwargs) -> None:
    _full.forget()
