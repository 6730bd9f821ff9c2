"""MQTT 3.1.1 packets, as the device transport reads and writes them (OASIS MQTT 3.1.1, section 2-3).

    packet = await read_packet(reader, max_bytes)        # Packet(kind, flags, body) or None at EOF
    connect = parse_connect(packet.body)                   # Connect(...), or ProtocolError
    writer.write(connack(0)); writer.write(publish("t", b"{}", qos=1, packet_id=7))

Only what a server needs: it reads CONNECT, PUBLISH, PUBACK, SUBSCRIBE, UNSUBSCRIBE, PINGREQ and
DISCONNECT, and writes CONNACK, PUBLISH, PUBACK, SUBACK, UNSUBACK and PINGRESP. A malformed packet is a
:class:`ProtocolError` (the session closes, as the specification asks); a packet past ``max_bytes`` is
:class:`TooLarge` before its body is read.
"""

import asyncio
import struct
from typing import NamedTuple

__all__ = ["Packet", "Connect", "Publish", "ProtocolError", "TooLarge", "read_packet", "parse_connect",
           "parse_publish", "parse_subscribe", "parse_unsubscribe", "connack", "publish", "puback", "pubrec",
           "pubcomp", "suback", "unsuback", "pingresp", "CONNECT", "PUBLISH", "PUBACK", "PUBREC", "PUBREL",
           "PUBCOMP", "SUBSCRIBE", "UNSUBSCRIBE", "PINGREQ", "DISCONNECT", "SUBACK_FAILURE", "SUPPORTED"]

CONNECT, CONNACK, PUBLISH, PUBACK, PUBREC, PUBREL, PUBCOMP = 1, 2, 3, 4, 5, 6, 7
SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK, PINGREQ, PINGRESP, DISCONNECT = 8, 9, 10, 11, 12, 13, 14
SUBACK_FAILURE = 0x80


class ProtocolError(Exception):
    """A packet the specification calls malformed: the server closes the connection."""


class TooLarge(ProtocolError):
    """A packet longer than the transport's DEVICE_MQTT_MAX_PAYLOAD_BYTES."""


class Packet(NamedTuple):
    kind: int
    flags: int
    body: bytes


class Connect(NamedTuple):
    protocol_name: str
    protocol_level: int
    clean_session: bool
    keepalive: int
    client_id: str
    username: str | None
    password: str | None


class Publish(NamedTuple):
    topic: str
    qos: int
    packet_id: int | None
    payload: bytes
    retain: bool


async def read_packet(reader: asyncio.StreamReader, max_bytes: int) -> Packet | None:
    """The next packet; None when the peer closed the connection between packets."""
    first = await reader.read(1)
    if not first:
        return None
    length, multiplier = 0, 1
    for _ in range(4):
        byte = (await reader.readexactly(1))[0]
        length += (byte & 0x7F) * multiplier
        if not byte & 0x80:
            break
        multiplier *= 128
    else:
        raise ProtocolError("remaining length longer than four bytes")
    if length > max_bytes:
        raise TooLarge(f"a packet of {length} bytes (at most {max_bytes})")
    body = await reader.readexactly(length) if length else b""
    return Packet(first[0] >> 4, first[0] & 0x0F, body)


class _Reader:
    """Reads the fields of one packet's body."""

    def __init__(self, body: bytes):
        self.body, self.at = body, 0

    def take(self, n: int) -> bytes:
        if self.at + n > len(self.body):
            raise ProtocolError("packet shorter than its fields")
        chunk = self.body[self.at:self.at + n]
        self.at += n
        return chunk

    def u8(self) -> int:
        return self.take(1)[0]

    def u16(self) -> int:
        return struct.unpack("!H", self.take(2))[0]

    def binary(self) -> bytes:
        return self.take(self.u16())

    def text(self) -> str:
        raw = self.binary()
        try:
            value = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ProtocolError("a string that is not UTF-8") from None
        if "\x00" in value:
            raise ProtocolError("a string with a NUL character")
        return value

    def rest(self) -> bytes:
        chunk, self.at = self.body[self.at:], len(self.body)
        return chunk

    @property
    def left(self) -> int:
        return len(self.body) - self.at


#: (protocol name, level) of MQTT 3.1.1 and 3.1; MQTT 5's CONNECT (level 5) is answered "unacceptable protocol"
SUPPORTED = (("MQTT", 4), ("MQIsdp", 3))


def parse_connect(body: bytes) -> Connect:
    """The CONNECT's fields; of another protocol version only its name and level (the rest is laid out otherwise)."""
    r = _Reader(body)
    name, level = r.text(), r.u8()
    if (name, level) not in SUPPORTED:
        return Connect(name, level, False, 0, "", None, None)
    flags, keepalive = r.u8(), r.u16()
    if flags & 0x01:
        raise ProtocolError("reserved CONNECT flag set")
    client_id = r.text()
    if flags & 0x04:  # a will: read and ignored (the transport publishes no wills)
        r.text()
        r.binary()
    username = r.text() if flags & 0x80 else None
    password = r.binary().decode("utf-8", "replace") if flags & 0x40 else None
    return Connect(name, level, bool(flags & 0x02), keepalive, client_id, username, password)


def parse_publish(flags: int, body: bytes) -> Publish:
    qos = (flags >> 1) & 0x03
    if qos == 3:
        raise ProtocolError("PUBLISH with QoS 3")
    r = _Reader(body)
    topic = r.text()
    if not topic or "+" in topic or "#" in topic:
        raise ProtocolError("PUBLISH to an empty or wildcard topic")
    packet_id = r.u16() if qos else None
    if packet_id == 0:
        raise ProtocolError("PUBLISH at QoS above 0 with packet id 0")
    return Publish(topic, qos, packet_id, r.rest(), bool(flags & 0x01))


def _packet_id(r: _Reader) -> int:
    packet_id = r.u16()
    if not packet_id:
        raise ProtocolError("packet id 0 (MQTT 3.1.1 section 2.3.1: non-zero)")
    return packet_id


def parse_subscribe(body: bytes) -> tuple[int, list[tuple[str, int]]]:
    r = _Reader(body)
    packet_id, filters = _packet_id(r), []
    while r.left:
        topic, qos = r.text(), r.u8()
        if qos > 2:
            raise ProtocolError("SUBSCRIBE with QoS above 2")
        filters.append((topic, qos))
    if not filters:
        raise ProtocolError("SUBSCRIBE without a topic filter")
    return packet_id, filters


def parse_unsubscribe(body: bytes) -> tuple[int, list[str]]:
    r = _Reader(body)
    packet_id, filters = _packet_id(r), []
    while r.left:
        filters.append(r.text())
    return packet_id, filters


def _length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _packet(kind: int, flags: int, body: bytes) -> bytes:
    return bytes([kind << 4 | flags]) + _length(len(body)) + body


def connack(return_code: int, session_present: bool = False) -> bytes:
    return _packet(CONNACK, 0, bytes([int(session_present), return_code]))


def publish(topic: str, payload: bytes, *, qos: int = 0, packet_id: int | None = None) -> bytes:
    name = topic.encode("utf-8")
    body = struct.pack("!H", len(name)) + name + (struct.pack("!H", packet_id) if qos else b"") + payload
    return _packet(PUBLISH, qos << 1, body)


def puback(packet_id: int) -> bytes:
    return _packet(PUBACK, 0, struct.pack("!H", packet_id))


def pubrec(packet_id: int) -> bytes:
    return _packet(PUBREC, 0, struct.pack("!H", packet_id))


def pubcomp(packet_id: int) -> bytes:
    return _packet(PUBCOMP, 0, struct.pack("!H", packet_id))


def suback(packet_id: int, codes: list[int]) -> bytes:
    return _packet(SUBACK, 0, struct.pack("!H", packet_id) + bytes(codes))


def unsuback(packet_id: int) -> bytes:
    return _packet(UNSUBACK, 0, struct.pack("!H", packet_id))


def pingresp() -> bytes:
    return _packet(PINGRESP, 0, b"")
