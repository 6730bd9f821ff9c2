"""A real CoAP client (aiocoap, UDP) on its own event loop, for tests that call it from synchronous code."""

import asyncio
import json
import queue
import threading

import aiocoap

from transports.tests.mqtt_client import BOUND

__all__ = ["CoapClient", "Observation", "BOUND"]


class Observation:
    """An Observe registration: :meth:`next` is the next notification (the first answer included)."""

    def __init__(self, client: "CoapClient", request):
        self.client, self.request = client, request
        self.messages: queue.Queue = queue.Queue()

    def next(self) -> aiocoap.Message:
        return self.messages.get(timeout=BOUND)

    def next_json(self):
        message = self.next()
        assert message.code == aiocoap.CONTENT, message
        return json.loads(message.payload) if message.payload else None

    def cancel(self) -> None:
        self.client._call(self._cancel())

    async def _cancel(self) -> None:
        self.request.observation.cancel()


class CoapClient:
    def __init__(self, port: int, host: str = "127.0.0.1"):
        self.base = f"coap://{host}:{port}"
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._followers: set = set()
        self.context = self._call(aiocoap.Context.create_client_context())

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(BOUND)

    def request(self, method, path: str, payload=b"", *, query: str = "") -> aiocoap.Message:
        if not isinstance(payload, bytes):
            payload = json.dumps(payload).encode()
        uri = f"{self.base}{path}" + (f"?{query}" if query else "")

        async def send():
            message = aiocoap.Message(code=method, uri=uri, payload=payload)
            return await self.context.request(message).response
        return self._call(send())

    def post(self, path: str, payload=b"", **kwargs) -> aiocoap.Message:
        return self.request(aiocoap.POST, path, payload, **kwargs)

    def get(self, path: str, **kwargs) -> aiocoap.Message:
        return self.request(aiocoap.GET, path, **kwargs)

    def observe(self, path: str) -> Observation:
        async def start():
            message = aiocoap.Message(code=aiocoap.GET, uri=f"{self.base}{path}", observe=0)
            request = self.context.request(message)
            observation = Observation(self, request)
            first = await request.response
            observation.messages.put(first)
            self._followers.add(self._loop.create_task(self._follow(observation)))
            return observation
        return self._call(start())

    async def _follow(self, observation: Observation) -> None:
        try:
            async for message in observation.request.observation:
                observation.messages.put(message)
        except Exception as e:  # the observation ended with an error response: handed on as the last message
            observation.messages.put(getattr(e, "response", None) or e)

    async def _shutdown(self) -> None:
        for task in self._followers:
            task.cancel()
        await self.context.shutdown()

    def close(self) -> None:
        if self._loop.is_running():
            try:
                self._call(self._shutdown())
            finally:
                self._loop.call_soon_threadsafe(self._loop.stop)
                self._thread.join(BOUND)


# --- fixtures (imported by the test modules) ---------------------------------------------------------

import pytest  # noqa: E402


@pytest.fixture
def coap(committed):
    """The device CoAP transport on a free UDP port of 127.0.0.1 (its own loop and database threads)."""
    from transports.coap.server import TransportThread

    host = TransportThread("127.0.0.1", 0).start()
    assert host.error is None
    yield host
    host.stop()


@pytest.fixture
def coap_client(coap):
    """``coap_client()``: a new client of the transport, closed after the test."""
    made = []

    def make() -> CoapClient:
        made.append(CoapClient(coap.port))
        return made[-1]

    yield make
    for client in made:
        client.close()
