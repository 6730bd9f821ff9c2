"""The transport's pieces without a socket: MQTT 3.1.1 packet fields, topic filters, and the long-lived
subscription of tbproject/waits.py that the sessions listen on."""

import asyncio

import pytest

from tbproject import waits
from transports.mqtt import packets, topics


def _read(data: bytes, max_bytes: int = 1024):
    async def read():
        reader = asyncio.StreamReader()
        reader.feed_data(data)
        reader.feed_eof()
        return await packets.read_packet(reader, max_bytes)

    return asyncio.run(read())


def test_a_publish_written_reads_back_with_its_fields():
    wire = packets.publish("v1/devices/me/rpc/request/7", b'{"method":"m"}', qos=1, packet_id=513)
    packet = _read(wire)
    assert packet.kind == packets.PUBLISH
    assert packets.parse_publish(packet.flags, packet.body) == packets.Publish(
        "v1/devices/me/rpc/request/7", 1, 513, b'{"method":"m"}', False)


def test_the_remaining_length_takes_up_to_four_bytes_and_the_limit_is_checked_before_the_body():
    body = b"\x00\x01a" + b"x" * 200  # 203 bytes: two length bytes
    assert _read(bytes([0x30, 0xCB, 0x01]) + body).body == body
    with pytest.raises(packets.TooLarge):
        _read(bytes([0x30, 0xCB, 0x01]), max_bytes=100)  # refused without the body
    with pytest.raises(packets.ProtocolError):
        _read(bytes([0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]))
    assert _read(b"") is None


@pytest.mark.parametrize("body", [b"\x00\x04MQTT\x04\x03\x00\x3c\x00\x00",  # reserved flag
                                  b"\x00\x04MQTT\x04\x82\x00\x3c\x00\x01a\x00\x05ab",  # user name cut short
                                  b"\x00\x04MQTT\x04\x80\x00\x3c\x00\x01a\x00\x01\xff"])  # not UTF-8
def test_malformed_connects_are_protocol_errors(body):
    with pytest.raises(packets.ProtocolError):
        packets.parse_connect(body)


def test_a_connect_with_credentials_and_a_will_and_one_of_mqtt_5():
    body = (b"\x00\x04MQTT\x04\xc6\x00\x3c" + b"\x00\x02c1" + b"\x00\x01w" + b"\x00\x02wm"
            + b"\x00\x05token" + b"\x00\x02pw")
    assert packets.parse_connect(body) == packets.Connect("MQTT", 4, True, 60, "c1", "token", "pw")
    assert packets.parse_connect(b"\x00\x04MQTT\x05\x02\x00\x3c\x00").protocol_level == 5


def test_subscribe_and_unsubscribe_lists():
    assert packets.parse_subscribe(b"\x00\x07\x00\x03a/b\x01\x00\x01c\x00") == (7, [("a/b", 1), ("c", 0)])
    assert packets.parse_unsubscribe(b"\x00\x07\x00\x03a/b") == (7, ["a/b"])
    for bad in (b"\x00\x07", b"\x00\x07\x00\x01a\x03"):
        with pytest.raises(packets.ProtocolError):
            packets.parse_subscribe(bad)


@pytest.mark.parametrize(("topic_filter", "topic", "expected"), [
    ("v1/devices/me/rpc/request/+", "v1/devices/me/rpc/request/12", True),
    ("v1/devices/me/rpc/request/+", "v1/devices/me/rpc/request/12/x", False),
    ("v1/devices/me/attributes", "v1/devices/me/attributes/response/1", False),
    ("v1/#", "v1/devices/me/attributes", True),
])
def test_topic_filters_match_as_mqtt_says(topic_filter, topic, expected):
    assert topics.matches(topic_filter, topic) is expected


def test_a_subscription_is_woken_by_every_notification_until_disarmed(settings):
    settings.REDIS_URL = ""
    got = []
    subscription = waits.subscribe("test:subscription", got.append)
    try:
        waits.notify("test:subscription", {"n": 1})
        waits.notify("test:subscription", lambda: {"n": 2})  # a payload made only for a listener
        waits.notify("test:other", {"n": 3})
    finally:
        waits.disarm(subscription)
    waits.notify("test:subscription", {"n": 4})
    assert got == [{"n": 1}, {"n": 2}] and waits.waiting("test:subscription") == 0
