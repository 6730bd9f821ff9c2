"""ThingsBoard PE's "aggregate stream" node (analytics.incoming.TbSimpleAggMsgNode).

It aggregates ``inputValueKey`` of the messages reaching it per originator and interval, and
sends each interval's result as a POST_TELEMETRY_REQUEST of the originator
(``{outputValueKey: result}``, metadata ``ts``: the interval's start) by Success. The open
intervals are rows of RuleNodeState (rulechains/node_state_models.py), read and written once per
batch, so a restarted worker goes on where it was. When results go out is the
``intervalPersistencePolicy``, checked every ``intervalCheckValue`` ``intervalCheckTimeUnit``
by the generators' periodic job (rulechains/nodes/analytics.py).

Concurrent batches (two workers) never lose each other's counts and never deadlock: the rows
missing for a batch's entities are inserted first (conflicts ignored), then all its rows are
locked, both in entity-id order, then updated. The state stays small: COUNT_UNIQUE keeps a
16-byte hash of each distinct value (at most MAX_UNIQUE per interval), an entity keeps at most
MAX_INTERVALS open intervals (the oldest dropped first, logged), a CUSTOM interval is at least
MIN_CUSTOM_MS, and a message whose ``ts`` is more than one interval ahead of now is ignored, as
ThingsBoard ignores data older than an interval's TTL.
"""

import bisect
import datetime
import hashlib
import logging
import zoneinfo

from django.db import transaction

from rulechains.messages import POST_TELEMETRY_REQUEST, SUCCESS, Msg, msg_ts
from rulechains.node_state_models import RuleNodeState
from rulechains.nodes.analytics import FUNCTIONS, UNITS, choice, number, period_ms
from rulechains.nodes.base import BaseNode, ConfigError, NodeError, Out, bool_option, fail, field, int_option

__all__ = ["SimpleAggMsgNode", "interval_of"]

INTERVALS = ("HOUR", "DAY", "WEEK", "WEEK_SUN_SAT", "MONTH", "YEAR", "CUSTOM")
POLICIES = ("ON_EACH_CHECK_AFTER_INTERVAL_END", "ON_EACH_CHECK", "ON_EACH_MESSAGE")
STATE_POLICIES = ("ON_EACH_CHANGE", "PERIODICALLY")
#: at most this many distinct values kept per interval for COUNT_UNIQUE
MAX_UNIQUE = 10_000
#: at most this many open intervals per entity; a new one beyond drops the oldest (logged)
MAX_INTERVALS = 1_000
#: the shortest CUSTOM interval (ms)
MIN_CUSTOM_MS = 1_000

log = logging.getLogger(__name__)


def interval_of(ts: int, kind: str, zone: zoneinfo.ZoneInfo, custom_ms: int) -> tuple[int, int]:
    """(start, end) in ms of the interval holding ``ts``, calendar intervals in ``zone``."""
    if kind == "CUSTOM":
        start = ts - ts % custom_ms
        return start, start + custom_ms
    at = datetime.datetime.fromtimestamp(ts / 1000, zone)
    if kind == "HOUR":
        start = at.replace(minute=0, second=0, microsecond=0)
        end = start + datetime.timedelta(hours=1)
    else:
        day = at.replace(hour=0, minute=0, second=0, microsecond=0)
        if kind == "DAY":
            start, end = day, day + datetime.timedelta(days=1)
        elif kind in ("WEEK", "WEEK_SUN_SAT"):
            back = day.weekday() if kind == "WEEK" else (day.weekday() + 1) % 7
            start = day - datetime.timedelta(days=back)
            end = start + datetime.timedelta(days=7)
        elif kind == "MONTH":
            start = day.replace(day=1)
            end = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
        else:
            start = day.replace(month=1, day=1)
            end = start.replace(year=start.year + 1)
        start, end = (d.replace(tzinfo=None).replace(tzinfo=zone) for d in (start, end))  # re-resolve DST offsets
    return int(start.timestamp() * 1000), int(end.timestamp() * 1000)


def _add(slot: dict, value, function: str) -> None:
    slot["n"] += 1
    slot["dirty"] = True
    if function == "COUNT_UNIQUE":
        unique = slot.setdefault("u", [])  # sorted hashes of the distinct values' texts
        digest = hashlib.blake2b(str(value).encode(), digest_size=16).hexdigest()
        at = bisect.bisect_left(unique, digest)
        if (at == len(unique) or unique[at] != digest) and len(unique) < MAX_UNIQUE:
            unique.insert(at, digest)
    elif function != "COUNT":
        slot["sum"] += value
        slot["min"] = value if slot["min"] is None else min(slot["min"], value)
        slot["max"] = value if slot["max"] is None else max(slot["max"], value)


def _result(slot: dict, function: str):
    if function == "COUNT":
        return slot["n"]
    if function == "COUNT_UNIQUE":
        return len(slot.get("u", ()))
    if function == "AVG":
        return slot["sum"] / slot["n"] if slot["n"] else None
    return {"SUM": slot["sum"], "MIN": slot["min"], "MAX": slot["max"]}[function]


class SimpleAggMsgNode(BaseNode):
    """ThingsBoard PE's "aggregate stream": ``mathFunction`` (MIN, MAX, SUM, AVG, COUNT,
    COUNT_UNIQUE) of ``inputValueKey`` over ``aggIntervalType`` intervals (HOUR, DAY, WEEK from
    Monday, WEEK_SUN_SAT, MONTH, YEAR in ``timeZoneId``; CUSTOM: ``aggIntervalValue``
    ``aggIntervalTimeUnit``). Results go out, per ``intervalPersistencePolicy``, at the first check
    after an interval ends (and again if late data changes it), at every check while it changed,
    or on each message (the result then leaves with that message's batch). An interval is dropped
    ``intervalTtlValue`` ``intervalTtlTimeUnit`` after its end; later data for it starts anew.
    Messages without the key go no further; a value that is not a number goes by Failure. The
    state is written to the database with every batch whatever ``statePersistencePolicy`` says;
    ``autoCreateIntervals`` (default values for silent entities) is refused on import."""

    label = "aggregate stream"
    group = "ACTION"
    side_effects = True
    savepoint = False
    defaults = {"mathFunction": "AVG", "aggIntervalType": "HOUR", "timeZoneId": "UTC", "aggIntervalValue": 1,
                "aggIntervalTimeUnit": "HOURS", "autoCreateIntervals": False,
                "intervalPersistencePolicy": "ON_EACH_CHECK_AFTER_INTERVAL_END", "intervalCheckValue": 1,
                "intervalCheckTimeUnit": "MINUTES", "intervalTtlValue": 1, "intervalTtlTimeUnit": "DAYS",
                "inputValueKey": "temperature", "outputValueKey": "avgHourlyTemperature",
                "statePersistencePolicy": "ON_EACH_CHANGE", "statePersistenceValue": 1,
                "statePersistenceTimeUnit": "MINUTES"}
    fields = (field("mathFunction", "select", "Aggregation function", choices=FUNCTIONS),
              field("aggIntervalType", "select", "Aggregation interval", choices=INTERVALS),
              field("timeZoneId", "text", "Time zone"),
              field("aggIntervalValue", "number", "Custom interval value"),
              field("aggIntervalTimeUnit", "select", "Custom interval unit", choices=tuple(UNITS)),
              field("inputValueKey", "text", "Input value key"),
              field("outputValueKey", "text", "Output value key"),
              field("intervalPersistencePolicy", "select", "Interval persistence policy", choices=POLICIES),
              field("intervalCheckValue", "number", "Interval check value"),
              field("intervalCheckTimeUnit", "select", "Interval check unit", choices=tuple(UNITS)),
              field("intervalTtlValue", "number", "Interval TTL value"),
              field("intervalTtlTimeUnit", "select", "Interval TTL unit", choices=tuple(UNITS)),
              field("statePersistencePolicy", "select", "State persistence policy", choices=STATE_POLICIES))

    @classmethod
    def clean_config(cls, configuration):
        if bool_option(configuration, "autoCreateIntervals"):
            raise ConfigError("autoCreateIntervals: creating intervals for entities without data is not supported here")
        zone = configuration.get("timeZoneId") or "UTC"
        try:
            tz = zoneinfo.ZoneInfo(zone) if isinstance(zone, str) else None
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            tz = None
        if tz is None:
            raise ConfigError(f"timeZoneId: unknown time zone {str(zone)[:40]!r}")
        keys = {}
        for key in ("inputValueKey", "outputValueKey"):
            value = configuration.get(key)
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{key} must be a non-empty key name")
            keys[key] = value
        choice(configuration, "statePersistencePolicy", STATE_POLICIES, "ON_EACH_CHANGE")
        int_option(configuration, "statePersistenceValue", 1)
        interval = choice(configuration, "aggIntervalType", INTERVALS, "HOUR")
        custom = period_ms(configuration, "aggIntervalValue", "aggIntervalTimeUnit", 1, "HOURS")
        if interval == "CUSTOM" and custom < MIN_CUSTOM_MS:
            raise ConfigError(f"aggIntervalValue: a custom interval must be at least {MIN_CUSTOM_MS // 1000} s")
        return {"function": choice(configuration, "mathFunction", FUNCTIONS, "AVG"),
                "interval": interval, "zone": tz, "custom": custom,
                "policy": choice(configuration, "intervalPersistencePolicy", POLICIES, POLICIES[0]),
                "check": period_ms(configuration, "intervalCheckValue", "intervalCheckTimeUnit", 1, "MINUTES"),
                "ttl": period_ms(configuration, "intervalTtlValue", "intervalTtlTimeUnit", 1, "DAYS"), **keys}

    # --- messages ---------------------------------------------------------------------------------

    def value_of(self, msg):
        data = msg.data if isinstance(msg.data, dict) else {}
        if self.config["inputValueKey"] not in data:
            return None
        raw = data[self.config["inputValueKey"]]
        value = number(raw) if self.config["function"] not in ("COUNT", "COUNT_UNIQUE") else raw
        if value is None:
            raise NodeError(f"Value of key '{self.config['inputValueKey']}' is not a number: {str(raw)[:60]}")
        return value

    def process_batch(self, ctx, msgs):
        outs: list = [[] for _ in msgs]
        wanted = {}
        for i, msg in enumerate(msgs):
            try:
                value = self.value_of(msg)
            except NodeError as e:
                outs[i] = fail(msg, e)
                continue
            if value is not None:
                wanted[i] = value
        slots = {}
        for i in wanted:
            ts = msg_ts(msgs[i], ctx.now)
            start, end = interval_of(ts, self.config["interval"], self.config["zone"], self.config["custom"])
            # an interval gone (ThingsBoard ignores such late data too), or data from the future: ignored
            if end + self.config["ttl"] >= ctx.now and ts <= ctx.now + (end - start):
                slots[i] = (start, end)
        if not slots:
            return outs
        with transaction.atomic():
            states = self.load(lock=True, create={msgs[i].originator_id: msgs[i].originator_type for i in slots})
            changed = {}
            for i, (start, end) in slots.items():
                msg = msgs[i]
                row = changed[msg.originator_id] = states[msg.originator_id]
                intervals = row.state_data.setdefault("intervals", {})
                if str(start) not in intervals and len(intervals) >= MAX_INTERVALS:
                    oldest = min(intervals, key=int)
                    del intervals[oldest]
                    log.warning("aggregate stream node '%s': %s %s has %d open intervals (MAX_INTERVALS); "
                                "the oldest, from %s, is dropped", self.row.name, row.entity_type, row.entity_id,
                                MAX_INTERVALS, oldest)
                slot = intervals.setdefault(
                    str(start), {"end": end, "n": 0, "sum": 0, "min": None, "max": None, "dirty": False})
                _add(slot, wanted[i], self.config["function"])
                if self.config["policy"] == "ON_EACH_MESSAGE":
                    slot["dirty"] = False
                    outs[i] = [Out(SUCCESS, self.result(row, start, slot))]
            self.save(changed.values())
        return outs

    def result(self, row, start, slot) -> Msg:
        return Msg(POST_TELEMETRY_REQUEST, row.tenant_id, row.entity_type, row.entity_id,
                   {self.config["outputValueKey"]: _result(slot, self.config["function"])}, {"ts": str(start)})

    def load(self, entity_ids=None, *, lock: bool = False, create: dict | None = None) -> dict:
        """{entity id: row} of the node's state (of ``entity_ids``, or of ``create``'s keys). With
        ``create`` ({entity id: entity type}) the missing rows are inserted first, so that ``lock``
        (select for update, in a transaction) finds and locks them all; both in entity-id order, so
        that two batches wait for each other rather than deadlock."""
        rows = RuleNodeState.objects.filter(tenant_id=self.row.tenant_id, rule_node_id=self.id)
        if create is not None:
            entity_ids = sorted(create)
            have = set(rows.filter(entity_id__in=entity_ids).values_list("entity_id", flat=True))
            RuleNodeState.objects.bulk_create(
                [RuleNodeState(tenant_id=self.row.tenant_id, rule_node_id=self.id, entity_type=create[pk],
                               entity_id=pk, state_data={"intervals": {}}) for pk in entity_ids if pk not in have],
                ignore_conflicts=True)
        if entity_ids is not None:
            rows = rows.filter(entity_id__in=list(entity_ids))
        rows = rows.order_by("entity_id")
        return {row.entity_id: row for row in (rows.select_for_update() if lock else rows)}

    def save(self, rows) -> None:
        """Write rows read by :meth:`load` (in entity-id order)."""
        rows = sorted(rows, key=lambda row: row.entity_id)
        if rows:
            RuleNodeState.objects.bulk_update(rows, ["state_data"])

    # --- the periodic check -----------------------------------------------------------------------

    def tick(self, now: int) -> int:
        """Send the results the policy says are due and drop expired intervals; messages sent."""
        from django.core.cache import cache

        key = f"rulenode-aggstream:{self.id}:next"
        due = cache.get(key)
        if due is None:
            cache.add(key, now + self.config["check"], timeout=None)
            return 0
        if now < due or not cache.add(f"{key}:{due}", 1, timeout=3600):
            return 0
        cache.set(key, max(due + self.config["check"], now + 1), timeout=None)
        ready = self.collect(now)
        if not ready:
            return 0
        from rulechains import engine

        report = engine.resume(self.row.tenant_id, self.row.rule_chain_id, self.id, SUCCESS, ready, now=now)
        return len(ready) - report.refused

    def collect(self, now: int) -> list[Msg]:
        """The results due now (their intervals marked sent, expired ones dropped), in one transaction."""
        ready, changed, empty = [], [], []
        with transaction.atomic():
            for row in self.load(lock=True).values():
                intervals = row.state_data.get("intervals", {})
                before = len(intervals)
                for start, slot in sorted(intervals.items(), key=lambda item: int(item[0])):
                    ended = slot["end"] <= now
                    if slot["dirty"] and (ended or self.config["policy"] == "ON_EACH_CHECK"):
                        slot["dirty"] = False
                        ready.append(self.result(row, int(start), slot))
                        changed.append(row)
                    if slot["end"] + self.config["ttl"] < now:
                        del intervals[start]
                if not intervals:
                    empty.append(row.pk)
                elif len(intervals) != before and (not changed or changed[-1] is not row):
                    changed.append(row)
            self.save({row.pk: row for row in changed if row.pk not in empty}.values())
            if empty:
                RuleNodeState.objects.filter(pk__in=empty).delete()
        return ready
