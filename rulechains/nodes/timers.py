"""Nodes that act later: the delay node and the message generator.

The delay node hands each message on by Success after its period: with a Celery worker as a task
with a countdown (``rulechains.tasks.resume_delayed``), in embedded mode (tasks run in-process)
on a timer thread. Like ThingsBoard's, a delayed message lives outside the durable queue: in the
broker's scheduled tasks here, in memory in embedded mode (lost on restart, as ThingsBoard's).

The generator makes one message every ``periodInSeconds`` from its script, run by the periodic
job ``rulechains.tasks.run_generators`` (Celery beat, or the embedded periodic runner), and sends
it on by Success. The same job runs the periodic work of other node types listed in ``TICKS``
(deduplication and message count, rulechains/nodes/dedup.py).
"""

import json
import logging
import threading
import uuid

from django.core.cache import cache
from django.db import close_old_connections
from django.utils.module_loading import import_string

from rulechains import scripts
from rulechains.messages import SUCCESS, Msg, changed, decode, encode
from rulechains.nodes.base import SCRIPT_FIELDS, BaseNode, ConfigError, NodeError, fail, field, int_option, substitute
from rulechains.nodes.scripted import ScriptNode

__all__ = ["MsgDelayNode", "MsgGeneratorNode", "resume_delayed", "run_generators", "TIMERS", "TICKS"]

log = logging.getLogger(__name__)

UNITS = {"SECONDS": 1, "MINUTES": 60, "HOURS": 3600}
#: functions ``(now) -> messages sent`` of other node types, run by the generators' periodic job (each second)
TICKS = ("rulechains.nodes.dedup.run_due", "rulechains.nodes.analytics.run_due")
#: embedded mode's pending timers (tests wait on them)
TIMERS: set[threading.Timer] = set()


#: shown under the period in the node's form
EMBEDDED_LOSS = ("Embedded mode (no REDIS_URL) keeps waiting messages in memory: they are lost when the process "
                 "restarts. With a Celery worker they wait in Redis.")


def _pending_key(node_id) -> str:
    return f"rulenode-delay-pending:{node_id}"


class MsgDelayNode(BaseNode):
    """Holds each message for ``periodValue`` ``periodTimeUnit`` (SECONDS, MINUTES, HOURS; or the
    patterns ``periodValuePattern``/``periodTimeUnitPattern`` with ``usePeriodValuePattern``/
    ``usePeriodTimeUnitPattern``; ThingsBoard's older ``periodInSeconds`` keys too), then sends it
    on by Success. At most ``maxPendingMsgs`` (1..100000) wait at once; more go by Failure.

    Where waiting messages are kept: with a Celery worker, as countdown tasks in the broker (Redis),
    so they outlive a restart of the web or worker processes. In embedded mode (no REDIS_URL) they
    wait on timer threads in memory and are LOST when the process stops or restarts, as
    ThingsBoard's delay node loses them; use a Celery worker where a delay must survive a restart."""

    label = "delay"
    group = "ACTION"
    side_effects = True
    defaults = {"periodValue": 60, "periodTimeUnit": "SECONDS", "maxPendingMsgs": 1000}
    fields = (field("periodValue", "number", "Period", help=EMBEDDED_LOSS),
              field("periodTimeUnit", "select", "Unit", choices=tuple(UNITS)),
              field("maxPendingMsgs", "number", "Maximum pending messages"))
    savepoint = False

    @classmethod
    def clean_config(cls, configuration):
        value = configuration.get("periodValue", configuration.get("periodInSeconds"))
        unit = configuration.get("periodTimeUnit") or "SECONDS"
        pending = int_option(configuration, "maxPendingMsgs", 1000)
        if not 1 <= pending <= 100_000:  # ThingsBoard's own check and text
            raise ConfigError(f"Invalid maximum pending messages limit [{pending}], should be in range from 1 to "
                              "100000 (inclusive)!")
        if not isinstance(unit, str) or unit not in UNITS:
            raise ConfigError(f"Unsupported time unit: {str(unit)[:20]}")
        value_pattern = configuration.get("periodValuePattern", configuration.get("periodInSecondsPattern"))
        use_value_pattern = configuration.get("usePeriodValuePattern",
                                              configuration.get("useMetadataPeriodInSecondsPatterns"))
        if not use_value_pattern:
            value = int_option({"periodValue": value}, "periodValue", 60, low=0)
        return {"value": value, "unit": unit, "max": pending,
                "valuePattern": str(value_pattern or "") if use_value_pattern else None,
                "unitPattern": str(configuration.get("periodTimeUnitPattern") or "")
                if configuration.get("usePeriodTimeUnitPattern") else None}

    def seconds(self, msg) -> int:
        config = self.config
        value, unit = config["value"], config["unit"]
        if config["valuePattern"] is not None:
            try:
                value = int(substitute(config["valuePattern"], msg))
            except ValueError:
                raise NodeError(f"Can't parse period value using pattern: {config['valuePattern']}") from None
        if config["unitPattern"] is not None:
            unit = substitute(config["unitPattern"], msg)
            if unit not in UNITS:
                raise NodeError(f"Can't parse period time unit using pattern: {config['unitPattern']}")
        return max(value, 0) * UNITS[unit]

    def process_batch(self, ctx, msgs):
        outs = []
        stacks = ctx.stacks if len(ctx.stacks) == len(msgs) else [()] * len(msgs)
        key = _pending_key(self.id)
        for msg, stack in zip(msgs, stacks, strict=True):
            try:
                delay = self.seconds(msg)
            except NodeError as e:
                outs.append(fail(msg, e))
                continue
            cache.add(key, 0, timeout=None)
            if cache.incr(key) > self.config["max"]:
                cache.decr(key)
                outs.append(fail(msg, "Max limit of pending messages reached!"))
                continue
            _schedule({"node": str(self.id), "chain": str(self.row.rule_chain_id), "tenant": str(ctx.tenant_id),
                       "stack": [[str(c), i] for c, i in stack], "msg": encode(msg)}, delay)
            outs.append([])
        return outs


def _schedule(payload: dict, delay: int) -> None:
    from rulechains.tasks import resume_delayed_task

    if resume_delayed_task.app.conf.task_always_eager:  # embedded: no broker to hold the message meanwhile
        timer = threading.Timer(delay, _fire, args=(payload,))
        timer.daemon = True
        TIMERS.add(timer)
        timer.start()
        return
    resume_delayed_task.apply_async(args=[payload], countdown=delay)


def _fire(payload: dict) -> None:
    try:
        close_old_connections()
        resume_delayed(payload)
    except Exception:
        log.exception("delay node %s: the delayed message could not go on", payload.get("node"))
    finally:
        close_old_connections()
        TIMERS.difference_update({t for t in TIMERS if t.finished.is_set()})


def resume_delayed(payload: dict) -> None:
    """Send a delayed message on from its delay node by Success."""
    from rulechains import engine

    key = _pending_key(payload["node"])
    try:
        cache.decr(key)
    except ValueError:
        pass
    engine.resume(uuid.UUID(payload["tenant"]), uuid.UUID(payload["chain"]), uuid.UUID(payload["node"]), SUCCESS,
                  [decode(payload["msg"])], payload.get("stack") or ())


class MsgGeneratorNode(ScriptNode):
    """Makes a message every ``periodInSeconds`` (at most ``msgCount`` in all; 0: no limit) with
    ``jsScript``/``tbelScript``, the body of ``Generate(prevMsg, prevMetadata, prevMsgType)``
    returning ``{msg, metadata, msgType}``; its originator is ``originatorType``/``originatorId``
    (an entity not of the node's tenant: engine.resume drops the message), or the node itself
    (RULE_NODE). Messages reaching the node are dropped (it has no input)."""

    label = "generator"
    group = "ACTION"
    defaults = {"msgCount": 0, "periodInSeconds": 1, "originatorId": None, "originatorType": None, "scriptLang": "JS",
                "jsScript": "var msg = {temp: 42, humidity: 77};\nvar metadata = {data: 40};\n"
                            "return {msg: msg, metadata: metadata, msgType: 'POST_TELEMETRY_REQUEST'};"}
    fields = (field("msgCount", "number", "Message count", help="0: no limit"),
              field("periodInSeconds", "number", "Period (s)"), *SCRIPT_FIELDS)
    relations = ("Success", "Failure")
    script_kind = "generate"

    @classmethod
    def clean_config(cls, configuration):
        configuration = super().clean_config(configuration)
        count = int_option(configuration, "msgCount", 0, low=0)
        period = int_option(configuration, "periodInSeconds", 1, low=0)
        raw = configuration.get("originatorId")
        try:
            originator = uuid.UUID(str(raw.get("id") if isinstance(raw, dict) else raw)) if raw else None
        except ValueError:
            raise ConfigError(f"originatorId must be an entity's UUID, got {str(raw)[:64]!r}") from None
        return {**configuration, "msgCount": count, "periodInSeconds": period, "originator": originator,
                "period": max(period, 1)}

    def process_batch(self, ctx, msgs):
        return [[] for _ in msgs]

    def generate(self, tenant_id, previous: dict | None) -> Msg:
        """The next message, from the previous one's data, metadata and type."""
        previous = previous or {"msg": {}, "metadata": {}, "msgType": ""}
        originator = self.config["originator"]
        kind = str(self.config.get("originatorType") or "RULE_NODE") if originator else "RULE_NODE"
        seed = Msg(previous["msgType"], tenant_id, kind, originator or self.id, previous["msg"], previous["metadata"])
        lang, body = scripts.script_of(self.config)
        [result] = scripts.run("generate", f"rulenode:{self.id}", self.row.version, body, [seed], lang)
        if not result.ok:
            raise NodeError(result.error)
        value = json.loads(result.output_json)
        if not isinstance(value, dict) or not isinstance(value.get("metadata", {}), dict):
            raise NodeError(f"Wrong result type: the generator must return {{msg, metadata, msgType}}, got "
                            f"{result.output_json[:100]}")
        made = Msg(str(value.get("msgType") or "POST_TELEMETRY_REQUEST"), tenant_id, kind, originator or self.id,
                   value.get("msg", {}), {})
        return changed(made, metadata=value.get("metadata") or {})


def run_generators(now: int) -> int:
    """Run every generator node that is due, then the periodic work in TICKS; returns how many
    messages were made or sent on."""
    made = _generate(now)
    for path in TICKS:
        try:
            made += import_string(path)(now)
        except Exception:  # the generators' job goes on whatever another node type's tick does
            log.exception("periodic rule-node work %s failed", path)
    return made


def _generate(now: int) -> int:
    """Run every generator node that is due; returns how many messages were made."""
    from rulechains import engine
    from rulechains.models import RuleNode
    from rulechains.nodes import GENERATOR

    made = 0
    for row in RuleNode.objects.filter(type=GENERATOR).order_by():
        state_key = f"rulenode-generator:{row.pk}"
        state = cache.get(state_key) or {"next": 0, "count": 0, "prev": None}
        try:
            node = MsgGeneratorNode(row)
        except ConfigError as e:
            log.warning("generator node %s: %s", row.pk, e)
            continue
        limit = node.config.get("msgCount") or 0
        if now < state["next"] or (limit and state["count"] >= limit):
            continue
        if not cache.add(f"{state_key}:{state['next']}", 1, timeout=3600):  # another process took this tick
            continue
        state.update(next=now + node.config["period"] * 1000, count=state["count"] + 1)
        try:
            msg = node.generate(row.tenant_id, state["prev"])
        except NodeError as e:
            log.warning("generator node '%s' (%s): %s", row.name, row.pk, e)
            cache.set(state_key, state, timeout=None)
            continue
        state["prev"] = {"msg": msg.data, "metadata": msg.metadata, "msgType": msg.msg_type}
        cache.set(state_key, state, timeout=None)
        report = engine.resume(row.tenant_id, row.rule_chain_id, row.pk, SUCCESS, [msg], now=now)
        made += 1 - report.refused  # a message as an entity not of the tenant is dropped there
    return made
