"""Encoding: downlinks -> their downlink converter (integrations.downlinks) -> PENDING or FAILED.

New downlinks are encoded before they are stored (``encode(rows, insert=True)``, from
integrations.downlinks.submit_many): the batch costs one converter run per converter and one
INSERT. What waits in the queue (QUEUED: retries, rows an encoder could not handle) is claimed and
encoded by the ``encode_downlinks`` task (``run_queued``). One such batch costs: one claim UPDATE,
one SELECT of the claimed rows with their integrations and converters, one SELECT of device names
(for messages whose metadata had none), one of routes, one converter run per converter, one bulk
UPDATE, one INSERT of debug events and one stats upsert per integration.
"""

import json
import sys
import uuid

from django.db import connection, transaction
from django.db.models import Q

from converters import downlink as converter_downlink
from converters.engine import Limits
from converters.events import EventBatch, write_events
from devices.models import Device
from integrations import events, stats
from integrations.models import DeviceRoute, DownlinkStatus, OutgoingDownlink
from tbproject.clock import now_ms
from tbproject.db import copy_rows

__all__ = ["run_queued", "claim_queued", "encode", "integration_metadata", "BATCH_SIZE"]

BATCH_SIZE = 500
S = DownlinkStatus


def integration_metadata(integration) -> dict[str, str]:
    """The Encoder's ``integrationMetadata``: integrationName and the configuration's metadata."""
    configuration = integration.configuration if isinstance(integration.configuration, dict) else {}
    configured = configuration.get("metadata")
    configured = configured if isinstance(configured, dict) else {}
    return {"integrationName": integration.name, **{str(k): str(v) for k, v in configured.items()}}


def claim_queued(limit: int = BATCH_SIZE) -> list[OutgoingDownlink]:
    """Take up to ``limit`` due QUEUED downlinks (oldest first) for this worker; conditional UPDATE."""
    now = now_ms()
    ids = list(OutgoingDownlink.objects.filter(status=S.QUEUED, next_attempt_ts__lte=now)
               .order_by("created_ts", "id").values_list("pk", flat=True)[:limit])
    return _claim(ids, now)


def _claim(ids: list, now: int) -> list[OutgoingDownlink]:
    if not ids:
        return []
    token = f"encode:{uuid.uuid4().hex}"
    OutgoingDownlink.objects.filter(pk__in=ids, status=S.QUEUED).update(status=S.ENCODING, claim=token, claimed_ts=now)
    return list(OutgoingDownlink.objects.filter(claim=token, status=S.ENCODING)
                .select_related("integration__downlink_converter").order_by("created_ts", "id"))


def run_queued(limit: int = BATCH_SIZE) -> int:
    """Encode QUEUED downlinks batch by batch until none is left; returns how many were handled."""
    done = 0
    while True:
        rows = claim_queued(limit)
        if not rows:
            return done
        _encode_claimed(rows)
        done += len(rows)
        if len(rows) < limit:
            return done


def _encode_claimed(rows: list[OutgoingDownlink]) -> None:
    try:
        encode(rows)
    except Exception:
        # the machinery failed (engine cannot start, database): give them back to the queue
        OutgoingDownlink.objects.filter(pk__in=[r.pk for r in rows], status=S.ENCODING).update(
            status=S.QUEUED, claim="", next_attempt_ts=now_ms() + 5000)
        raise


def _device_names(rows) -> None:
    missing = {r.originator_id for r in rows if not r.device_name and r.originator_id and r.originator_type == "DEVICE"}
    if not missing:
        return
    names = dict(Device.objects.filter(pk__in=missing).values_list("pk", "name"))
    for r in rows:
        if not r.device_name and r.originator_id in names:
            r.device_name = names[r.originator_id]


def _routes(rows) -> None:
    wanted = {(r.integration_id, r.device_name) for r in rows if r.device_name}
    if not wanted:
        return
    query = Q()
    for integration_id in {i for i, _ in wanted}:
        query |= Q(integration_id=integration_id, device_name__in=[n for i, n in wanted if i == integration_id])
    found = {(d.integration_id, d.device_name): d.route for d in DeviceRoute.objects.filter(query)}
    for r in rows:
        r.route = found.get((r.integration_id, r.device_name), {})


def _fail(row, error: str, now: int) -> None:
    row.status, row.error, row.claim, row.encoded_ts = S.FAILED, error, "", now


def encode(rows: list[OutgoingDownlink], *, insert: bool = False) -> None:
    """Run the converters over claimed rows and store the outcome; see the module docstring.

    ``insert``: the rows are new (integrations.downlinks.submit_many): they are stored already
    encoded, with one INSERT, instead of being updated."""
    now = now_ms()
    limits = Limits.from_settings()
    _device_names(rows)
    _routes(rows)
    by_converter: dict = {}
    for row in rows:
        integration = row.integration
        if not integration.enabled:
            _fail(row, f"Integration '{integration.name}' is disabled", now)
        elif integration.downlink_converter is None:
            _fail(row, f"Integration '{integration.name}' has no downlink converter", now)
        else:
            by_converter.setdefault(integration.downlink_converter_id, []).append(row)
    collector = EventBatch(max_rows=sys.maxsize)  # collects only: capped per integration below
    for group in by_converter.values():
        inputs = [(json.dumps(r.msg), r.msg_metadata, r.msg_type, integration_metadata(r.integration)) for r in group]
        outcomes = converter_downlink.encode(group[0].integration.downlink_converter, inputs, limits=limits,
                                             batch=collector, now=now)
        for row, (out, error) in zip(group, outcomes, strict=True):
            if error:
                _fail(row, error, now)
                continue
            row.status, row.claim, row.encoded_ts, row.error = S.PENDING, "", now, ""
            row.content_type, row.payload, row.metadata = out.content_type, out.payload_bytes(), out.metadata
            if not row.device_name and not row.integration.type_class.listener:
                _fail(row, "The message names no device (deviceName metadata or a DEVICE originator): "
                           "this integration returns a downlink with its device's next uplink", now)
    with transaction.atomic():
        if insert:
            copy_rows(OutgoingDownlink, rows)
        else:
            _save(rows, ("status", "claim", "encoded_ts", "error", "content_type", "payload", "metadata", "route",
                         "device_name"))
        push = _supersede(rows)
        _record_events(rows, collector.pending, now)
    listeners = {r.integration_id for r in rows if r.status == S.PENDING and r.integration.type_class.listener}
    api = {r.integration_id for r in rows if r.status == S.PENDING and _api(r.integration)}
    transaction.on_commit(lambda: _announce(listeners, push, api))


def _save(rows, names) -> None:
    """One UPDATE per row, sent with executemany (psycopg pipelines it): Django's bulk_update
    builds a CASE per field and row, which costs more than the converter run itself."""
    fields = [OutgoingDownlink._meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    pk = OutgoingDownlink._meta.pk
    sql = (f"UPDATE {quote(OutgoingDownlink._meta.db_table)} SET "
           f"{', '.join(f'{quote(f.column)} = %s' for f in fields)} WHERE {quote(pk.column)} = %s")
    params = [[f.get_db_prep_save(getattr(row, f.attname), connection) for f in fields]
              + [pk.get_db_prep_value(row.pk, connection)] for row in rows]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def _supersede(rows) -> set:
    """Push types keep only the newest pending downlink per device: older ones are SUPERSEDED."""
    pairs = {(r.integration_id, r.device_name) for r in rows
             if r.status == S.PENDING and not r.integration.type_class.listener and not _api(r.integration)}
    for integration_id, name in pairs:
        pending = OutgoingDownlink.objects.filter(integration_id=integration_id, device_name=name, status=S.PENDING)
        newest = pending.order_by("-created_ts", "-pk").values_list("pk", flat=True).first()
        pending.exclude(pk=newest).update(status=S.SUPERSEDED, error="A newer downlink to this device replaced it")
    return {i for i, _ in pairs}


def _record_events(rows, converter_events, now: int) -> None:
    by_integration: dict = {}
    owner = {r.integration.downlink_converter_id: r.integration for r in rows}  # shared converters: one owner
    for event in converter_events:
        integration = owner[event.entity_id]
        by_integration.setdefault(integration.pk, (integration, []))[1].append(event)
    for row in rows:
        if row.status != S.FAILED:
            continue
        by_integration.setdefault(row.integration_id, (row.integration, []))
        event = downlink_event(row.integration, json.dumps(row.msg).encode(), "JSON", error=row.error, now=now)
        if event is not None:
            by_integration[row.integration_id][1].append(event)
    to_write = []
    for integration_id, (integration, wanted) in by_integration.items():
        failed = sum(1 for r in rows if r.integration_id == integration_id and r.status == S.FAILED)
        already = stats.add(integration_id, processed=0, errors=failed, debug_events=len(wanted), now=now)
        to_write.extend(events.capped(integration, wanted, already=already, now=now))
    write_events(to_write)


def downlink_event(integration, payload: bytes, content_type: str | None, *, error: str | None = None,
                   metadata: dict | None = None, now: int | None = None):
    """The DEBUG_INTEGRATION event of one downlink (type Downlink) under the debug policy, or None.

    ``metadata`` is the encoder's (the MQTT topic, ...), shown beside the payload."""
    event = events.uplink_event(integration, payload, content_type, error=error, now=now)
    if event is not None:
        event.body["type"] = events.DOWNLINK
        if metadata:
            event.body["metadata"] = json.dumps(metadata, separators=(",", ":"), ensure_ascii=False)
    return event


def _api(integration) -> bool:
    """Push types that send downlinks through their cloud's API (integrations/api_downlinks.py):
    every downlink is sent, none supersedes another."""
    return getattr(integration.type_class, "api_downlink", False)


def _announce(listener_ids, push_ids, api_ids=()) -> None:
    from integrations.downlinks import notify

    notify.encoded(listener_ids, push_ids, api_ids)
