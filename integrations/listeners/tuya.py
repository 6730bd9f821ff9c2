"""The listener behind the TUYA integration (types/tuya.py describes what it does).

Two layers over the source interface of integrations/listeners/sources.py:
- a raw message source: Tuya's message service, a Pulsar topic ``{accessId}/out/{event|event-test}``
  read as subscription ``{accessId}-sub`` (failover) with pulsar-client and Tuya's authentication
  (``PulsarSource``); each message is acknowledged only once queued, negatively acknowledged
  (redelivered) when not. ``SOURCES["pulsar"]`` builds it; tests put a fake there (a mocked
  cloud: Tuya's service cannot run here).
- ``TuyaSource`` decrypts each raw message into the uplink (tuya_cloud.decrypt).

Before receiving, the listener asks the OpenAPI for a token: refused credentials are a clear,
permanent error in the integration's status. Downlinks go through the same OpenAPI client.
"""

import asyncio
import hashlib
import json
import logging
import threading
from concurrent.futures import ThreadPoolExecutor

from integrations.listeners.sources import Received, SourceListener, probe_with
from integrations.listeners.tuya_cloud import OpenApi, decrypt
from integrations.types.base import IntegrationError

__all__ = ["TuyaListener", "TuyaSource", "PulsarSource", "SOURCES", "probe", "unwrap", "pulsar_credentials"]

log = logging.getLogger(__name__)

MAX_BATCH = 200
POLL_MS = 500
SOURCES: dict[str, object] = {"pulsar": None}
_META = ("devId", "productKey", "bizCode", "dataId")


def pulsar_credentials(access_id: str, access_secret: str) -> tuple[str, str]:
    """Tuya's "auth1" basic credentials: a JSON fragment pair the broker joins into
    ``{"username": id, "password": md5(id + md5(secret))[8:24]}``."""
    inner = hashlib.md5(access_secret.encode()).hexdigest()
    password = hashlib.md5((access_id + inner).encode()).hexdigest()[8:24]
    return f'{{"username": "{access_id}","password"', f'"{password}"}}'


def unwrap(raw: Received, access_secret: str) -> Received:
    """One message of the service as an uplink: the decrypted ``data`` and Tuya's fields."""
    metadata = {k: v for k, v in raw.metadata.items() if k != "em"}
    try:
        envelope = json.loads(raw.payload)
        if not isinstance(envelope, dict) or not isinstance(envelope.get("data"), str):
            raise ValueError("the message has no encrypted data field")
        for key in ("protocol", "pv", "t"):
            if envelope.get(key) is not None:
                metadata[key] = str(envelope[key])
        plain = decrypt(envelope["data"], access_secret, raw.metadata.get("em", ""))
    except ValueError as exc:
        return Received(raw.payload, metadata, error=f"Tuya message cannot be read: {exc}")
    try:
        body = json.loads(plain)
    except ValueError:
        body = None
    if isinstance(body, dict):
        metadata.update({k: str(body[k]) for k in _META if body.get(k) not in (None, "")})
    return Received(plain, metadata, "application/json" if body is not None else "")


class TuyaSource:
    def __init__(self, cc, api: OpenApi):
        self.cc, self.api = cc, api
        self.what = f"Tuya message service at {cc.service_url} ({cc.topic})"
        factory = SOURCES["pulsar"] or PulsarSource
        self.raw = factory(cc)

    async def check(self) -> None:
        await asyncio.to_thread(self.api.token)
        await self.raw.check()

    async def run(self, handle, connected) -> None:
        await asyncio.to_thread(self.api.token)
        secret = self.cc.accessKey
        await self.raw.run(lambda batch: handle([unwrap(r, secret) for r in batch]), connected)

    async def close(self) -> None:
        await self.raw.close()


class PulsarSource:
    """Tuya's message service through pulsar-client (blocking; run on a thread of its own)."""

    def __init__(self, cc):
        self.cc = cc
        self.what = f"Tuya message service at {cc.service_url}"
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="tuya-pulsar")
        self._client = self._consumer = None
        self._closed = threading.Event()

    async def _call(self, func, *args):
        return await asyncio.get_running_loop().run_in_executor(self._pool, func, *args)

    def _open(self) -> None:
        import pulsar

        user, password = pulsar_credentials(self.cc.accessId, self.cc.accessKey)
        try:
            self._client = pulsar.Client(self.cc.service_url, authentication=pulsar.AuthenticationBasic(
                user, password, "auth1"), operation_timeout_seconds=15, tls_allow_insecure_connection=False,
                logger=logging.getLogger("pulsar"))
            self._consumer = self._client.subscribe(self.cc.topic, f"{self.cc.accessId}-sub",
                                                    consumer_type=pulsar.ConsumerType.Failover,
                                                    initial_position=pulsar.InitialPosition.Earliest,
                                                    negative_ack_redelivery_delay_ms=1000)
        except Exception as exc:
            raise IntegrationError(f"Failed to connect to {self.what}: {exc}",
                                   permanent="Authentication" in type(exc).__name__) from None

    def _fetch(self) -> list:
        batch = []
        try:
            while len(batch) < MAX_BATCH and not self._closed.is_set():
                batch.append(self._consumer.receive(timeout_millis=POLL_MS if not batch else 1))
        except Exception as exc:
            if "Timeout" not in type(exc).__name__ and not self._closed.is_set():
                raise IntegrationError(f"Receiving from {self.what} failed: {exc}") from None
        return batch

    def _settle(self, messages: list, ok: bool) -> None:
        for message in messages:
            (self._consumer.acknowledge if ok else self._consumer.negative_acknowledge)(message)

    async def check(self) -> None:
        await self._call(self._open)

    async def run(self, handle, connected) -> None:
        await self._call(self._open)
        connected()
        while not self._closed.is_set():
            messages = await self._call(self._fetch)
            if not messages:
                continue
            ok = await handle([Received(m.data(), {"em": m.properties().get("em", ""),
                                                   "messageId": str(m.message_id())}) for m in messages])
            await self._call(self._settle, messages, ok)
            if not ok:
                return

    async def close(self) -> None:
        self._closed.set()
        try:
            await self._call(self._close)
        finally:
            self._pool.shutdown(wait=False)

    def _close(self) -> None:
        client, self._client, self._consumer = self._client, None, None
        if client is not None:
            client.close()


def _api(config) -> OpenApi:
    cc = config.clientConfiguration
    return OpenApi(cc.api_url, cc.accessId, cc.accessKey)


class TuyaSender:
    def __init__(self, api: OpenApi):
        self.api = api

    async def send(self, downlink) -> None:
        device = str((downlink.metadata or {}).get("deviceId") or downlink.device_name or "")
        try:
            data = json.loads(downlink.payload or b"null")
        except ValueError:
            data = None
        commands = data.get("commands") if isinstance(data, dict) and "commands" in data else (
            [data] if isinstance(data, dict) else data)
        if not device or not isinstance(commands, list) or not all(isinstance(c, dict) and "code" in c
                                                                    for c in commands):
            raise IntegrationError('A Tuya downlink is JSON {"code": ..., "value": ...} (or a list of them) with '
                                   "metadata.deviceId", permanent=True)
        await asyncio.to_thread(self.api.send_commands, device, commands)

    async def close(self) -> None:
        pass


class TuyaListener(SourceListener):
    def __init__(self, config, sink, *, metadata: dict[str, str], integration_id: str):
        super().__init__(config, sink, metadata=metadata, integration_id=integration_id)
        self.api = _api(config)
        self.what = f"Tuya ({config.clientConfiguration.region}, {config.clientConfiguration.topic})"

    def make_source(self):
        return TuyaSource(self.config.clientConfiguration, self.api)

    def make_sender(self):
        return TuyaSender(self.api)


probe = probe_with(lambda config: TuyaSource(config.clientConfiguration, _api(config)))
