"""integrations/listeners/mqtt_client._Client.quick_acks: every read from the broker sets
TCP_QUICKACK before gmqtt parses it (a broker with Nagle's algorithm on holds a publish window's
PUBACKs until its first segment is acknowledged; docs/performance.md measures the effect), and
a real connection gets it from the listener's _connect."""

import asyncio
import socket

import pytest

from integrations.listeners.mqtt import _connect, _new_client
from integrations.listeners.mqtt_client import _Client
from integrations.types.mqtt import MqttConfig

linux_only = pytest.mark.skipif(not hasattr(socket, "TCP_QUICKACK"), reason="TCP_QUICKACK is Linux's")


class _Socket:
    def __init__(self, fail=False):
        self.options, self.fail = [], fail

    def setsockopt(self, *option):
        if self.fail:
            raise OSError("closed")
        self.options.append(option)


class _Protocol:
    def __init__(self):
        self.received = []

    def data_received(self, data):
        self.received.append(data)


class _Transport:
    def __init__(self, sock):
        self.sock = sock

    def get_extra_info(self, name):
        return self.sock if name == "socket" else None


class _Connection:
    def __init__(self, sock):
        self._transport, self._protocol = _Transport(sock), _Protocol()


@linux_only
def test_each_read_sets_quickack_before_the_protocol_parses_it():
    client = _Client("quickack-test")
    sock = _Socket()
    client._connection = connection = _Connection(sock)
    received = connection._protocol.received
    client.quick_acks()
    connection._protocol.data_received(b"\x40\x02\x00\x01")
    connection._protocol.data_received(b"\x40\x02\x00\x02")
    assert sock.options == [(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)] * 2
    assert received == [b"\x40\x02\x00\x01", b"\x40\x02\x00\x02"]
    sock.fail = True  # a socket closing under the read: the data is still parsed
    connection._protocol.data_received(b"x")
    assert received[-1] == b"x"


def test_without_a_connection_it_does_nothing():
    client = _Client("quickack-none")
    client.quick_acks()  # not connected: no error
    assert client._connection is None


@linux_only
def test_a_real_connection_gets_quick_acks(broker):
    config = MqttConfig.model_validate({"clientConfiguration": {"host": "127.0.0.1", "port": broker.port},
                                        "topicFilters": [{"filter": "q/#", "qos": 1}]})

    async def main():
        client = _new_client(config, "quickack-real")
        await _connect(client, config)
        try:
            protocol = client._connection._protocol
            return "data_received" in vars(protocol)  # the instance's wrapper, not the class's method
        finally:
            await client.disconnect()

    assert asyncio.run(main())
