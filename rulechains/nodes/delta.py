"""Calculate delta (ThingsBoard's metadata.CalculateDeltaNode): a reading minus the originator's previous one."""

import math
import re
from decimal import Decimal

from devices.telemetry import history, latest_many
from rulechains.messages import OTHER, POST_TELEMETRY_REQUEST, SUCCESS, changed
from rulechains.nodes.base import BaseNode, ConfigError, NodeError, Out, fail, field, int_option
from rulechains.nodes.calc import finite_double, known_originators, option_flag
from rulechains.nodes.expressions import (
    jackson_double,
    java_double,
    java_round,
    java_text,
)

__all__ = ["CalculateDeltaNode"]


#: useCache: the last reading per (node, input key, originator) in this worker process
_CACHE: dict = {}
_CACHE_SIZE = 100_000


#: a metadata ts read as one: ASCII digits of a long ("²" is a digit to str.isdigit, int() refuses it)
_TS = re.compile(r"[0-9]{1,18}")


def _reading(key: str, hit) -> tuple[int, float] | None:
    """A stored latest value as (ts, number), with ThingsBoard's errors for what is not a number."""
    if hit is None or hit[1] is None:
        return None
    ts, value = hit
    if isinstance(value, bool):
        raise NodeError("Calculation failed. Boolean values are not supported!")
    if isinstance(value, (dict, list)):
        raise NodeError("Calculation failed. JSON values are not supported!")
    if isinstance(value, str):
        try:
            return ts, java_double(value)
        except ValueError:
            raise NodeError(f"Calculation failed. Unable to parse value [{value}] of telemetry [{key}] to Double") \
                from None
    return ts, finite_double(value, f"telemetry [{key}]")


class CalculateDeltaNode(BaseNode):
    """For a POST_TELEMETRY_REQUEST whose data has ``inputValueKey``, adds ``outputValueKey``:
    the value minus the originator's previous reading (0 for the first; rounded to ``round``
    decimals when set; an integer when it has no decimals) and, with ``addPeriodBetweenMsgs``,
    ``periodValueKey``: the ms since that reading. A negative delta goes by Failure with
    ``tellFailureIfDeltaIsNegative``; a zero delta passes unchanged with ``excludeZeroDeltas``;
    other messages go by Other. The previous reading is the last one this node saw
    (``useCache``, per worker process) or else the originator's latest time series value of
    the key (for uplink data the pipeline stored already: the newest before this reading).
    Besides ThingsBoard's flat data, the uplink form ``[{ts, values}]`` is handled per entry.
    A test run of the chain computes deltas without touching the cache."""

    label = "calculate delta"
    group = "ENRICHMENT"
    side_effects = True  # the cache: a test run must not leave its readings there
    relations = ("Success", "Failure", "Other")
    defaults = {"inputValueKey": "pulseCounter", "outputValueKey": "delta", "useCache": True,
                "addPeriodBetweenMsgs": False, "periodValueKey": "periodInMs", "round": None,
                "tellFailureIfDeltaIsNegative": True, "excludeZeroDeltas": False}
    fields = (field("inputValueKey", "text", "Input value key"), field("outputValueKey", "text", "Output value key"),
              field("round", "number", "Decimals", help="empty: no rounding"), field("useCache", "bool", "Use cache"),
              field("tellFailureIfDeltaIsNegative", "bool", "Failure if the delta is negative"),
              field("addPeriodBetweenMsgs", "bool", "Add the period between messages"),
              field("periodValueKey", "text", "Period value key"),
              field("excludeZeroDeltas", "bool", "Exclude zero deltas"))

    @classmethod
    def clean_config(cls, configuration):
        names = {"inputValueKey": "Input", "outputValueKey": "Output", "periodValueKey": "Period"}
        config = {name: configuration.get(name) for name in names}
        period = option_flag(configuration.get("addPeriodBetweenMsgs"))
        for name, what in names.items():
            if (name != "periodValueKey" or period) and (not isinstance(config[name], str) or not config[name].strip()):
                raise ConfigError(f"{name}: {what} value key should be specified!")
        return {**config, "round": int_option(configuration, "round", None, low=-300, high=300), "period": period,
                **{name: option_flag(configuration.get(name)) for name in ("useCache", "tellFailureIfDeltaIsNegative",
                                                                     "excludeZeroDeltas")}}

    def process_batch(self, ctx, msgs):
        return self._run(ctx, msgs, remember=True)

    def simulate(self, ctx, msgs):
        return self._run(ctx, msgs, remember=False)

    def _run(self, ctx, msgs, *, remember: bool):
        key = self.config["inputValueKey"]
        found = [self._entries(m) for m in msgs]
        wanted = [m for m, entries in zip(msgs, found, strict=True) if entries is not None]
        known = known_originators(ctx, wanted) if wanted else set()
        previous = {}  # originator -> its last reading in this batch
        if self.config["useCache"]:
            previous.update({m.originator_id: _CACHE[c] for m in wanted if (c := self._cache_key(m)) in _CACHE})
        misses = {m.originator_id for m in wanted if m.originator_id in known and m.originator_id not in previous}
        latest = latest_many(misses, [key]) if misses else {}
        outs = []
        for msg, entries in zip(msgs, found, strict=True):
            if entries is None:
                outs.append([Out(OTHER, msg)])
                continue
            try:
                outs.append([Out(SUCCESS, self._one(ctx, msg, entries, (previous, latest, known), remember))])
            except NodeError as e:
                outs.append(fail(msg, e))
        return outs

    def _cache_key(self, msg):
        return self.id, self.config["inputValueKey"], msg.originator_id

    def _entries(self, msg):
        """The (values object, ts) pairs that carry the input key; None: the message goes by Other."""
        key, data = self.config["inputValueKey"], msg.data
        if msg.msg_type != POST_TELEMETRY_REQUEST:
            return None
        ts = str(msg.metadata.get("ts", ""))
        if isinstance(data, dict) and key in data:
            return [(data, int(ts) if _TS.fullmatch(ts) else None)]
        items = data if isinstance(data, list) else [data]
        entries = [(item["values"], item.get("ts")) for item in items if isinstance(item, dict)
                   and isinstance(item.get("values"), dict) and key in item["values"]]
        return sorted(entries, key=lambda e: e[1] if isinstance(e[1], int) else 0) or None

    def _previous(self, msg, ts, previous, latest, known):
        key, originator = self.config["inputValueKey"], msg.originator_id
        if originator in previous:
            return previous[originator]
        if originator not in known:
            return None
        hit = latest.get((originator, key))
        if hit is not None and msg.stored and hit[0] >= ts:  # this reading is stored already: the one before it
            older = history(originator, [key], 0, ts, limit=1, order="DESC").get(key)
            hit = older[0] if older else None
        return _reading(key, hit)

    def _one(self, ctx, msg, entries, lookups, remember: bool):
        config, changes, previous = self.config, {}, lookups[0]
        for values, ts in entries:
            ts = ts if isinstance(ts, int) and not isinstance(ts, bool) else ctx.now
            before = self._previous(msg, ts, *lookups)
            value = values[config["inputValueKey"]]
            # Jackson's asDouble, but an integer beyond a double (10**400) fails the message
            current = finite_double(value, f"'{config['inputValueKey']}'") if isinstance(value, int) \
                else jackson_double(value)
            previous[msg.originator_id] = (ts, current)
            if config["useCache"] and remember:
                self._remember(msg, (ts, current))
            delta = current - before[1] if before else 0.0
            if not math.isfinite(delta):
                raise NodeError(f"Calculation failed. The delta is not a finite number: {java_text(delta)}")
            if config["tellFailureIfDeltaIsNegative"] and delta < 0:
                raise NodeError("Delta value is negative!")
            if config["excludeZeroDeltas"] and delta == 0:
                continue
            exact = java_round(delta, config["round"]) if config["round"] is not None else Decimal(repr(delta))
            added = {config["outputValueKey"]: float(exact) if exact.normalize().as_tuple().exponent < 0
                     else int(exact)}
            if config["period"]:
                added[config["periodValueKey"]] = ts - before[0] if before else 0
            changes[id(values)] = {**values, **added}
        return changed(msg, data=self._with(msg.data, changes)) if changes else msg

    def _remember(self, msg, reading):
        key = self._cache_key(msg)
        _CACHE.pop(key, None)
        _CACHE[key] = reading
        if len(_CACHE) > _CACHE_SIZE:
            del _CACHE[next(iter(_CACHE))]

    @staticmethod
    def _with(data, changes: dict):
        """The data with the changed values objects put in place (flat data, {ts, values}, or a list of those)."""
        if id(data) in changes:
            return changes[id(data)]
        if isinstance(data, dict):
            return {**data, "values": changes.get(id(data["values"]), data["values"])}
        return [CalculateDeltaNode._with(item, changes) if isinstance(item, dict) and isinstance(
            item.get("values"), dict) else item for item in data]
