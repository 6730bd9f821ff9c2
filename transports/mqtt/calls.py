"""Server-side RPC calls to a session's device, as ThingsBoard's MQTT transport delivers them (a part of
session.Session): the device's QUEUED calls are taken (SENT) once it subscribes to ``v1/devices/me/rpc/request/+``
and whenever a new one is queued, published on ``v1/devices/me/rpc/request/{id}`` and DELIVERED once written
(QoS 0) or at the device's PUBACK (QoS 1); those not acknowledged when the session closes are QUEUED again
(device_api.put_back), also when it closes while they are being taken."""

import logging

from transports.mqtt import device_api, packets, topics
from transports.mqtt.device_api import Gone

__all__ = ["ServerCalls"]

log = logging.getLogger("transports.mqtt.session")


class ServerCalls:
    """The server-side-call half of a session; the session keeps ``_calls`` (taken, not yet DELIVERED),
    ``_unacked`` (packet id -> call) and ``_taking``, ``_take_again``, ``_taker``."""

    def take_calls(self) -> None:
        """Take the device's queued server-side calls and publish each (again once more when nudged meanwhile)."""
        if self.closed or topics.RPC_REQUEST_FILTER not in self._watches:
            return
        if self._taking:
            self._take_again = True
            return
        self._taking = True
        self._taker = self._spawn(self._take())

    async def _take(self) -> None:
        try:
            while True:
                self._take_again = False
                taken = await self._db(device_api.take_calls, device_api.CALLS_PER_TAKE)
                self._calls.update(pk for pk, _, _ in taken)  # SENT now: put back should the session close
                if len(taken) >= device_api.CALLS_PER_TAKE:
                    self._take_again = True  # there may be more: taken once these are published
                for pk, request_id, body in taken:
                    if self.closed:
                        break
                    await self._publish_call(pk, topics.RPC_REQUEST + str(request_id), body)
                if self.closed or not self._take_again:
                    return
        except Gone:
            await self.close()
        finally:
            self._taking = False
            if self.closed:  # closed while calls were being taken: close() could not put those back
                await self._put_back()

    async def _put_back(self) -> None:
        calls, self._calls = list(self._calls), set()
        self._unacked.clear()
        if calls:
            try:
                await self.server.db(device_api.put_back, self.device.pk, calls)
            except Exception:
                log.exception("device MQTT: %s: its unacknowledged RPC calls stay SENT", self._who())

    async def _publish_call(self, pk, topic: str, body: bytes) -> None:
        """A server-side call: DELIVERED once written at QoS 0, at the device's PUBACK at QoS 1."""
        qos, packet_id = self._qos(topic)
        if packet_id is not None:
            self._unacked[packet_id] = pk  # before writing: the PUBACK may come before the write returns
        await self._send(packets.publish(topic, body, qos=qos, packet_id=packet_id))
        if packet_id is None:
            await self.server.db(device_api.delivered, [pk])
            self._calls.discard(pk)

    async def _acked(self, packet_id: int) -> None:
        pk = self._unacked.pop(packet_id, None)
        if pk is None:  # a call to a device behind the gateway (gateway_session.py), or nothing
            await self.gateway.acked(packet_id)
        else:
            await self.server.db(device_api.delivered, [pk])
            self._calls.discard(pk)
