"""Downlinks a device gets as the answer to its next request, on the remote runner (HTTP family, CoAP).

On the server such a device's pending downlink is found by decoding the request's uplink
(integrations/ingress/downlinks.py); on the remote, as ThingsBoard's remote HTTP integration
does, the server pushes the downlinks over the websocket and the remote answers with them:

- the server offers the newest PENDING downlink of each device (``replies`` frame, the whole set
  again whenever it changes) and, in the configuration, the uplink converter (``replyDecoder``);
- while some device waits, a request's uplink is decoded here (remote/convert.py, the engine the
  server runs) only to learn its devices; the uplink goes to the outbox as always (durably), and
  then the newest waiting downlink of its devices is the answer; ``replyTaken`` tells the server,
  which marks it DELIVERED (the frame waits in the runner's queue while the server is away);
- no device waits (the common case): nothing more happens on the request's path.

A downlink stays PENDING on the server until then, so one the remote holds when the connection
drops is offered again by the next connection. :class:`Replies` answers as the server's module
does (``devices_of``, ``take``, ``take_row``), so the listeners call either one alike.
"""

import logging

from integrations.messages import Downlink, RawUplink
from integrations.remote import protocol
from integrations.types.base import DOWNLINK_MIME
from remote.convert import LocalConverter

__all__ = ["Replies"]

log = logging.getLogger(__name__)


class Replies:
    def __init__(self, runner):
        self.runner = runner
        #: device name -> (downlink id, Downlink): the newest offered downlink of each device
        self.waiting: dict[str, tuple[str, Downlink]] = {}
        #: ids answered here that a later offer may still carry (sent before the server heard)
        self.taken: set[str] = set()
        self.decoder: LocalConverter | None = None

    def configure(self, config: dict) -> None:
        """The ``replyDecoder`` of a ``config`` frame (None: requests are never decoded here)."""
        spec = config.get("replyDecoder")
        if spec == (self.decoder.spec if self.decoder is not None else None):
            return
        try:
            self.decoder = LocalConverter(spec, str(config.get("type"))) if spec is not None else None
        except (KeyError, TypeError, ValueError) as exc:
            self.decoder = None
            log.error("the converter the server sent to find the devices of requests cannot run here (%r): "
                      "devices get no downlinks", exc)

    def offer(self, data: dict) -> None:
        """A ``replies`` frame: what waits now replaces what waited."""
        items = data.get("downlinks")
        if not isinstance(items, list):
            log.warning("ignoring a 'replies' frame without a list of 'downlinks'")
            return
        waiting = {}
        for item in items:
            if not isinstance(item, dict) or str(item.get("id")) in self.taken:
                continue
            try:
                downlink = protocol.decode_downlink(self._integration_id(), item)
            except protocol.ProtocolError as exc:
                log.warning("ignoring an offered downlink: %s", exc)
                continue
            if downlink.device_name:
                waiting[downlink.device_name] = (str(item["id"]), downlink)
        self.taken &= {str(item.get("id")) for item in items if isinstance(item, dict)}
        self.waiting = waiting
        if waiting:
            log.info("%d device(s) get a downlink with the answer to their next request", len(waiting))

    def _integration_id(self) -> str:
        integration = self.runner.host.integration
        return str(integration.pk) if integration is not None else ""

    async def devices_of(self, uplink: RawUplink) -> list[str]:
        """Devices of ``uplink`` with a waiting downlink ([] at once when none waits)."""
        if not self.waiting or self.decoder is None:
            return []
        try:
            names = await self.decoder.devices_of(uplink)
        except Exception as exc:  # the engine cannot start here: the uplink goes on, the downlink waits
            log.warning("could not decode a request to find its device's downlink: %s", exc)
            return []
        return [name for name in names if name in self.waiting]

    async def take_row(self, uplink: RawUplink, names: list[str]) -> tuple[str, bytes, dict] | None:
        """The newest waiting downlink of one of ``names``, now answered: (content type, payload, metadata)."""
        found = [self.waiting[name] for name in names if name in self.waiting]
        if not found:
            return None
        downlink_id, downlink = max(found, key=lambda pair: pair[1].ts)
        self.waiting.pop(downlink.device_name, None)
        self.taken.add(downlink_id)
        self.runner.queue_frame(protocol.frame("replyTaken", id=downlink_id))
        return downlink.content_type, downlink.payload, downlink.metadata

    async def take(self, uplink: RawUplink, names: list[str]) -> tuple[bytes, bytes] | None:
        """As :meth:`take_row`, as (Content-Type header, body)."""
        found = await self.take_row(uplink, names)
        if found is None:
            return None
        content_type, body, _ = found
        return DOWNLINK_MIME.get(content_type, DOWNLINK_MIME["BINARY"]), body
