"""A lean HTTP/1.1 load generator: keep-alive connections, one request in flight on each.

    result = asyncio.run(post_all(port, path, bodies, concurrency=64))
    result.elapsed, result.latencies, result.statuses

Written on raw asyncio streams so that the client costs little of the two cores the server
shares with it; an aiohttp/httpx client would spend more CPU per request than the server does.
"""

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

__all__ = ["LoadResult", "post_all", "percentile", "request_bytes", "read_status"]


@dataclass
class LoadResult:
    started: float = 0.0
    elapsed: float = 0.0
    latencies: list[float] = field(default_factory=list)
    statuses: Counter = field(default_factory=Counter)
    #: body index -> time.perf_counter() when its request was written
    sent: dict[int, float] = field(default_factory=dict)
    #: send-to-queryable latencies of sampled messages, ms (bench/uplinks.py fills it)
    visible_ms: list[float] = field(default_factory=list)


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def request_bytes(path: str, body: bytes, content_type: str = "application/json") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


async def read_status(reader: asyncio.StreamReader) -> int:
    """Read one response (head and body) off a keep-alive connection; its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n"):
        if line[:15].lower() == b"content-length:":
            length = int(line[15:])
    if length:
        await reader.readexactly(length)
    return int(head[9:12])


async def _connection(port: int, requests: asyncio.Queue, result: LoadResult, rate_gate) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        while True:
            try:
                index, raw = requests.get_nowait()
            except asyncio.QueueEmpty:
                return
            if rate_gate is not None:
                await rate_gate()
            sent = result.sent[index] = time.perf_counter()
            writer.write(raw)
            status = await read_status(reader)
            result.latencies.append(time.perf_counter() - sent)
            result.statuses[status] += 1
    finally:
        writer.close()


def _pacer(rate: float):
    """A gate that lets requests start at ``rate`` per second in total (open-loop pacing)."""
    start = time.perf_counter()
    issued = 0

    async def gate():
        nonlocal issued
        due = start + issued / rate
        issued += 1
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)

    return gate


async def post_all(port: int, path: str, bodies: list[bytes], *, concurrency: int = 64,
                   content_type: str = "application/json", rate: float | None = None) -> LoadResult:
    """POST every body once over ``concurrency`` connections; optionally paced at ``rate``/s."""
    queue: asyncio.Queue = asyncio.Queue()
    for index, body in enumerate(bodies):
        queue.put_nowait((index, request_bytes(path, body, content_type)))
    result = LoadResult(started=time.perf_counter())
    gate = _pacer(rate) if rate else None
    await asyncio.gather(*(_connection(port, queue, result, gate) for _ in range(concurrency)))
    result.elapsed = time.perf_counter() - result.started
    return result
