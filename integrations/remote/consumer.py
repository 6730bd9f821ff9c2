"""The websocket a remote runner keeps open: ``/ws/integrations/remote`` (protocol.py says the frames).

It only adapts frames to integrations/remote/service.py. The routing key and secret come in the
handshake headers; a wrong pair closes the connection before it is accepted, which the server
answers with HTTP 403. One connection owns an integration at a time: a newer one (the remote
reconnected before the server noticed the old connection was dead) replaces the older.

While connected, a watcher pushes a changed configuration (at once for saves in this process,
else within REMOTE_POLL_SECONDS; with ``convertRemotely`` a saved uplink converter too) and the
integration's PENDING downlinks (claimed as a listener host claims them; what the remote has not
answered when the connection ends is retried), or, for types that answer a device's next request
with its downlink (HTTP family, CoAP), offers the newest PENDING one of each device (``replies``;
DELIVERED when the remote says ``replyTaken``).
"""

import asyncio
import logging
import uuid
import weakref

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from converters.models import Converter
from integrations.downlinks import delivery, notify
from integrations.models import Integration
from integrations.remote import protocol, service

__all__ = ["RemoteIntegrationConsumer"]

log = logging.getLogger(__name__)

NOT_REMOTE, GONE, REPLACED = 4403, 4404, 4409
_live: "weakref.WeakSet[RemoteIntegrationConsumer]" = weakref.WeakSet()


@receiver([post_save, post_delete], sender=Integration, dispatch_uid="remote-integration-push")
def _saved(sender, instance, **kwargs) -> None:
    from django.db import transaction

    transaction.on_commit(lambda: [c.wake([instance.pk]) for c in list(_live)])


@receiver(post_save, sender=Converter, dispatch_uid="remote-converter-push")
def _converter_saved(sender, instance, **kwargs) -> None:
    from django.db import transaction

    transaction.on_commit(lambda: [c.wake() for c in list(_live)
                                   if c.integration is not None and c.integration.default_converter_id == instance.pk])


def _db(func):
    return database_sync_to_async(func)


class RemoteIntegrationConsumer(AsyncWebsocketConsumer):
    integration: Integration | None = None
    watcher: asyncio.Task | None = None
    hello: dict | None = None
    pushed: dict | None = None
    #: ids of the downlinks last offered (``replies``); None: nothing offered on this connection yet
    offered: list | None = None

    async def connect(self):
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in self.scope.get("headers", [])}
        self.address = (self.scope.get("client") or ["?"])[0]
        integration = await _db(service.authenticate)(headers.get(protocol.KEY_HEADER.lower(), ""),
                                                      headers.get(protocol.SECRET_HEADER.lower(), ""), self.address)
        if integration is None:
            await self.close()  # before accept(): the handshake is answered 403
            return
        self.integration, self.session = integration, uuid.uuid4().hex
        self.group = f"remote-integration.{integration.pk.hex}"
        self.inflight: dict[str, object] = {}  # downlink id -> claimed row
        self.last_error: str | None = None
        self._loop, self._wake = asyncio.get_running_loop(), asyncio.Event()
        await self.accept()

    def wake(self, integration_ids=None) -> None:
        """From any thread: look at the configuration and downlinks now (notify.register protocol)."""
        if self.integration is None or (integration_ids is not None
                                        and str(self.integration.pk) not in {str(i) for i in integration_ids}):
            return
        try:
            self._loop.call_soon_threadsafe(self._wake.set)
        except RuntimeError:
            pass

    async def receive(self, text_data=None, bytes_data=None):
        try:
            data = protocol.parse(text_data if bytes_data is None else bytes_data)
            handler = getattr(self, f"on_{data['type']}", None) if data["type"].isalpha() else None
            if handler is None:
                raise protocol.ProtocolError(f"unknown frame type {data['type']!r}")
            if self.hello is None and data["type"] != "hello":
                raise protocol.ProtocolError("the first frame must be 'hello'")
            await handler(data)
        except protocol.ProtocolError as exc:
            log.warning("remote integration %s: bad frame from %s: %s", self.integration.pk, self.address, exc)
            await self.send(protocol.frame("error", message=str(exc)))

    async def on_hello(self, data):
        if self.hello is not None:
            raise protocol.ProtocolError("'hello' was already sent on this connection")
        acked = await _db(service.open_session)(self.integration, self.session, data, self.address)
        self.hello = data
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.channel_layer.group_send(self.group, {"type": "remote.replaced", "session": self.session})
        await self._push_config(self.integration, await _db(service.config_of)(self.integration), acked)
        _live.add(self)
        notify.register(self)
        self.watcher = asyncio.get_running_loop().create_task(self._watch())

    async def on_uplinks(self, data):
        seq = data.get("seq")
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise protocol.ProtocolError("'seq' must be a positive integer")
        try:
            uplinks = protocol.decode_uplinks(str(self.integration.pk), data.get("uplinks"),
                                              server=f"remote:{self.hello.get('host') or self.address}"[:255])
        except protocol.ProtocolError as exc:
            log.warning("remote integration %s: batch %s refused: %s", self.integration.pk, seq, exc)
            await self.send(protocol.frame("nack", seq=seq, error=str(exc)))
            return
        try:
            outcome = await _db(service.accept_batch)(self.integration, self.hello["outboxId"], seq, uplinks)
        except Exception as exc:  # not queued: no ack, the remote keeps the batch and resends it
            log.error("remote integration %s: queueing batch %s failed: %s", self.integration.pk, seq, exc)
            await self.send(protocol.frame("error", message=f"batch {seq} not queued: {exc}", seq=seq))
            return
        await self.send(protocol.frame("ack", seq=seq, duplicate=outcome == "duplicate"))

    async def on_status(self, data):
        self.last_error = await _db(service.report)(self.integration, data, self.last_error)

    async def on_lifecycle(self, data):
        await _db(service.remote_lifecycle)(self.integration, data, str(self.hello.get("host") or self.address))

    async def on_dropped(self, data):
        await _db(service.dropped)(self.integration, data)

    async def on_downlinkResult(self, data):
        row = self.inflight.pop(str(data.get("id")), None)
        if row is None:
            return
        error = data.get("error")
        outcome = (row, str(error)[:4096] if error else None, bool(data.get("permanent")))
        await _db(delivery.finish)({self.integration.pk: self.integration}, [outcome])

    async def remote_replaced(self, message):
        if message["session"] != self.session:
            log.info("remote integration %s: a newer connection replaces the one from %s", self.integration.pk,
                     self.address)
            await self.close(code=REPLACED)

    async def _push_config(self, integration: Integration, config: dict, acked: int | None = None) -> None:
        self.integration, self.pushed = integration, config
        fields = {"ackedSeq": acked} if acked is not None else {}
        await self.send(protocol.frame("config", integration=config, **fields))

    async def _watch(self) -> None:
        poll = float(settings.REMOTE_POLL_SECONDS)
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), poll)
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                integration = await _db(service.current)(self.integration.pk)
                if integration is None or not integration.remote:
                    await self.close(code=GONE if integration is None else NOT_REMOTE)
                    return
                config = await _db(service.config_of)(integration)
                if config != self.pushed:  # the integration, or the converter the remote runs, changed
                    await self._push_config(integration, config)
                if integration.type_class.answers_next_uplink():  # offered: remote/replies.py
                    await self._send_replies(integration)
                elif integration.enabled and integration.type_class.listener:
                    await self._send_downlinks()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("remote integration %s: watching the configuration failed", self.integration.pk)

    async def _send_replies(self, integration: Integration) -> None:
        offered = await _db(service.replies_of)(integration)
        ids = [downlink_id for downlink_id, _ in offered]
        if ids != self.offered:
            self.offered = ids
            await self.send(protocol.encode_replies(offered))

    async def on_replyTaken(self, data):
        await _db(service.reply_taken)(self.integration, data)
        self._wake.set()  # offer what still waits

    async def _send_downlinks(self) -> None:
        rows = await _db(delivery.claim)([self.integration.pk], f"remote:{self.session}")
        for row in rows:
            self.inflight[str(row.pk)] = row
            await self.send(protocol.encode_downlink(str(row.pk), delivery.as_message(row)))

    async def disconnect(self, code):
        if self.integration is None or self.hello is None:
            return
        _live.discard(self)
        notify.unregister(self)
        if self.watcher is not None:
            self.watcher.cancel()
            await asyncio.gather(self.watcher, return_exceptions=True)
        await self.channel_layer.group_discard(self.group, self.channel_name)
        unanswered, self.inflight = list(self.inflight.values()), {}
        if unanswered:  # retried with back-off, by the next connection
            outcomes = [(row, "The remote runner disconnected before confirming the downlink", False)
                        for row in unanswered]
            await _db(delivery.finish)({self.integration.pk: self.integration}, outcomes)
        await _db(service.close_session)(self.integration.pk, self.session, clean=code in (1000, 1001, REPLACED))
