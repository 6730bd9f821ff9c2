"""The rest call reply node (ThingsBoard's ``TbSendRestApiCallReplyNode``): the message data becomes
the answer of the REST API call that put the message into the rule engine
(``POST /api/rule-engine/...``, rulechains/api/rule_engine.py; the hand-over: rulechains/replies.py)."""

import json
import uuid

from rulechains.nodes.base import field
from rulechains.nodes.reply_base import EMPTY_BODY, NO_REQUEST_ID, NO_SERVICE_ID, ReplyNode

__all__ = ["RestCallReplyNode", "NO_SERVICE_ID", "NO_REQUEST_ID", "EMPTY_BODY"]


class RestCallReplyNode(ReplyNode):
    """Sends each message's data (as JSON) back to the REST API call named by the metadata keys
    ``requestIdMetaDataAttribute`` (default ``requestUUID``) and ``serviceIdMetaDataAttribute``
    (default ``serviceId``), which the API puts in the message; then Success with the message as it
    came. Failure, with ThingsBoard's texts, when either key is missing (a node before this one
    dropped the metadata), the request id is not a UUID, or the data is empty. A reply that comes
    after the call timed out (408) is dropped."""

    label = "rest call reply"
    defaults = {"serviceIdMetaDataAttribute": "serviceId", "requestIdMetaDataAttribute": "requestUUID"}
    fields = (field("serviceIdMetaDataAttribute", "text", "Service Id metadata attribute",
                    help="the metadata key holding the id of the server that took the request"),
              field("requestIdMetaDataAttribute", "text", "Request Id metadata attribute",
                    help="the metadata key holding the request's UUID"))

    def reply(self, msg):
        """``(request id, JSON text, expiration ms or None)`` for ``msg``, or why it cannot be one."""
        if not msg.metadata.get(self.config["serviceIdMetaDataAttribute"]):
            return NO_SERVICE_ID
        request_id = msg.metadata.get(self.config["requestIdMetaDataAttribute"])
        if not request_id:
            return NO_REQUEST_ID
        try:
            request_id = str(uuid.UUID(request_id))
        except ValueError:
            return f"Invalid UUID string: {request_id[:64]}"
        if msg.data is None or msg.data == "":
            return EMPTY_BODY
        expiration = msg.metadata.get("expirationTime", "")
        return request_id, json.dumps(msg.data), int(expiration) if expiration.isdigit() else None
