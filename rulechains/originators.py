"""The rule engine's tenancy check: is a message's originator an entity of the message's tenant?

    unknown = foreign(msgs)                # {index of each message whose originator is not its tenant's}
    text = not_found(msg)                  # "Device with id [...] is not found"

A message names its originator by (type, id), and what nodes read and write by it is keyed by the
id alone (attributes, time series, relations, presence state). A message of tenant A naming
tenant B's device (a generator's configured originator, a chain's test run, a relation left over
from before the tenancy checks) would act on B's device at every node that acts on the
originator. So the engine checks every message once where it enters (engine.process,
engine.resume: the delay, generator and deduplication nodes) and where a node hands a message on
with another originator (change originator, create relation's "change originator to the target
entity"); a chain's test run checks the originator it is posted. Nodes can then take the
originator as the tenant's.

One query per entity type per batch, whatever the tenants of the batch: it counts the entities of
each tenant among the ids its messages name, so nothing is read back while all are found (a
second query says which are missing when some are); the tenant itself (type TENANT) needs none.
An entity type without a table here (dashboards, edges...) has nobody's entities.

Confirmed triples are kept per process (:data:`CONFIRMED`, a ProcessCache of at most CACHE_SIZE,
each for CACHE_TTL seconds), so a batch naming the same originators as a recent one costs no query.
Only positive answers: an id is a UUID and an entity never changes tenant, so an id confirmed for a
tenant is never another tenant's; a refused one is asked again each time. Deleting any originator
entity empties the cache of the process that deleted it (:func:`forget`, connected in
rulechains.apps); another process may still let an entity deleted within the last CACHE_TTL
seconds through (its messages then act on an id nobody has, of the same tenant), as one deleted
while its message runs always could.
"""

import operator
import time
import uuid
from collections import defaultdict
from functools import reduce

from django.apps import apps
from django.db import connection
from django.db.models import Q

from rulechains.nodes.base import normal_name
from tbproject.process_cache import ProcessCache

__all__ = ["foreign", "missing", "not_found", "known", "forget", "MODELS", "CONFIRMED"]

#: the entity types an originator can be here, and their models (each row has a ``tenant_id``)
MODELS = {
    "DEVICE": "devices.Device", "ASSET": "devices.Asset", "ENTITY_GROUP": "devices.EntityGroup",
    "DEVICE_PROFILE": "devices.DeviceProfile", "ASSET_PROFILE": "devices.AssetProfile",
    "CUSTOMER": "tenants.Customer", "USER": "tenants.User",
    "RULE_CHAIN": "rulechains.RuleChain", "RULE_NODE": "rulechains.RuleNode", "ALARM": "rulechains.Alarm",
    "INTEGRATION": "integrations.Integration", "CONVERTER": "converters.Converter",
    "ENTITY_VIEW": "devices.EntityView",
}
#: ids per query (SQLite's bound on the parameters of one statement)
_CHUNK = 5000
CACHE_SIZE = 100_000
CACHE_TTL = 300.0


#: this process's confirmed originators: ``(tenant id, type, id) -> True``
CONFIRMED = ProcessCache(CACHE_SIZE)


def known(refs) -> set:
    """Those of ``refs`` confirmed in this process within the last CACHE_TTL seconds."""
    get = CONFIRMED.get
    now = time.monotonic()
    return {ref for ref in refs if get(ref, now)}


def forget(sender=None, **kwargs) -> None:
    """Receiver of every originator model's ``post_delete`` (rulechains.apps): a deleted entity is
    not taken as confirmed again in this process."""
    CONFIRMED.forget()


def _uuid(value):
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def missing(refs) -> set:
    """The (tenant id, entity type, entity id) triples of ``refs`` whose entity does not exist or
    belongs to another tenant. One query per entity type, counting per tenant (no row to read back
    while all are found); a second one for a type only when some of its entities are not found."""
    lost, wanted = set(), defaultdict(lambda: defaultdict(set))
    refs = set(refs)
    since = CONFIRMED.generation  # read before the queries: a delete meanwhile keeps their answers out
    for ref in refs - known(refs):
        tenant_id, kind, pk = ref
        if kind == "TENANT":
            if pk is None or pk != tenant_id:
                lost.add(ref)
        elif kind in MODELS and pk is not None and tenant_id is not None:
            wanted[kind][tenant_id].add(pk)
        else:
            lost.add(ref)
    for kind, by_tenant in wanted.items():
        try:
            manager = apps.get_model(MODELS[kind])._base_manager
        except LookupError:  # a type whose model this installation does not have: nobody's entity
            lost.update((t, kind, pk) for t, ids in by_tenant.items() for pk in ids)
            continue
        for chunk in _chunks(by_tenant):
            counts = _counts(manager.model, chunk)
            short = [tenant_id for tenant_id, ids in chunk.items() if counts.get(tenant_id, 0) < len(ids)]
            if short:  # some not found: which ones
                owned = reduce(operator.or_, (Q(tenant_id=t, pk__in=chunk[t]) for t in short))
                found = set(manager.filter(owned).values_list("tenant_id", "pk"))
                lost.update((t, kind, pk) for t in short for pk in chunk[t] if (t, pk) not in found)
            CONFIRMED.put_many((((t, kind, pk), True) for t, ids in chunk.items() for pk in ids
                                if (t, kind, pk) not in lost), since, CACHE_TTL)
    return lost


def _counts(model, chunk: dict) -> dict:
    """{tenant id: how many of the ids ``chunk`` lists for it are its rows of ``model``}, in one
    statement. Written out: the ORM's preparation of a thousand UUID parameters cost more than the
    query (as devices/telemetry does, ids are hex text where the database has no UUID type)."""
    native = connection.features.has_native_uuid_field
    quote = connection.ops.quote_name
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    tenant = quote(model._meta.get_field("tenant").column)
    where, params = [], []
    for tenant_id, ids in chunk.items():
        where.append(f"({tenant} = %s AND {pk} IN ({', '.join(['%s'] * len(ids))}))")
        params.append(tenant_id if native else tenant_id.hex)
        params.extend(ids if native else [i.hex for i in ids])
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {tenant}, COUNT(*) FROM {table} WHERE {' OR '.join(where)} GROUP BY {tenant}", params)
        return {_uuid(tenant_id): n for tenant_id, n in cursor.fetchall()}


def _chunks(by_tenant: dict):
    """``by_tenant`` ({tenant id: ids}) in parts of at most _CHUNK ids (SQLite's bound on the
    parameters of one statement)."""
    chunk, size = {}, 0
    for tenant_id, ids in by_tenant.items():
        ids = list(ids)
        for start in range(0, len(ids), _CHUNK):
            part = ids[start:start + _CHUNK]
            if size + len(part) > _CHUNK and chunk:
                yield chunk
                chunk, size = {}, 0
            chunk.setdefault(tenant_id, set()).update(part)
            size += len(part)
    if chunk:
        yield chunk


def foreign(msgs, tenant_id=None) -> set[int]:
    """The indexes of ``msgs`` whose originator is not an entity of ``tenant_id`` (None: of each
    message's own tenant): another tenant's, or none at all."""
    if not msgs:
        return set()
    if tenant_id is not None:
        tenant_id = _uuid(tenant_id)
        refs = [(tenant_id, m.originator_type, _uuid(m.originator_id)) for m in msgs]
    else:
        refs = [(_uuid(m.tenant_id), m.originator_type, _uuid(m.originator_id)) for m in msgs]
    lost = missing(refs)
    return {i for i, ref in enumerate(refs) if ref in lost} if lost else set()


def not_found(msg) -> str:
    """ThingsBoard's text for an entity that is not there: "Device with id [...] is not found"."""
    return f"{normal_name(msg.originator_type)[:40]} with id [{str(msg.originator_id)[:40]}] is not found"
