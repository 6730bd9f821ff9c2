"""A QoS 1 publish of the MQTT listener fails with TimeoutError when no PUBACK comes in time
(_Client.publish_acked's ``timeout``): the deadlines share one timer instead of a wait_for each.
A real Mosquitto acknowledges (nothing expires, the deadline queue empties); a broker that accepts
the connection and never acknowledges (a few lines of asyncio here: no real broker does that on
purpose) makes every publish fail, in order, and a later one still gets its own deadline."""

import asyncio

from integrations.listeners.mqtt import _connect, _new_client
from integrations.types.mqtt import MqttConfig


def _config(port: int) -> MqttConfig:
    return MqttConfig.model_validate({"clientConfiguration": {"host": "127.0.0.1", "port": port},
                                      "topicFilters": [{"filter": "t/#", "qos": 1}]})


async def _silent_broker():
    """CONNACK to the CONNECT, then nothing: every PUBLISH stays unacknowledged."""

    async def serve(reader, writer):
        await reader.read(1024)
        writer.write(b"\x20\x02\x00\x00")
        await writer.drain()
        while await reader.read(65536):
            pass

    return await asyncio.start_server(serve, "127.0.0.1", 0)


def test_publishes_without_a_puback_fail_at_their_deadlines_in_order():
    async def main():
        server = await _silent_broker()
        port = server.sockets[0].getsockname()[1]
        client = _new_client(_config(port), "silent-test")
        await _connect(client, _config(port))
        try:
            first = [client.publish_acked("t/a", b"%d" % n, timeout=0.2) for n in range(3)]
            await asyncio.sleep(0.1)
            later = client.publish_acked("t/a", b"late", timeout=2.0)
            outcomes = await asyncio.gather(*first, return_exceptions=True)
            assert all(isinstance(o, TimeoutError) for o in outcomes), outcomes
            assert not later.done()  # its own deadline, not the first ones'
            assert isinstance((await asyncio.gather(later, return_exceptions=True))[0], TimeoutError)
            assert not client._deadlines and client._expiry is None
        finally:
            await client.disconnect()
            server.close()

    asyncio.run(asyncio.wait_for(main(), 20))


def test_acknowledged_publishes_leave_no_deadline_behind(broker):
    async def main():
        client = _new_client(_config(broker.port), "acked-test")
        await _connect(client, _config(broker.port))
        try:
            for _ in range(3):
                await asyncio.gather(*(client.publish_acked("t/b", b"x", timeout=5) for _ in range(50)))
            client.publish_acked("t/b", b"x", timeout=5)  # drops the acknowledged ones queued before it
            assert len(client._deadlines) == 1
        finally:
            await client.disconnect()

    asyncio.run(asyncio.wait_for(main(), 20))

