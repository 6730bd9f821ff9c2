"""The script transform node."""

import json

from rulechains.messages import SUCCESS, changed
from rulechains.nodes.base import SCRIPT_FIELDS, Out, fail
from rulechains.nodes.scripted import ScriptNode

__all__ = ["ScriptTransformNode"]


class ScriptTransformNode(ScriptNode):
    """``jsScript`` is the body of ``Transform(msg, metadata, msgType)`` returning
    ``{msg, metadata, msgType}`` (each optional: what is missing is kept) or an array of such
    objects (one message each). Everything goes by Success; a script error by Failure."""

    label = "script transform"
    group = "TRANSFORMATION"
    defaults = {"scriptLang": "JS", "jsScript": "return {msg: msg, metadata: metadata, msgType: msgType};",
                "tbelScript": "return {msg: msg, metadata: metadata, msgType: msgType};"}
    fields = SCRIPT_FIELDS
    script_kind = "transform"

    def outs(self, msg, result):
        if not result.ok:
            return fail(msg, result.error)
        value = json.loads(result.output_json)
        items = value if isinstance(value, list) else [value]
        outs = []
        for item in items:
            if not isinstance(item, dict):
                return fail(msg, f"Wrong result type: the transform must return an object or an array of objects, "
                                 f"got {result.output_json[:100]}")
            metadata = item.get("metadata")
            if metadata is not None and not isinstance(metadata, dict):
                return fail(msg, "Wrong result type: 'metadata' must be an object")
            msg_type = item.get("msgType")
            if msg_type is not None and not isinstance(msg_type, str):
                return fail(msg, "Wrong result type: 'msgType' must be a string")
            data = item["msg"] if "msg" in item and item["msg"] is not None else msg.data
            outs.append(Out(SUCCESS, changed(msg, data=data, metadata=metadata, msg_type=msg_type or None)))
        return outs
