"""The RPC call reply node (ThingsBoard's ``TbSendRPCReplyNode``): the message data becomes the
answer of a device's client-side RPC (``POST /api/v1/{token}/rpc``, rulechains/device_rpc.py), which
put a TO_SERVER_RPC_REQUEST into the rule engine and waits (the hand-over: rulechains/replies.py)."""

import json

from rulechains.nodes.base import field
from rulechains.nodes.reply_base import EMPTY_BODY, NO_REQUEST_ID, NO_SERVICE_ID, ReplyNode

__all__ = ["RpcCallReplyNode", "reply_key", "NOT_A_DEVICE", "NO_REQUEST_ID", "NO_SERVICE_ID", "NO_SESSION_ID",
           "EMPTY_BODY"]

NOT_A_DEVICE = "Message originator is not a device entity!"
NO_SESSION_ID = "Session id is not present in the metadata!"


def reply_key(session_id: str, request_id: str) -> str:
    """What the device's request waits on: its session (one HTTP request) and request id."""
    return f"rpc-reply:{session_id}:{request_id}"


class RpcCallReplyNode(ReplyNode):
    """Sends each message's data (as JSON) back to the device whose RPC request the message came
    from, named by the metadata keys ``serviceIdMetaDataAttribute`` (default ``serviceId``),
    ``sessionIdMetaDataAttribute`` (``sessionId``) and ``requestIdMetaDataAttribute``
    (``requestId``) that the device API puts in; then Success with the message as it came. Failure,
    with ThingsBoard's texts, when the originator is not a device, a key is missing (a node before
    this one dropped the metadata) or the data is empty. A reply after the device's request timed
    out (408) is dropped."""

    label = "rpc call reply"
    defaults = {"serviceIdMetaDataAttribute": "serviceId", "sessionIdMetaDataAttribute": "sessionId",
                "requestIdMetaDataAttribute": "requestId"}
    fields = (field("serviceIdMetaDataAttribute", "text", "Service Id metadata attribute"),
              field("sessionIdMetaDataAttribute", "text", "Session Id metadata attribute"),
              field("requestIdMetaDataAttribute", "text", "Request Id metadata attribute",
                    help="the metadata key holding the id of the device's request"))

    def reply(self, msg):
        """``(reply key, JSON text, None)`` for ``msg``, or why it cannot be one."""
        if msg.originator_type != "DEVICE":
            return NOT_A_DEVICE
        request_id = msg.metadata.get(self.config["requestIdMetaDataAttribute"])
        if not request_id:
            return NO_REQUEST_ID
        if not msg.metadata.get(self.config["serviceIdMetaDataAttribute"]):
            return NO_SERVICE_ID
        session_id = msg.metadata.get(self.config["sessionIdMetaDataAttribute"])
        if not session_id:
            return NO_SESSION_ID
        if msg.data is None or msg.data == "":
            return EMPTY_BODY
        return reply_key(session_id, request_id), json.dumps(msg.data), None
