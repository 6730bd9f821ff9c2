"""Storage step of the uplink pipeline: values checked, ``updateOnlyKeys`` applied, batched writes.

:func:`prepare` turns each message's entity updates into telemetry points (``(entity_id, key, ts,
value)`` tuples, which devices.telemetry.write_points takes as it takes Points) and SERVER_SCOPE
attribute rows, in one pass, refusing (per message, with the reason) any value no database column can hold,
so that the batch write that follows cannot fail because of one message. ``updateOnlyKeys``
(reference 4.2): a listed key is written only when its value, compared as a string, differs from
the last one: the stored latest value (telemetry) or stored attribute, then the previous message
of the same batch. Both are looked up once per batch.

:func:`write` stores the whole batch with one ``write_points`` call and one attribute upsert. If
that fails anyway (something :func:`prepare` did not foresee), each message is written on its own
so that only the culprit fails. Infrastructure errors (database unreachable, locked) propagate:
the Celery task retries the batch, and every write here is idempotent.

:func:`remember_routes` keeps, per (integration, device), the uplink metadata its type names in
``route_keys`` (TCP/UDP: the device's address), for downlinks (integrations.messages.Downlink
.route). One upsert per batch, of the pairs whose route changed or was last written more than
ROUTE_REFRESH_SECONDS ago in this process: a device that keeps its connection costs nothing.
"""

import threading
import time
from collections import OrderedDict

from django.db import DatabaseError, OperationalError, transaction

from devices.attributes import attribute_values, save_attributes_many
from devices.choices import AttributeScope
from devices.telemetry import latest_many, write_points
from devices.telemetry.writer import MAX_TS
from devices.values import as_text, check_text

__all__ = ["prepare", "write", "remember_routes", "StoreError", "MAX_KEY"]

SERVER_SCOPE = AttributeScope.SERVER_SCOPE
MAX_KEY = 255  # TelemetryKey.key and Attribute.key columns


class StoreError(ValueError):
    """A value of one message that cannot be stored; the message names it."""


def _key(key, checked: set) -> str:
    if key not in checked:
        if len(key) > MAX_KEY:
            raise StoreError(f"key '{key[:40]}...' is longer than {MAX_KEY} characters")
        try:
            check_text(key)
        except ValueError as e:
            raise StoreError(f"key {key[:40]!r}: {e}") from None
        checked.add(key)
    return key


def _value(key: str, value):
    if value.__class__ is str:
        try:
            check_text(value)
        except ValueError as e:
            raise StoreError(f"value of '{key}': {e}") from None
    return value


def _values(message, checked: set) -> tuple[list[tuple], list[tuple]]:
    """Points ``(entity_id, key, ts, value)`` and attribute rows; each key and text value checked
    (a key once per batch), in order, so that the first bad one is the one named."""
    points, attributes = [], []
    point, attribute = points.append, attributes.append
    ts_default = message.uplink.received_ts
    for update, entity in zip(message.updates, message.entities, strict=True):
        if entity is None:  # ignored: not found and may not be created
            continue
        eid = entity.pk
        for ts, values in update.telemetry:
            ts = ts_default if ts is None else ts
            if not 0 <= ts <= MAX_TS:
                raise StoreError(f"telemetry ts {ts} is outside 0..{MAX_TS} (milliseconds since 1970)")
            for k, v in values.items():
                if k not in checked:
                    _key(k, checked)
                if v.__class__ is str:
                    _value(k, v)
                point((eid, k, ts, v))
        for k, v in update.attributes.items():
            if k not in checked:
                _key(k, checked)
            if v.__class__ is str:
                _value(k, v)
            attribute((eid, SERVER_SCOPE, k, v, ts_default))
    return points, attributes


def _last_values(messages, only: set) -> tuple[dict, dict]:
    entity_ids = {e.pk for m in messages for e in m.entities if e is not None}
    telemetry = {k: as_text(v) for k, (_, v) in latest_many(entity_ids, only).items()}
    attributes = {k: as_text(v) for k, (_, v) in attribute_values(entity_ids, SERVER_SCOPE, only).items()}
    return telemetry, attributes


def _changed(last: dict, entity_id, key: str, value) -> bool:
    text = as_text(value)
    if last.get((entity_id, key)) == text:
        return False
    last[(entity_id, key)] = text
    return True


def prepare(messages, update_only_keys) -> None:
    """Fill ``message.points`` and ``message.attributes``; fail (stage "store") what cannot be stored."""
    only = set(update_only_keys or ())
    last_ts, last_attr = _last_values(messages, only) if only else ({}, {})
    checked: set = set()
    for message in messages:
        try:
            points, attributes = _values(message, checked)
        except StoreError as e:
            message.fail("store", f"Cannot store the converter output: {e}")
            continue
        if only:
            points = [p for p in points if p[1] not in only or _changed(last_ts, p[0], p[1], p[3])]
            attributes = [a for a in attributes if a[2] not in only or _changed(last_attr, a[0], a[2], a[3])]
        message.points, message.attributes = points, attributes


def _write(messages) -> None:
    points = [p for m in messages for p in m.points]
    attributes = [a for m in messages for a in m.attributes]
    tenants = {m.integration.tenant_id for m in messages}  # for the writes' announcement (devices/data_events.py)
    tenant_id = tenants.pop() if len(tenants) == 1 else None
    if points:
        write_points(points, tenant_id=tenant_id)
    if attributes:
        with transaction.atomic():  # a savepoint when a caller's transaction is open
            save_attributes_many(attributes, tenant_id=tenant_id)


def write(messages) -> None:
    """Store every message's points and attributes; a message whose write fails is failed alone."""
    messages = [m for m in messages if m.points or m.attributes]
    if not messages:
        return
    try:
        _write(messages)
        return
    except OperationalError:
        raise
    except (DatabaseError, ValueError):
        pass  # find the culprit below
    for message in messages:
        try:
            _write([message])
        except OperationalError:
            raise
        except (DatabaseError, ValueError) as e:
            message.fail("store", f"Cannot store the converter output: {e}")
            message.points, message.attributes = [], []


#: A route written by this process is written again after this long even if unchanged, so that
#: ``updated_ts`` says when the device was last seen on it.
ROUTE_REFRESH_SECONDS = 300.0
_ROUTE_CACHE_SIZE = 50_000
_written: "OrderedDict[tuple, tuple[dict, float]]" = OrderedDict()
_written_lock = threading.Lock()


def _route_keys(integration) -> tuple[str, ...]:
    try:
        return tuple(integration.type_class.route_keys or ())
    except (KeyError, ImportError):
        return ()


def remember_routes(messages) -> int:
    """Upsert the ``route_keys`` metadata of each device's last uplink (see the module docstring).

    Returns how many routes were written."""
    from integrations.models import DeviceRoute
    from tbproject.clock import now_ms

    latest: dict = {}
    keys_of: dict = {}
    for message in messages:
        integration = message.integration
        keys = keys_of.get(integration.pk)
        if keys is None:
            keys = keys_of[integration.pk] = _route_keys(integration)
        if not keys:
            continue
        metadata = message.uplink.metadata
        route = {k: metadata[k] for k in keys if k in metadata}
        for entity in message.entities:
            if entity is not None and entity.entity_type == "DEVICE":
                latest[(integration.pk, entity.name)] = route
    if not latest:
        return 0
    clock = time.monotonic()
    with _written_lock:
        changed = {pair: route for pair, route in latest.items()
                   if (seen := _written.get(pair)) is None or seen[0] != route
                   or clock - seen[1] > ROUTE_REFRESH_SECONDS}
    if not changed:
        return 0
    now = now_ms()
    DeviceRoute.objects.bulk_create(
        [DeviceRoute(integration_id=i, device_name=name, route=route, updated_ts=now)
         for (i, name), route in changed.items()],
        update_conflicts=True, unique_fields=["integration", "device_name"], update_fields=["route", "updated_ts"])
    with _written_lock:
        for pair, route in changed.items():
            _written[pair] = (route, clock)
            _written.move_to_end(pair)
        while len(_written) > _ROUTE_CACHE_SIZE:
            _written.popitem(last=False)
    return len(changed)
