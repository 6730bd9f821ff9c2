"""ThingsBoard 4.1's "calculated fields" rule node (TbCalculatedFieldsNode), registered from calculated/apps.py.

A POST_TELEMETRY_REQUEST or POST_ATTRIBUTES_REQUEST message's values are handed to the calculated
fields of its originator (and to fields that read the originator as a referenced entity) as if
they had been saved, without saving them: the fields are computed with these values in place of
the stored ones (a rolling argument gets the newest value of each key in its window), and their
results are saved as any field's are. The message then leaves by Success unchanged; another type,
or data that cannot be read, by Failure. No configuration (ThingsBoard's EmptyNodeConfiguration).
"""

import uuid

from rest_framework.exceptions import ValidationError

from calculated import compute, index
from devices.api.telemetry_writes import parse_attributes, parse_telemetry
from devices.choices import AttributeScope
from rulechains.messages import POST_ATTRIBUTES_REQUEST, POST_TELEMETRY_REQUEST, SUCCESS
from rulechains.nodes.base import BaseNode, Out, fail

__all__ = ["CalculatedFieldsNode", "TYPE"]

TYPE = "org.thingsboard.rule.engine.telemetry.TbCalculatedFieldsNode"


class CalculatedFieldsNode(BaseNode):
    """Triggers calculated fields with the message's time series or attributes, which are not stored."""

    type = TYPE
    label = "calculated fields"
    group = "ACTION"
    side_effects = True
    defaults: dict = {}

    def values(self, ctx, msg) -> dict:
        """{(entity_id, "TS"|"ATTRIBUTE", key, scope): (ts, value)} of the message: the newest per key."""
        found: dict = {}
        originator = uuid.UUID(str(msg.originator_id))
        if msg.msg_type == POST_TELEMETRY_REQUEST:
            for ts, values in parse_telemetry(msg.data, ctx.now):
                for key, value in values.items():
                    slot = (originator, "TS", key, None)
                    if slot not in found or found[slot][0] <= ts:
                        found[slot] = (ts, value)
            return found
        scope = msg.metadata.get("scope")
        scope = scope if scope in AttributeScope.values else AttributeScope.SERVER_SCOPE
        return {(originator, "ATTRIBUTE", key, scope): (ctx.now, value)
                for key, value in parse_attributes(msg.data).items()}

    def process(self, ctx, msg):
        if msg.msg_type not in (POST_TELEMETRY_REQUEST, POST_ATTRIBUTES_REQUEST):
            return fail(msg, f"Unsupported msg type: {msg.msg_type}")
        try:
            overrides = self.values(ctx, msg)
        except (ValidationError, ValueError) as e:
            detail = getattr(e, "detail", None)
            return fail(msg, detail[0] if isinstance(detail, list) and detail else e)
        if overrides and uuid.UUID(str(ctx.tenant_id)) in index.tenants_with_fields():  # cached: no query
            compute.run(ctx.tenant_id, list(overrides), compute.current_depth() + 1, overrides=overrides)
        return [Out(SUCCESS, msg)]
