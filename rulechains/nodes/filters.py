"""Filter nodes: the message type switch, the script filter and the script switch."""

import json

from rulechains.messages import OTHER, TYPE_RELATIONS
from rulechains.nodes.base import SCRIPT_FIELDS, BaseNode, Out, fail
from rulechains.nodes.scripted import ScriptNode

__all__ = ["MsgTypeSwitchNode", "ScriptFilterNode", "ScriptSwitchNode"]


class MsgTypeSwitchNode(BaseNode):
    """Routes each message by its type's relation name ("Post telemetry", "Attributes Updated",
    "RPC Request to Device", ...; ThingsBoard's TbMsgType), "Other" for the rest."""

    savepoint = False

    label = "message type switch"
    group = "FILTER"
    defaults = {"version": 0}
    relations = (*TYPE_RELATIONS.values(), OTHER)

    def process(self, ctx, msg):
        return [Out(TYPE_RELATIONS.get(msg.msg_type, OTHER), msg)]


class ScriptFilterNode(ScriptNode):
    """``jsScript`` is the body of ``Filter(msg, metadata, msgType)`` returning a boolean:
    True/False relations; a script error or a non-boolean result goes by Failure."""

    label = "script filter"
    group = "FILTER"
    defaults = {"scriptLang": "JS", "jsScript": "return msg.temperature > 20;",
                "tbelScript": "return msg.temperature > 20;"}
    fields = SCRIPT_FIELDS
    relations = ("True", "False", "Failure")
    script_kind = "filter"

    def outs(self, msg, result):
        if not result.ok:
            return fail(msg, result.error)
        value = json.loads(result.output_json)
        if not isinstance(value, bool):
            return fail(msg, f"Wrong result type: the filter must return a boolean, got {result.output_json[:100]}")
        return [Out("True" if value else "False", msg)]


class ScriptSwitchNode(ScriptNode):
    """``jsScript`` (or ``tbelScript``) is the body of ``Switch(msg, metadata, msgType)`` returning
    a relation name or an array of them: the message leaves by each (none: it ends here). A
    script error, or a result that is not a string or an array of strings, goes by Failure."""

    label = "switch"
    group = "FILTER"
    custom_relations = True
    defaults = {"scriptLang": "JS",
                "jsScript": "return msgType === 'POST_TELEMETRY_REQUEST' ? ['telemetry'] : ['other'];",
                "tbelScript": "return msgType == 'POST_TELEMETRY_REQUEST' ? ['telemetry'] : ['other'];"}
    fields = SCRIPT_FIELDS
    relations = ("Failure",)
    script_kind = "switch"

    def outs(self, msg, result):
        if not result.ok:
            return fail(msg, result.error)
        value = json.loads(result.output_json)
        names = [value] if isinstance(value, str) else value
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            return fail(msg, f"Wrong result type: the switch must return a relation name or an array of them, "
                             f"got {result.output_json[:100]}")
        return [Out(name, msg) for name in dict.fromkeys(names)]
