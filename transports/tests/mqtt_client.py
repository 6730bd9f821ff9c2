"""A real MQTT client (gmqtt, MQTT 3.1.1) driven from a test's thread: its own event loop in a thread, what
it receives in a queue, every wait bounded (never a fixed sleep)."""

import asyncio
import json
import queue
import threading
import uuid

from gmqtt import Client
from gmqtt.mqtt.constants import MQTTv311

__all__ = ["DeviceClient", "BOUND"]

BOUND = 20.0  # seconds: a bound no passing step comes near, never a measurement


class DeviceClient:
    """``DeviceClient(port, "TOKEN").connect()``; ``publish``; ``subscribe`` (returns once SUBACKed);
    ``message(topic)`` the next one received; ``request_attributes()`` a round trip, which also proves that
    everything published before it was handled (the transport handles a session's messages in order)."""

    def __init__(self, port: int, username: str | None = None, password: str | None = None,
                 client_id: str | None = None):
        self.port, self.received, self.disconnected = port, queue.Queue(), threading.Event()
        self._subacks: queue.Queue = queue.Queue()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._requests = 0
        self.client = self._call(self._make(client_id or f"test-{uuid.uuid4().hex[:8]}", username, password))

    async def _make(self, client_id, username, password) -> Client:
        client = Client(client_id)
        if username is not None:
            client.set_auth_credentials(username, password)
        client.on_message = self._on_message
        client.on_subscribe = lambda _c, _mid, qos, _p: self._subacks.put(qos)
        client.on_disconnect = lambda *_: self.disconnected.set()
        return client

    def _on_message(self, _client, topic, payload, qos, _properties):
        self.received.put((topic, payload))
        return 0

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(BOUND)

    def connect(self) -> "DeviceClient":
        self.client.set_config({"reconnect_retries": 0})
        self._call(self.client.connect("127.0.0.1", self.port, version=MQTTv311, keepalive=60))
        return self

    def publish(self, topic: str, payload, qos: int = 1) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self._loop.call_soon_threadsafe(lambda: self.client.publish(topic, data, qos=qos))

    def subscribe(self, topic: str, qos: int = 1) -> list[int]:
        self._loop.call_soon_threadsafe(lambda: self.client.subscribe(topic, qos=qos))
        return self._subacks.get(timeout=BOUND)

    def message(self, prefix: str = "") -> tuple[str, object]:
        """The next message whose topic starts with ``prefix`` (others before it are skipped), JSON decoded."""
        while True:
            topic, payload = self.received.get(timeout=BOUND)
            if topic.startswith(prefix):
                return topic, json.loads(payload) if payload else None

    def request_attributes(self, **keys) -> dict:
        self._requests += 1
        request_id = self._requests
        self.publish(f"v1/devices/me/attributes/request/{request_id}", keys)
        topic, answer = self.message("v1/devices/me/attributes/response/")
        assert topic == f"v1/devices/me/attributes/response/{request_id}"
        return answer

    def close(self) -> None:
        if not self.disconnected.is_set() and self.client.is_connected:
            try:
                self._call(self.client.disconnect())
            except Exception:  # the transport closed it already
                pass
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(BOUND)
