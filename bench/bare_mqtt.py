"""The MQTT baseline: a bare gmqtt subscriber that only counts QoS 1 messages.

    python -m bench.bare_mqtt HOST PORT TOPIC_FILTER COUNT

Prints "ready" once subscribed, then "done <time.monotonic() of the last message>" after COUNT
messages (CLOCK_MONOTONIC is one clock for every process of the machine).
"""

import asyncio
import sys
import time
import uuid

from gmqtt import Client


async def main(host: str, port: int, topic_filter: str, count: int) -> None:
    done = asyncio.Event()
    seen = 0

    def on_message(client, topic, payload, qos, properties):
        nonlocal seen
        seen += 1
        if seen >= count:
            done.set()
        return 0

    client = Client(f"bare-{uuid.uuid4().hex[:8]}", clean_session=True)
    client.on_message = on_message
    await client.connect(host, port, version=4)
    client.subscribe(topic_filter, qos=1)
    await asyncio.sleep(0.3)
    print("ready", flush=True)
    await done.wait()
    print(f"done {time.monotonic()}", flush=True)
    await client.disconnect()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])))
