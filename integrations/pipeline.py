"""The uplink pipeline (DESIGN.md section 3): one code path for every integration type.

    process([RawUplink, ...]) -> [Outcome, ...]   (one per uplink, in order)

A batch is grouped by integration. Per integration: the integration and its uplink converter
are loaded once; messages seen within its deduplication window are left out (integrations/dedup.py,
one claim for the batch); a typed converter or a TS013 codec first gets the network server's
envelope unwrapped by the integration's type (converters.uplink.prepare); the converter runs once
over all its messages (converters.engine.decode), unless a remote runner already ran it on a
message (integrations/conversion.py); each result is normalised (converters.uplink.interpret);
the named devices and assets are found or created (devices.provisioning); values are checked and
``updateOnlyKeys`` applied (store.prepare). Then,
for the whole batch: one telemetry write, one attribute upsert (store.write), one INSERT of
dead letters, one INSERT of debug events, one stats upsert and one status UPDATE per integration,
one upsert of changed device routes (store.remember_routes: the ``route_keys`` metadata a
downlink needs to find the device's connection) and one rule-engine hand-off (handoff.dispatch).

A message that fails (converter error or timeout, invalid output, provisioning or storage error)
fails alone: it becomes a DeadLetter with its raw payload, metadata, content type, error and
stage, and a failure debug event; the rest of the batch is stored. Messages of a disabled
integration become dead letters too (replayable once it is enabled, or at once by a replay).
Messages of a deleted integration are dropped with a warning: their dead letters would be
deleted with it. An entity that does not exist while ``allowCreateDevicesOrAssets`` is off has
its data ignored (ThingsBoard: "ignored"), with a failure debug event and an error counted, but
no dead letter: such traffic is a configuration choice, often a network server feeding more
devices than wanted, and would grow the dead-letter store without end. A network server's
event that carries no uplink (a ChirpStack ``join`` or ``status``, a LORIOT ``tx``) is OK with
nothing stored: the converter does not run on it.

Infrastructure errors (database down, converter workers cannot start) propagate so that the
Celery task retries the batch; every write is idempotent (telemetry keyed by ts; telemetry without
its own ts is stored at the uplink's ``received_ts``).
"""

import logging
import sys
from dataclasses import dataclass, replace

from django.db import DatabaseError, OperationalError

from converters.events import EventBatch, should_record, truncate, write_events
from converters.services import record_debug
from devices.provisioning import CreationForbidden, Provisioner
from integrations import config_cache, conversion, dedup, events, handoff, stats, store
from integrations.messages import RawUplink
from integrations.models import DeadLetter, Integration
from tbproject import metrics
from tbproject.clock import now_ms
from tenants import limits, usage

__all__ = ["process", "begin", "complete", "abandon", "Begun", "Outcome", "OK", "FAILED", "DROPPED", "DEFERRED",
           "DUPLICATE", "STAGES"]

log = logging.getLogger(__name__)

OK, FAILED, DROPPED = "ok", "failed", "dropped"
#: not run: over the tenant's converterExecutionsPerTenantRateLimit; the caller queues it again
#: after ``Outcome.retry_ms`` (integrations/tasks.py) or, replaying, keeps its dead letter
DEFERRED = "deferred"
#: not run: seen within the integration's deduplication window (integrations/dedup.py)
DUPLICATE = dedup.DUPLICATE
#: DeadLetter.stage values: where a message failed ("pipeline": its whole batch, by an unexpected
#: error: integrations/tasks.py)
STAGES = ("integration", "convert", "validate", "provision", "store", "pipeline")
MAX_ERROR = 4096


@dataclass(frozen=True, slots=True)
class Outcome:
    """What became of one uplink: ``status`` ok / failed (dead-lettered) / dropped (ignored) /
    deferred (over a rate limit; run it again after ``retry_ms``)."""

    status: str
    stage: str | None = None
    error: str | None = None
    retry_ms: int = 0
    #: the uplink converter version that ran on it (None: the converter did not run)
    converter_version: int | None = None


class _Message:
    """One uplink on its way through the pipeline. A plain slots class with a hand-written
    constructor: a dataclass's, with its six list factories, was 4% of the pipeline's time."""

    __slots__ = ("uplink", "integration", "output_json", "input", "skipped", "warnings", "updates", "entities",
                 "ignored", "points", "attributes", "status", "stage", "error", "ran", "retry_ms", "server", "claim")

    def __init__(self, uplink: RawUplink):
        self.uplink = uplink
        self.integration: Integration | None = None
        self.output_json: str | None = None
        #: what the script ran on: the unwrapped payload and metadata (converters.uplink.prepare)
        self.input = None
        #: why the converter did not run on an envelope that carries no uplink (a ChirpStack join...)
        self.skipped: str | None = None
        self.warnings: list[str] = []
        self.updates: list = []
        self.entities: list = []  # parallel to updates; None = ignored
        self.ignored: list[str] = []
        #: (entity_id, key, ts, value) tuples and attribute rows (integrations/store.py)
        self.points: list = []
        self.attributes: list = []
        self.status: str = OK
        self.stage: str | None = None
        self.error: str | None = None
        #: the converter ran on it (usage statistics count the run)
        self.ran = False
        self.retry_ms = 0
        #: where the converter ran when not here: a remote runner (``remote:<host>``, integrations/conversion.py)
        self.server: str | None = None
        #: the deduplication key it claimed, (integration id, key hash), released if it is not stored
        self.claim: tuple | None = None

    def fail(self, stage: str, error: str) -> None:
        self.status, self.stage, self.error = FAILED, stage, truncate(error, MAX_ERROR)

    def defer(self, retry_ms: int, error: str) -> None:
        self.status, self.stage, self.retry_ms, self.error = DEFERRED, "convert", retry_ms, error

    @property
    def converted(self) -> bool:
        """Whether the converter ran on it (it does not for a disabled integration, nor for an
        envelope without an uplink)."""
        return self.stage != "integration" and self.skipped is None and self.status != DEFERRED


def process(uplinks: list[RawUplink], *, dead_letters: bool = True, replay: bool = False) -> list[Outcome]:
    """Run a batch through the pipeline; see the module docstring.

    ``dead_letters=False`` leaves failed messages to the caller (the replay service updates the
    letters it re-ran). ``replay=True`` runs even a disabled integration and leaves its status
    columns alone (the messages are old)."""
    return complete(begin(uplinks, replay=replay), dead_letters=dead_letters)


class Begun:
    """A batch :func:`begin` screened and converted, for :func:`complete` (or :func:`abandon`)."""

    __slots__ = ("messages", "groups", "integrations", "active", "now", "replay")

    def __init__(self, messages, groups, integrations, active, now: int, replay: bool):
        self.messages, self.groups, self.integrations = messages, groups, integrations
        self.active, self.now, self.replay = active, now, replay


def begin(uplinks: list[RawUplink], *, replay: bool = False) -> Begun:
    """The first half of :func:`process`: the integrations loaded, duplicates screened (keys
    claimed), the converters run. Nothing is stored; an error releases the claims. The worker runs
    it for the next batch in a thread of its own while this one is stored (integrations/overlap.py):
    it only reads the shared caches, and writes nothing but converter health rows."""
    now = now_ms()
    messages = [_Message(u if u.received_ts else replace(u, received_ts=now)) for u in uplinks]
    groups: dict[str, list[_Message]] = {}
    for message in messages:
        groups.setdefault(str(message.uplink.integration_id), []).append(message)
    integrations = config_cache.load(groups)
    active = []
    for key, group in groups.items():
        integration = integrations.get(key)
        if integration is None:
            log.warning("dropped %d uplinks of integration %s: it no longer exists", len(group), key)
            for message in group:
                message.status, message.error = DROPPED, f"Integration {key} does not exist"
            continue
        if integration.tenant.deleting_ts is not None:  # tenants/deletion.py: nothing is kept for it
            log.info("dropped %d uplinks of integration %s: its tenant is being deleted", len(group), key)
            del integrations[key]  # no debug events, statistics or dead letters either
            for message in group:
                message.status, message.error = DROPPED, f"The tenant of integration {key} is being deleted"
            continue
        for message in group:
            message.integration = integration
        if not integration.enabled and not replay:
            for message in group:
                message.fail("integration", f"Integration '{integration.name}' is disabled")
            continue
        active.append((integration, group))
    if not replay:  # a replayed message was screened when it first came
        dedup.mark([m for _, group in active for m in group], now)
    try:
        conversion.convert([m for _, group in active for m in group if m.status == OK])
    except BaseException:  # the batch is retried: its keys must not make it a duplicate of itself
        _release(messages)
        raise
    return Begun(messages, groups, integrations, active, now, replay)


def complete(begun: Begun, *, dead_letters: bool = True) -> list[Outcome]:
    """The second half of :func:`process`: provision, store, count, hand off. An error releases
    the batch's claims (the batch is retried)."""
    messages, replay = begun.messages, begun.replay
    try:
        for integration, group in begun.active:
            _provision(integration, [m for m in group if m.status == OK])
            store.prepare([m for m in group if m.status == OK], integration.default_converter.update_only_keys)
        store.write([m for m in messages if m.status == OK])
        if not replay:
            store.remember_routes([m for m in messages if m.status == OK])
        _finish(messages, begun.groups, begun.integrations, begun.now, dead_letters=dead_letters, replay=replay)
    except BaseException:  # the batch is retried: its keys must not make it a duplicate of itself
        _release(messages)
        raise
    dedup.release([m.claim for m in messages if m.claim and m.status == DEFERRED])
    return _outcomes(messages)


def abandon(begun: Begun) -> None:
    """A begun batch that will not be completed (it is queued again): release its claims."""
    _release(begun.messages)


def _release(messages: list[_Message]) -> None:
    dedup.release([m.claim for m in messages if m.claim])
    for m in messages:
        m.claim = None


def _outcomes(messages: list[_Message]) -> list[Outcome]:
    """One Outcome per message; the stored ones of a converter version share one (it is frozen)."""
    out = []
    versions: dict = {}  # id(integration) -> its converter's version number
    stored: dict = {}  # version -> the Outcome of a stored message
    for m in messages:
        integration = m.integration
        if integration is None or not m.converted:
            version = None
        else:
            version = versions.get(id(integration))
            if version is None:
                version = versions[id(integration)] = _version_of(m)
        if m.status == OK and m.stage is None and m.error is None and not m.retry_ms:
            outcome = stored.get(version)
            if outcome is None:
                outcome = stored[version] = Outcome(OK, converter_version=version)
        else:
            outcome = Outcome(m.status, m.stage, m.error, m.retry_ms, converter_version=version)
        out.append(outcome)
    return out


def _version_of(message: _Message) -> int | None:
    """The converter version that ran on the message (a pinned one, or the newest)."""
    if message.integration is None or not message.converted:
        return None
    return message.integration.default_converter.version_number


def _provision(integration: Integration, group: list[_Message]) -> None:
    provisioner = Provisioner(integration.tenant_id, allow_create=integration.allow_create_devices_or_assets)
    provisioner.prefetch(u for m in group for u in m.updates)
    for message in group:
        for update in message.updates:
            try:
                message.entities.append(provisioner.entity(update))
            except CreationForbidden as e:
                message.entities.append(None)
                message.ignored.append(str(e))
            except OperationalError:
                raise
            except (DatabaseError, ValueError) as e:
                message.fail("provision", f"Cannot create {update.entity_type.lower()} '{update.name}': {e}")
                break
        if message.status == OK and message.updates and all(e is None for e in message.entities):
            message.status, message.error = DROPPED, "; ".join(message.ignored)


def _finish(messages, groups, integrations, now: int, *, dead_letters: bool, replay: bool) -> None:
    known = [m for m in messages if m.integration is not None]
    if dead_letters:
        DeadLetter.objects.bulk_create([_letter(m) for m in known if m.status == FAILED], batch_size=500)
    to_write = []
    for key, group in groups.items():
        integration = integrations.get(key)
        if integration is None:
            continue
        dropped_twice = [m.uplink for m in group if m.status == DUPLICATE]
        duplicates = len(dropped_twice)
        group = [m for m in group if m.status not in (DEFERRED, DUPLICATE)]  # deferred: they run in a later batch
        if not group and not duplicates:
            continue
        wanted = _debug_events(integration, group, now) + dedup.debug_events(integration, dropped_twice, now)
        failures = [m for m in group if m.status != OK or m.ignored]
        _count_outcomes(integration.pk, group, duplicates)
        already = stats.add(integration.pk, processed=len(group), errors=len(failures), debug_events=len(wanted),
                            duplicates=duplicates, now=now)
        if not group:
            continue
        to_write.extend(events.capped(integration, wanted, already=already, now=now))
        if not replay:
            last_failure = next((m for m in reversed(failures) if m.error or m.ignored), None)
            # The error's time is its message's, so that "newest of last error and last message"
            # says whether the integration's latest traffic went through.
            stats.record_status(integration.pk, last_message_ts=max(m.uplink.received_ts for m in group),
                                error=_error_of(last_failure) if last_failure else None,
                                error_ts=last_failure.uplink.received_ts if last_failure else None)
    to_write = _within_debug_limit(to_write)
    write_events(to_write)
    _count_usage(known, to_write, now)
    messages, asked = handoff.rule_engine_messages(m for m in known if m.status == OK)
    handoff.dispatch(messages, asked=asked)


def _count_outcomes(integration_id, group: list[_Message], duplicates: int) -> None:
    """Prometheus counters (tbproject/metrics.py): stored, failed, dropped, duplicates per integration."""
    if duplicates:
        metrics.inc("tb_uplinks_duplicate_total", duplicates, integration=integration_id)
    counts = {OK: 0, FAILED: 0, DROPPED: 0}
    for m in group:
        counts[m.status] = counts.get(m.status, 0) + 1
    for status, name in ((OK, "tb_uplinks_stored_total"), (FAILED, "tb_uplinks_failed_total"),
                         (DROPPED, "tb_uplinks_dropped_total")):
        metrics.inc(name, counts[status], integration=integration_id)


def _within_debug_limit(rows: list) -> list:
    """The debug events each tenant's debugEventsPerTenantRateLimit lets through, failures first."""
    by_tenant: dict = {}
    for row in rows:
        by_tenant.setdefault(row.tenant_id, []).append(row)
    kept = []
    for tenant_id, tenant_rows in by_tenant.items():
        granted, _ = limits.take(limits.DEBUG_TENANT, tenant_id, tenant_id, len(tenant_rows), partial=True)
        if granted < len(tenant_rows):
            tenant_rows = sorted(tenant_rows, key=lambda e: not e.is_error)[:granted]
        kept.extend(tenant_rows)
    return kept


def _count_usage(messages: list[_Message], written_events: list, now: int) -> None:
    """One usage upsert per tenant of the batch (tenants/usage.py)."""
    per_integration: dict = {}  # id(integration) -> [integration, messages, data points, converter runs]
    for m in messages:
        status = m.status
        if status == DEFERRED or status == DUPLICATE:
            continue
        entry = per_integration.get(id(m.integration))
        if entry is None:
            entry = per_integration[id(m.integration)] = [m.integration, 0, 0, 0]
        entry[1] += 1
        if status == OK:
            entry[2] += len(m.points) + len(m.attributes)
        if m.ran:
            entry[3] += 1
    counts: dict = {}
    for integration, messages_, data_points, runs in per_integration.values():
        c = counts.setdefault(integration.tenant_id, dict.fromkeys(usage.COUNTERS, 0))
        c["messages"] += messages_
        c["data_points"] += data_points
        if runs:
            tbel = integration.default_converter.script_lang == "TBEL"
            c["tbel_executions" if tbel else "js_executions"] += runs
    for row in written_events:
        counts.setdefault(row.tenant_id, dict.fromkeys(usage.COUNTERS, 0))["debug_events"] += 1
    for tenant_id, c in counts.items():
        usage.add(tenant_id, now=now, **c)


def _error_of(message: _Message) -> str:
    return message.error or "; ".join(message.ignored)


def _letter(message: _Message) -> DeadLetter:
    u = message.uplink
    return DeadLetter(tenant_id=message.integration.tenant_id, integration_id=message.integration.pk,
                      received_ts=u.received_ts, payload=u.payload, metadata=u.metadata,
                      content_type=u.content_type or "BINARY", error=message.error or "", stage=message.stage or "",
                      converter_version=_version_of(message))


def _debug_events(integration: Integration, group: list[_Message], now: int) -> list:
    """Converter and integration debug events of the group under their debug policies (not saved)."""
    collector = EventBatch(max_rows=sys.maxsize)  # collects only: the caller caps, then writes
    converter = integration.default_converter
    # Neither debug policy records a successful run now (the usual case): only failures and
    # messages with ignored entities can make events, so the others are not looked at.
    quiet = not (should_record(converter.debug_failures_enabled, converter.debug_all_enabled_until, failed=False,
                               now=now)
                 or should_record(integration.debug_failures_enabled, integration.debug_all_enabled_until,
                                  failed=False, now=now))
    wanted = []
    for m in group:
        if quiet and m.status == OK and not m.ignored:
            continue
        u = m.uplink
        if m.converted:
            converter_error = m.error if m.stage in ("convert", "validate") else None
            metadata = m.input.metadata if m.input is not None else u.metadata
            record_debug(converter, u.payload, u.content_type, metadata, m.output_json, converter_error,
                         warnings=m.warnings, batch=collector, now=now, server=m.server)
        error = _error_of(m) if (m.status != OK or m.ignored) else None
        event = events.uplink_event(integration, u.payload, u.content_type, error=error, now=now)
        if event is not None:
            wanted.append(event)
    return collector.pending + wanted
