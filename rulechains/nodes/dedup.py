"""Nodes that gather messages and emit later: deduplication and message count.

Both keep their state in Django's cache (Redis with a Celery worker, in memory in embedded mode),
shared by every process that runs the rule engine, and emit from the periodic job that runs the
generator nodes each second (``rulechains.tasks.run_generators`` -> :func:`run_due`, through
``timers.TICKS``). Emitted messages go on from the node by Success (``engine.resume``), as the
delay node's do. As in ThingsBoard, whose nodes keep this state in the memory of the rule-engine
actor, what is pending is lost when the cache is (embedded mode: when the process restarts).
"""

import logging
import pickle
import time
import uuid
from contextlib import contextmanager

from django.conf import settings
from django.core.cache import cache
from django.db import InterfaceError, OperationalError

from rulechains.messages import POST_TELEMETRY_REQUEST, SUCCESS, Msg, decode, encode, msg_ts
from rulechains.nodes.base import BaseNode, ConfigError, fail, field, int_option

__all__ = ["MsgDeduplicationNode", "MsgCountNode", "run_due", "STRATEGIES", "service_id"]

log = logging.getLogger(__name__)

STRATEGIES = ("FIRST", "LAST", "ALL")
#: ThingsBoard's TB_MSG_DEDUPLICATION_RETRY_DELAY: seconds before a result that could not go on is tried again
RETRY_DELAY_MS = 10_000
#: pending state outlives its interval by this much, then the cache forgets it (a deleted node)
STATE_GRACE_SECONDS = 86_400


#: nesting levels of headroom when checking that a pending message can be stored: the cache
#: pickles it inside the state ({"msgs": [[ts, {"d": data}]]}) from deeper in the stack
_STORE_HEADROOM = 100


def _check_storable(entry) -> None:
    """Raises (RecursionError for data nested too deep, PicklingError, TypeError) when the cache
    could not pickle ``entry`` as part of a node's pending state."""
    nested = entry
    for _ in range(_STORE_HEADROOM):
        nested = [nested]
    pickle.dumps(nested, protocol=pickle.HIGHEST_PROTOCOL)


@contextmanager
def _locked(key: str, wait: float = 10.0):
    """One process at a time changes a node's pending messages (ThingsBoard: one actor per node)."""
    token = uuid.uuid4().hex
    deadline = time.monotonic() + wait
    while not cache.add(key, token, timeout=30):
        if time.monotonic() > deadline:
            raise RuntimeError(f"the pending messages of this node stayed locked for {wait:.0f} s")
        time.sleep(0.005)
    try:
        yield
    finally:
        if cache.get(key) == token:
            cache.delete(key)


class MsgDeduplicationNode(BaseNode):
    """Deduplicates the messages of each originator over ``interval`` seconds. A pack starts with
    the oldest pending message (its metadata ``ts``, else its arrival) and holds those of the next
    ``interval``; when a pack is over the node sends, by Success, with strategy FIRST the oldest
    message of the pack, LAST the newest, ALL one message of type ``outMsgType`` from the
    originator whose data is ``[{"msg": data, "metadata": {...}}, ...]`` (in arrival order) and
    metadata ``{"ts": now}``. The first message of an originator schedules a check ``interval``
    seconds (+1 ms) later, which sends every pack that is over and schedules the next check while
    messages remain. At most ``maxPendingMsgs`` (1..1000) wait per originator; more go by Failure.
    A result that cannot go on (the database is unreachable when the chain is loaded) is tried
    again ``maxRetries`` (0..100) times, 10 s apart.
    ``queueName`` (ThingsBoard before version 1 of this node) is accepted and ignored."""

    label = "deduplication"
    group = "TRANSFORMATION"
    side_effects = True
    savepoint = False
    defaults = {"interval": 60, "strategy": "FIRST", "outMsgType": None, "maxPendingMsgs": 100, "maxRetries": 3}
    fields = (field("interval", "number", "Interval (s)"),
              field("strategy", "select", "Strategy", choices=STRATEGIES),
              field("outMsgType", "text", "Output message type", help="ALL strategy only"),
              field("maxPendingMsgs", "number", "Maximum pending messages per originator"),
              field("maxRetries", "number", "Maximum retries"))

    @classmethod
    def clean_config(cls, configuration):
        strategy = configuration.get("strategy") or "FIRST"
        if not isinstance(strategy, str) or strategy not in STRATEGIES:
            raise ConfigError(f"strategy must be one of {', '.join(STRATEGIES)}, got {str(strategy)[:40]!r}")
        out_type = configuration.get("outMsgType")
        if strategy == "ALL" and (not isinstance(out_type, str) or not out_type.strip()):
            raise ConfigError("outMsgType (the output message type) is required with the ALL strategy")
        return {"interval": int_option(configuration, "interval", 60, low=1), "strategy": strategy,
                "outMsgType": out_type.strip() if strategy == "ALL" else None,
                "maxPendingMsgs": int_option(configuration, "maxPendingMsgs", 100, low=1, high=1000),
                "maxRetries": int_option(configuration, "maxRetries", 3, low=0, high=100)}

    @property
    def interval_ms(self) -> int:
        return self.config["interval"] * 1000

    def _key(self, part: str = "") -> str:
        return f"rulenode-dedup:{self.id}:{part}"

    def process_batch(self, ctx, msgs):
        outs: list = [[] for _ in msgs]
        with _locked(self._key("lock")):
            index = set(cache.get(self._key("index")) or ())
            wanted = {self._key(str(m.originator_id)) for m in msgs}
            states = cache.get_many(list(wanted))
            changed = set()
            for i, msg in enumerate(msgs):
                key = self._key(str(msg.originator_id))
                state = states.setdefault(key, {"tick": None, "msgs": []})
                if len(state["msgs"]) >= self.config["maxPendingMsgs"]:
                    outs[i] = fail(msg, f"[{self.id}] Max limit of pending messages reached for deduplication id: "
                                        f"[{msg.originator_id}]")
                    continue
                try:
                    entry = [msg_ts(msg, ctx.now), encode(msg)]
                    _check_storable(entry)
                except (TypeError, ValueError, RecursionError, pickle.PicklingError) as e:
                    # this message only: the others of the batch are stored (cache.set_many below)
                    outs[i] = fail(msg, f"the message data cannot be kept: {type(e).__name__}: {str(e)[:200]}")
                    continue
                state["msgs"].append(entry)
                if state["tick"] is None:
                    state["tick"] = ctx.now + self.interval_ms + 1
                changed.add(key)
                index.add(str(msg.originator_id))
            self._store(index, {k: states[k] for k in changed})
        return outs

    def _store(self, index: set, states: dict) -> None:
        timeout = self.config["interval"] + STATE_GRACE_SECONDS
        if states:
            cache.set_many(states, timeout=timeout)
        cache.set(self._key("index"), sorted(index), timeout=timeout)

    def packs(self, entries: list, now: int) -> tuple[list[list], list]:
        """(the packs that are over, the entries still pending), ThingsBoard's findValidPack loop."""
        done, left = [], list(entries)
        while left:
            start = min(ts for ts, _ in left)
            if start + self.interval_ms > now:
                break
            done.append([e for e in left if start <= e[0] < start + self.interval_ms])
            left = [e for e in left if not start <= e[0] < start + self.interval_ms]
        return done, left

    def result(self, pack: list, tenant_id, now: int) -> Msg:
        """The message one pack sends on."""
        if self.config["strategy"] == "ALL":
            msgs = [decode(item) for _, item in pack]
            first = msgs[0]
            return Msg(self.config["outMsgType"], tenant_id, first.originator_type, first.originator_id,
                       [{"msg": m.data, "metadata": dict(m.metadata)} for m in msgs], {"ts": str(now)})
        pick = pack[0]
        for entry in pack[1:]:  # strictly older (FIRST) or newer (LAST): ties keep the earlier arrival
            if (entry[0] < pick[0]) if self.config["strategy"] == "FIRST" else (entry[0] > pick[0]):
                pick = entry
        return decode(pick[1])

    def tick(self, now: int) -> int:
        """Send the packs that are over for the originators whose check is due; returns how many went on."""
        if not cache.get(self._key("index")) and not cache.get(self._key("retry")):
            return 0
        with _locked(self._key("lock")):
            ready = self._take_retries(now)
            index = set(cache.get(self._key("index")) or ())
            states = cache.get_many([self._key(o) for o in index])
            for originator in sorted(index):
                state = states.get(self._key(originator))
                if state is not None and state["msgs"] and (state["tick"] or 0) > now:
                    continue  # this originator's check is not due yet
                if state is not None and state["msgs"]:
                    done, state["msgs"] = self.packs(state["msgs"], now)
                    ready.extend((self.result(pack, self.row.tenant_id, now), 0) for pack in done)
                    state["tick"] = now + self.interval_ms + 1 if state["msgs"] else None
                if state is None or not state["msgs"]:
                    index.discard(originator)
                    cache.delete(self._key(originator))
                    states.pop(self._key(originator), None)
            self._store(index, states)
        # outside the lock: the chain after this node may lead back to it
        sent, kept = self._send(ready, now)
        if kept:
            with _locked(self._key("lock")):
                retry = (cache.get(self._key("retry")) or []) + kept
                cache.set(self._key("retry"), retry, timeout=STATE_GRACE_SECONDS)
        return sent

    def _take_retries(self, now: int) -> list:
        """The results kept for a retry that are due now, as (message, attempts so far); the rest stay."""
        due, later = [], []
        for entry in cache.get(self._key("retry")) or ():
            (due if entry["at"] <= now else later).append(entry)
        if due:
            cache.set(self._key("retry"), later, timeout=STATE_GRACE_SECONDS)
        return [(decode(e["msg"]), e["attempt"]) for e in due]

    def _send(self, ready: list, now: int) -> tuple[int, list]:
        """Run the results on from this node; those the engine could not take are kept for a retry."""
        from rulechains import engine

        if not ready:
            return 0, []
        try:
            engine.resume(self.row.tenant_id, self.row.rule_chain_id, self.id, SUCCESS, [m for m, _ in ready],
                          now=now)
            return len(ready), []
        except (OperationalError, InterfaceError) as e:
            kept = [{"at": now + RETRY_DELAY_MS, "attempt": n + 1, "msg": encode(m)} for m, n in ready
                    if n < self.config["maxRetries"]]
            log.warning("deduplication node %s: %d results could not go on (%s); %d kept for a retry", self.id,
                        len(ready), e, len(kept))
            return 0, kept


def service_id() -> str:
    """The service id in the message count node's telemetry key: the TB_SERVICE_ID setting, else
    this host's name (ThingsBoard's default service id)."""
    import socket

    return str(getattr(settings, "TB_SERVICE_ID", "") or socket.gethostname())


class MsgCountNode(BaseNode):
    """Counts the messages that reach it (they go no further) and every ``interval`` seconds sends
    by Success a POST_TELEMETRY_REQUEST from the tenant whose data is
    ``{"<telemetryPrefix>_<serviceId>": count}`` (the count since the previous one, 0 included)
    and metadata ``delta``: the milliseconds since the previous one. The service id is
    :func:`service_id`. The first count goes out one interval after the periodic job first sees
    the node; after an outage the schedule restarts from the current time (no burst of zeros)."""

    label = "message count"
    group = "ACTION"
    side_effects = True
    savepoint = False
    defaults = {"interval": 1, "telemetryPrefix": "messageCount"}
    fields = (field("interval", "number", "Interval (s)"),
              field("telemetryPrefix", "text", "Output timeseries key prefix"))

    @classmethod
    def clean_config(cls, configuration):
        prefix = configuration.get("telemetryPrefix", "messageCount")
        if not isinstance(prefix, str) or not prefix.strip():
            raise ConfigError("telemetryPrefix must be a non-empty text")
        return {"interval": int_option(configuration, "interval", 1, low=1), "telemetryPrefix": prefix}

    def _key(self, part: str) -> str:
        return f"rulenode-count:{self.id}:{part}"

    def process_batch(self, ctx, msgs):
        cache.add(self._key("count"), 0, timeout=None)
        try:
            cache.incr(self._key("count"), len(msgs))
        except ValueError:  # evicted between add and incr
            cache.set(self._key("count"), len(msgs), timeout=None)
        return [[] for _ in msgs]

    def tick(self, now: int) -> int:
        """Send the count when an interval is over; returns 1 when it did."""
        interval_ms = self.config["interval"] * 1000
        due = cache.get(self._key("next"))
        if due is None:
            cache.add(self._key("next"), now + interval_ms, timeout=None)
            return 0
        if now < due or not cache.add(self._key(f"tick:{due}"), 1, timeout=3600):  # not yet, or another took it
            return 0
        following = due + interval_ms
        cache.set(self._key("next"), following if following > now else now + interval_ms, timeout=None)
        count = cache.get(self._key("count")) or 0
        if count:
            cache.decr(self._key("count"), count)  # what arrived meanwhile stays for the next count
        return self._send(count, now - due + interval_ms, now)

    def _send(self, count: int, delta: int, now: int) -> int:
        from rulechains import engine

        tenant_id = self.row.tenant_id
        msg = Msg(POST_TELEMETRY_REQUEST, tenant_id, "TENANT", tenant_id,
                  {f"{self.config['telemetryPrefix']}_{service_id()}": count}, {"delta": str(delta)})
        engine.resume(tenant_id, self.row.rule_chain_id, self.id, SUCCESS, [msg], now=now)
        return 1


def run_due(now: int) -> int:
    """The periodic work of every deduplication and message count node; returns how many messages went on."""
    from rulechains.models import RuleNode

    kinds = {"org.thingsboard.rule.engine.deduplication.TbMsgDeduplicationNode": MsgDeduplicationNode,
             "org.thingsboard.rule.engine.action.TbMsgCountNode": MsgCountNode}
    made = 0
    for row in RuleNode.objects.filter(type__in=list(kinds)).order_by():
        try:
            made += kinds[row.type](row).tick(now)
        except ConfigError as e:
            log.warning("rule node '%s' (%s): %s", row.name, row.pk, e)
        except Exception:  # one node's trouble must not stop the others' ticks
            log.exception("rule node '%s' (%s): its periodic work failed", row.name, row.pk)
    return made
