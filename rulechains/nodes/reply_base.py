"""What the two reply nodes share (rest call reply, rpc call reply): each message's data goes back,
as JSON, to a request waiting in a web process (rulechains/replies.py), keyed by this chain's tenant
so that a node of another tenant that learned a request id answers nobody."""

from rulechains.messages import SUCCESS
from rulechains.nodes.base import BaseNode, Out, fail, text_option

__all__ = ["ReplyNode", "EMPTY_BODY", "NO_REQUEST_ID", "NO_SERVICE_ID"]

NO_SERVICE_ID = "Service id is not present in the metadata!"
NO_REQUEST_ID = "Request id is not present in the metadata!"
EMPTY_BODY = "Request body is empty!"


class ReplyNode(BaseNode):
    """Subclasses name their metadata keys in ``defaults`` and say in :meth:`reply` what a message
    answers: ``(reply key, JSON text, expiration ms or None)``, or a Failure text."""

    group = "ACTION"
    side_effects = True
    savepoint = False
    defaults: dict = {}

    @classmethod
    def clean_config(cls, configuration):
        # an empty name falls back to the default, as ThingsBoard's nodes do
        return {**configuration, **{key: text_option(configuration, key) or default
                                    for key, default in cls.defaults.items()}}

    def reply(self, msg):
        raise NotImplementedError

    def process_batch(self, ctx, msgs):
        from rulechains import replies

        outs, ready = [], []
        for msg in msgs:
            reply = self.reply(msg)
            if isinstance(reply, str):
                outs.append(fail(msg, reply))
            else:
                ready.append(reply)
                outs.append([Out(SUCCESS, msg)])
        replies.send(ctx.tenant_id, ready)  # one round trip for the batch; if it raises, the engine fails the batch
        return outs
