"""REST API calls for the benchmarks, on raw asyncio streams (cheap beside the server they load).

    results = asyncio.run(call_all(port, token, [(method, path, json_body), ...], clients=16))
    results = asyncio.run(call_all(port, token, calls, clients=16, pipeline=8))

Each of ``clients`` keep-alive connections takes calls from one queue. With ``pipeline`` above 1
a connection writes that many requests before it reads their answers (HTTP/1.1 pipelining: the
server answers them in order), so a client never waits a round trip per call. Results are
``(status, body)`` in the order of ``calls``.
"""

import asyncio
import json

__all__ = ["call_all"]


def _request(method: str, path: str, token: str, body: bytes) -> bytes:
    return (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"X-Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


async def _response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status = int((await reader.readline()).split()[1])
    length = 0
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value)
    return status, await reader.readexactly(length) if length else b""


async def call_all(port: int, token: str, calls: list[tuple[str, str, dict | None]], *, clients: int = 16,
                   pipeline: int = 1) -> list[tuple[int, bytes]]:
    """Run ``(method, path, json body)`` calls; see the module docstring."""
    queue: asyncio.Queue = asyncio.Queue()
    for n, call in enumerate(calls):
        queue.put_nowait((n, call))
    results: list = [None] * len(calls)

    async def client():
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while not queue.empty():
                window = [queue.get_nowait() for _ in range(min(pipeline, queue.qsize()))]
                writer.write(b"".join(_request(method, path, token, json.dumps(body).encode() if body is not None
                                               else b"") for _, (method, path, body) in window))
                for n, _ in window:
                    results[n] = await _response(reader)
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(min(clients, len(calls)) or 1)))
    return results
