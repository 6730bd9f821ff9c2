"""Flow nodes: the rule chain node (call another chain), the output node (return from it), and
the acknowledge and checkpoint nodes (queue control in ThingsBoard, pass-through here)."""

import uuid

from rulechains.messages import SUCCESS
from rulechains.models import RuleChain
from rulechains.nodes.base import RETURN, BaseNode, ConfigError, Out, fail, field
from rulechains.profiles import chain_ref

__all__ = ["RuleChainInputNode", "RuleChainOutputNode", "AckNode", "CheckpointNode"]


def _chain_id(raw):
    raw = raw.get("id") if isinstance(raw, dict) else raw
    try:
        return uuid.UUID(str(raw))
    except (TypeError, ValueError):
        raise ConfigError(f"ruleChainId must be a rule chain's UUID, got {str(raw)[:64]!r}") from None


def default_chain_of(entity) -> uuid.UUID | None:
    """The default rule chain of a device's or asset's profile (``defaultRuleChainId``), if any."""
    return chain_ref(getattr(getattr(entity, "profile", None), "additional_info", None))


class RuleChainInputNode(BaseNode):
    """``ruleChainId``: sends each message to the first node of that chain of the tenant. What
    reaches an output node there comes back here and leaves by the output node's name as the
    relation (ThingsBoard's "rule chain" node; its relations are the target's outputs). With
    ``forwardMsgToDefaultRuleChain`` a device's or asset's message goes to its profile's default
    rule chain instead (``ruleChainId`` is the fallback). Failure when the chain is not the
    tenant's."""

    label = "rule chain"
    group = "FLOW"
    custom_relations = True
    defaults = {"ruleChainId": None, "forwardMsgToDefaultRuleChain": False}
    fields = (field("ruleChainId", "text", "Rule chain id", help="the called chain's UUID"),
              field("forwardMsgToDefaultRuleChain", "bool", "Forward to the profile's default rule chain"))
    relations = ("Failure",)

    @classmethod
    def clean_config(cls, configuration):
        return {**configuration, "ruleChainId": _chain_id(configuration.get("ruleChainId")),
                "forwardMsgToDefaultRuleChain": bool(configuration.get("forwardMsgToDefaultRuleChain"))}

    def process_batch(self, ctx, msgs):
        targets = [self.config["ruleChainId"]] * len(msgs)
        if self.config["forwardMsgToDefaultRuleChain"]:
            entities = ctx.originators(msgs)
            targets = [default_chain_of(entities.get(m.originator_id)) or t for m, t in zip(msgs, targets, strict=True)]
        known = set(RuleChain.objects.filter(tenant_id=ctx.tenant_id, pk__in=set(targets)).values_list("pk", flat=True))
        return [[Out(SUCCESS, m, None, t)] if t in known else fail(m, f"Rule chain with id [{t}] is not found")
                for m, t in zip(msgs, targets, strict=True)]


class RuleChainOutputNode(BaseNode):
    """Ends the message's walk in this chain: it goes back to the rule chain node that called the
    chain and leaves that node by this node's name. In a chain nobody called (the root) it ends."""

    label = "output"
    group = "FLOW"
    relations = ()
    savepoint = False

    def process(self, ctx, msg):
        return [Out(self.name, msg, None, RETURN)]


class AckNode(BaseNode):
    """ThingsBoard acknowledges the message in its queue (it is never redelivered, whatever
    happens next) and sends it on by Success. Here messages are not held in a rule-engine queue
    that could redeliver them, so the node only sends the message on by Success."""

    label = "acknowledge"
    group = "FLOW"
    defaults = {"version": 0}
    savepoint = False

    def process(self, ctx, msg):
        return [Out(SUCCESS, msg)]


class CheckpointNode(BaseNode):
    """ThingsBoard moves the message to another rule-engine queue (``queueName``, e.g.
    "HighPriority"; in the node's configuration before ThingsBoard 3.6, on the node itself since)
    and acknowledges it in the current one; it continues by Success from there. This engine has
    one queue, so the node sends the message on by Success at once; ``queueName`` is accepted
    and kept, not used."""

    label = "checkpoint"
    group = "FLOW"
    defaults = {"version": 0}
    fields = (field("queueName", "text", "Queue name", help="ThingsBoard's queue; not used here"),)
    savepoint = False

    @classmethod
    def clean_config(cls, configuration):
        queue = configuration.get("queueName")
        # ThingsBoard's upgrade drops the old key whatever it holds, so nothing here is refused
        return {"queueName": queue if isinstance(queue, str) else None}

    def process(self, ctx, msg):
        return [Out(SUCCESS, msg)]
