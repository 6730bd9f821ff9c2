"""Device provisioning over MQTT (thingsboard.io/docs/user-guide/device-provisioning/, its MQTT example and
ThingsBoard's tb-mqtt-client ProvisionClient): a connection whose CONNECT has the user name (or client id)
``provision`` is a provisioning session, whatever its password, and may do nothing else:

    SUBSCRIBE /provision/response
    PUBLISH   /provision/request   {"deviceName", "provisionDeviceKey", "provisionDeviceSecret",
                                    "credentialsType"?, "token"?, "clientId"?, "username"?, "password"?, "hash"?}
           <- /provision/response  {"credentialsValue": ..., "credentialsType": "ACCESS_TOKEN", "status": "SUCCESS"}
                                   | {"errorMsg": "...", "status": "NOT_FOUND" | "FAILURE"}

The request is the HTTP API's (POST /api/v1/provision): read by devices/api/device_provision.py's ``parse``,
counted per client address and provision key as there (tenants/limits/device_attempts.py) and answered by
devices/device_provision.py, so both transports answer alike. The answer is published whether or not the
client subscribed (QoS of its subscription, else 0), as ThingsBoard does.

Where ThingsBoard's MQTT transport closes the connection without an answer (a payload that is no JSON object, no
key or secret, an unknown credentialsType) or where its HTTP API answers 429, this one answers
``{"errorMsg": <why>, "status": "FAILURE"}`` first, so that the device learns why; the connection stays until
the bounds below. A PUBLISH to any other topic closes the connection (ThingsBoard's too), a SUBSCRIBE to any
other filter gets SUBACK's failure code.

Bounds: a provisioning session lasts at most :data:`SESSION_S` seconds from its CONNECT (ThingsBoard closes it
60 s after its answer; the SDK disconnects once it has read it) and may send :data:`MAX_REQUESTS` requests; one
more closes it.
"""

import asyncio
import json
import logging
from types import SimpleNamespace

from devices.api.device_provision import TOO_MANY
from devices.api.device_provision import parse as parse_request
from devices.device_provision import provision
from tenants.limits import device_attempts
from tenants.limits.mail import client_of
from transports.mqtt import device_api, packets, topics
from transports.mqtt.device_api import BadPayload
from transports.mqtt.packets import ProtocolError

__all__ = ["USERNAME", "SESSION_S", "MAX_REQUESTS", "requested", "answer", "serve"]

log = logging.getLogger("transports.mqtt.session")

USERNAME = "provision"  # ThingsBoard's DataConstants.PROVISION: as user name or as client id
SESSION_S = 60.0
MAX_REQUESTS = 3


def requested(connect: packets.Connect) -> bool:
    """Whether this CONNECT opens a provisioning session."""
    return connect.username == USERNAME or connect.client_id == USERNAME


def _failure(why: str) -> dict:
    return {"errorMsg": why[:300], "status": "FAILURE"}


def answer(payload: bytes, address: str) -> dict:
    """The answer to a provisioning request from ``address`` (in a database thread)."""
    try:
        request = parse_request(device_api.parse(payload))
    except (BadPayload, ValueError) as e:
        return _failure(str(e))
    if device_attempts.take_provision(client_of(SimpleNamespace(META={"REMOTE_ADDR": address})), request.key):
        return _failure(TOO_MANY)
    return provision(request)


async def serve(session) -> None:
    """Serve a provisioning session, its CONNACK sent, until it ends (the caller closes the connection)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + SESSION_S
    peer = session.writer.get_extra_info("peername")
    address = str(peer[0]) if isinstance(peer, tuple) and peer else ""
    requests = 0
    while not session.closed:
        wait = deadline - loop.time()
        if session.keepalive:
            wait = min(wait, session.keepalive * 1.5)
        try:
            packet = await asyncio.wait_for(packets.read_packet(session.reader, session.server.max_bytes),
                                            max(wait, 0.0))
        except TimeoutError:
            log.debug("device MQTT: provisioning session from %s timed out: closed", address)
            return
        if packet is None or packet.kind == packets.DISCONNECT:
            return
        if packet.kind == packets.PUBLISH:
            message = packets.parse_publish(packet.flags, packet.body)
            if message.topic != topics.PROVISION_REQUEST:
                log.info("device MQTT: a provisioning session from %s published to %.80r: closed", address,
                         message.topic)
                return
            requests += 1
            if requests > MAX_REQUESTS:
                log.info("device MQTT: a provisioning session from %s sent over %d requests: closed", address,
                         MAX_REQUESTS)
                return
            body = await session.server.db(answer, message.payload, address)
            if message.qos == 1:
                await session._send(packets.puback(message.packet_id))
            elif message.qos == 2:
                await session._send(packets.pubrec(message.packet_id))
            log.info("device MQTT: provisioning request from %s: %s", address, body.get("status"))
            await session.push(topics.PROVISION_RESPONSE, json.dumps(body, separators=(",", ":")).encode())
        elif packet.kind == packets.SUBSCRIBE:
            packet_id, filters = packets.parse_subscribe(packet.body)
            codes = []
            for topic_filter, qos in filters:
                if topic_filter == topics.PROVISION_RESPONSE:
                    session.subscriptions[topic_filter] = min(qos, 1)
                    codes.append(min(qos, 1))
                else:
                    codes.append(packets.SUBACK_FAILURE)
            await session._send(packets.suback(packet_id, codes))
        elif packet.kind == packets.UNSUBSCRIBE:
            packet_id, filters = packets.parse_unsubscribe(packet.body)
            for topic_filter in filters:
                session.subscriptions.pop(topic_filter, None)
            await session._send(packets.unsuback(packet_id))
        elif packet.kind == packets.PINGREQ:
            await session._send(packets.pingresp())
        elif packet.kind == packets.PUBREL:
            await session._send(packets.pubcomp(int.from_bytes(packet.body[:2], "big")))
        elif packet.kind not in (packets.PUBACK, packets.PUBREC, packets.PUBCOMP):
            raise ProtocolError(f"unexpected packet type {packet.kind}")
