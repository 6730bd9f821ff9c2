"""The remote runner's UplinkSink (integrations/types/base.py): what a hosted listener's start() gets.

``await sink(uplinks)`` returns once the uplinks are in the on-disk outbox (durable: the
listener may acknowledge them to the devices), or counted as dropped when the outbox is full;
with the host's converter (remote/convert.py) they are converted first, and stored with it.
``report`` and ``dropped`` become ``status`` and ``dropped`` frames to the server, held while
the server is away.
"""

import base64
import logging

from integrations.remote import protocol

__all__ = ["RemoteSink", "chunks"]

log = logging.getLogger(__name__)

#: Encoded bytes per stored batch: a batch is sent as one websocket frame.
CHUNK_BYTES = 1024 * 1024


def chunks(encoded: list) -> list[list]:
    """``encoded`` uplinks in runs of at most MAX_BATCH items and about CHUNK_BYTES of payload."""
    out, current, size = [], [], 0
    for item in encoded:
        item_size = len(item[0]) + 256 + (len(item[4].get("output") or "") if len(item) > 4 else 0)
        if current and (len(current) >= protocol.MAX_BATCH or size + item_size > CHUNK_BYTES):
            out.append(current)
            current, size = [], 0
        current.append(item)
        size += item_size
    if current:
        out.append(current)
    return out


class RemoteSink:
    def __init__(self, runner, integration, host=None):
        self.runner, self.integration, self.host = runner, integration, host
        #: downlinks answered on a device's next request (remote/replies.py; the HTTP and CoAP listeners)
        self.replies = getattr(runner, "replies", None)

    async def __call__(self, uplinks) -> None:
        converter = self.host.converter if self.host is not None else None
        if converter is not None:
            uplinks = await converter.convert(uplinks)
        dropped = await self.runner.store(protocol.encode_uplinks(uplinks))
        if dropped:
            log.warning("remote outbox full (%d uplinks): dropped %d", self.runner.outbox.max_messages, dropped)

    def report(self, *, connected: bool | None = None, error: str | None = None, method: str = "connect") -> None:
        self.runner.listener_state(connected=connected, error=error, method=method)

    def dropped(self, metadata: dict[str, str], payload: bytes, reason: str) -> None:
        log.warning("integration %s dropped a message: %s", self.integration.name, reason)
        self.runner.queue_frame(protocol.frame("dropped", reason=reason, metadata=metadata,
                                               payload=base64.b64encode(payload[:1024]).decode("ascii")))
