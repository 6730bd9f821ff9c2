"""Bare baselines of the TCP and RabbitMQ transports: they only count messages.

    python -m bench.bare_peers tcp PORT COUNT            # asyncio server, newline-delimited lines
    python -m bench.bare_peers amqp AMQP_URL QUEUE COUNT # aio-pika consumer, acknowledges each
    python -m bench.bare_peers kafka SERVERS TOPIC COUNT WAIT_MS  # aiokafka group member, commits each poll

Each prints "ready" once it accepts, then "done <time.monotonic() of the last message>" after
COUNT messages (CLOCK_MONOTONIC is one clock for every process of the machine).
"""

import asyncio
import sys
import time

#: The TCP listen backlog of the bare server and of the bench's TCP integration (its
#: ``soBacklogOption``): the bench opens 1,000 connections at once, past ThingsBoard's default of
#: 128, and Linux refuses or resets what overflows the accept queue (SYN cookies), so that a client
#: that writes and closes at once loses its lines (measured: 120 of 1,000 connections in one run of
#: seven with 128).
TCP_BACKLOG = 2048


async def tcp(port: int, count: int) -> None:
    done = asyncio.Event()
    seen = 0

    async def client(reader, writer):
        nonlocal seen
        while line := await reader.readline():
            if line.strip():
                seen += 1
                if seen >= count:
                    done.set()
        writer.close()

    server = await asyncio.start_server(client, "127.0.0.1", port, backlog=TCP_BACKLOG)
    print("ready", flush=True)
    await done.wait()
    print(f"done {time.monotonic()}", flush=True)
    server.close()


async def amqp(url: str, queue_name: str, count: int) -> None:
    import aio_pika

    done = asyncio.Event()
    seen = 0
    connection = await aio_pika.connect(url)
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=500)
    queue = await channel.declare_queue(queue_name, durable=False, auto_delete=False)

    async def on_message(message):
        nonlocal seen
        await message.ack()
        seen += 1
        if seen >= count:
            done.set()

    await queue.consume(on_message)
    print("ready", flush=True)
    await done.wait()
    print(f"done {time.monotonic()}", flush=True)
    await queue.delete(if_unused=False, if_empty=False)
    await connection.close()


async def kafka(servers: str, topic: str, count: int, fetch_max_wait_ms: int) -> None:
    from aiokafka import AIOKafkaConsumer

    consumer = AIOKafkaConsumer(topic, bootstrap_servers=servers, group_id=f"bare-{topic}", enable_auto_commit=False,
                                auto_offset_reset="earliest", session_timeout_ms=6000, heartbeat_interval_ms=500,
                                fetch_max_wait_ms=fetch_max_wait_ms)
    await consumer.start()
    while not consumer.assignment():  # joined the group: the producer may start
        await asyncio.sleep(0.05)
    print("ready", flush=True)
    seen = 0
    while seen < count:
        batches = await consumer.getmany(timeout_ms=100, max_records=1000)
        seen += sum(len(records) for records in batches.values())
        if batches:
            await consumer.commit()
    print(f"done {time.monotonic()}", flush=True)
    await consumer.stop()


if __name__ == "__main__":
    if sys.argv[1] == "tcp":
        asyncio.run(tcp(int(sys.argv[2]), int(sys.argv[3])))
    elif sys.argv[1] == "kafka":
        asyncio.run(kafka(sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])))
    else:
        asyncio.run(amqp(sys.argv[2], sys.argv[3], int(sys.argv[4])))
