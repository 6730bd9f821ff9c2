"""The device MQTT transport: an asyncio MQTT 3.1.1 server for ThingsBoard's device API (session.py).

    server = DeviceMqttServer(host, port)      # conf.py's settings when not given
    await server.start()                        # bound: server.port is the port (0 picks a free one)
    await server.serve_forever()  /  await server.stop()

    host = TransportThread().start()            # the same in a daemon thread (manage.py serve, tests)
    host.port; host.stop()

Written here rather than on a broker library: the transport is no broker (a device's ``v1/devices/me/...``
topics are its own, never routed to other clients), and amqtt 0.12.1, the maintained asyncio broker, pins
websockets 15.0.1 against this project's 17.4. Database work runs in a pool of DEVICE_MQTT_DB_THREADS threads.
Every 30 s the server checks that each session's device still may connect (one deleted or re-credentialed
in another process is disconnected then, in this one at its next message; one query for all sessions) and
keeps the Redis marks that make shared-attribute changes reach this process (tbproject.waits.expect_many, one
round trip). A device's new session with the client id of one of its sessions takes over (the old one is
closed, as ThingsBoard's); past MAX_SESSIONS_PER_DEVICE its oldest session is closed. Sessions are closed
concurrently, and closing one is bounded: a device that reads nothing holds neither the check nor stop().
"""

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import suppress

from django.db import close_old_connections, connections

from devices.models import DeviceCredentials
from tbproject import waits
from transports import conf
from transports.mqtt import auth
from transports.mqtt.session import Session

__all__ = ["DeviceMqttServer", "TransportThread", "CHECK_SECONDS", "MAX_SESSIONS_PER_DEVICE", "gone"]

log = logging.getLogger(__name__)

#: how often sessions are checked and the attribute-update marks renewed
CHECK_SECONDS = 30.0
#: a device's sessions at once: a new one past it closes the oldest
MAX_SESSIONS_PER_DEVICE = 8
_CHUNK = 500  # credentials ids a query of the check asks for at most


def _in_thread(fn, args):
    close_old_connections()
    try:
        return fn(*args)
    finally:
        close_old_connections()


class DeviceMqttServer:
    """The listening socket, its sessions and the threads their database work runs in."""

    def __init__(self, host: str | None = None, port: int | None = None):
        self.host = conf.bind_address() if host is None else host
        self.port = conf.port() if port is None else port
        self.max_bytes = conf.max_payload_bytes()
        self.max_buffer = 4 * self.max_bytes  # bytes that may wait to be sent to a session before it is aborted
        self.expect_ms = int(CHECK_SECONDS * 2 * 1000)
        self.sessions: set[Session] = set()
        self._by_device: dict[object, list[Session]] = {}
        self._executor = ThreadPoolExecutor(conf.db_threads(), thread_name_prefix="device-mqtt-db")
        self._server: asyncio.base_events.Server | None = None
        self._checker: asyncio.Task | None = None

    async def start(self) -> None:
        """Bind (OSError when the port is taken) and accept connections."""
        self._server = await asyncio.start_server(self._accept, self.host, self.port, limit=self.max_bytes + 1024)
        self.port = self._server.sockets[0].getsockname()[1]
        self._checker = asyncio.get_running_loop().create_task(self._check_forever())
        log.info("device MQTT transport listening on %s:%s", self.host, self.port)

    async def serve_forever(self) -> None:
        if self._server is None:
            await self.start()
        try:
            await self._server.serve_forever()
        except asyncio.CancelledError:
            pass
        finally:
            await self.stop()

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        if self._checker is not None:
            self._checker.cancel()
        await asyncio.gather(*(session.close() for session in list(self.sessions)), return_exceptions=True)
        await asyncio.get_running_loop().run_in_executor(None, self._close_threads)

    def _close_threads(self) -> None:
        """Each database thread closes its own (thread-local) connection, then the pool stops: a barrier as wide
        as the pool holds every thread on one job until all have one (devices/telemetry/parallel.py's way)."""
        threads = len(self._executor._threads)
        if threads:
            barrier = threading.Barrier(threads)

            def close_own() -> None:
                with suppress(threading.BrokenBarrierError):
                    barrier.wait(5)
                connections.close_all()

            jobs = [self._executor.submit(close_own) for _ in range(threads)]
            for job in jobs:
                job.result()
        self._executor.shutdown(wait=True, cancel_futures=True)

    async def db(self, fn, *args):
        """``fn(*args)`` in one of the database threads."""
        return await asyncio.get_running_loop().run_in_executor(self._executor, _in_thread, fn, args)

    def forget(self, session: Session) -> None:
        self.sessions.discard(session)
        if session.identity is not None:
            mine = self._by_device.get(session.device.pk, [])
            if session in mine:
                mine.remove(session)
            if not mine:
                self._by_device.pop(session.device.pk, None)

    def admit(self, session: Session) -> list[Session]:
        """Count ``session`` (authenticated) as its device's; the sessions it replaces, for it to close: the
        device's one with the same client id, and the oldest past :data:`MAX_SESSIONS_PER_DEVICE`."""
        mine = self._by_device.setdefault(session.device.pk, [])
        replaced = [s for s in mine if session.client_id and s.client_id == session.client_id]
        others = [s for s in mine if s not in replaced]
        replaced += others[:max(len(others) + 1 - MAX_SESSIONS_PER_DEVICE, 0)]  # kept in order of admission
        mine.append(session)
        return replaced

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        session = Session(self, reader, writer)
        self.sessions.add(session)
        await session.run()

    async def _check_forever(self) -> None:
        while True:
            await asyncio.sleep(CHECK_SECONDS)
            try:
                await self.check()
            except Exception:
                log.exception("device MQTT: the periodic session check failed")

    async def check(self) -> None:
        """Disconnect the sessions whose devices are gone; renew the attribute-update marks; take RPC calls
        a lost notification may have left queued."""
        connected = [s for s in self.sessions if s.identity is not None and not s.closed]
        if not connected:
            return
        lost = await self.db(gone, [s.identity for s in connected])
        gone_sessions = [s for s in connected if s.identity in lost]
        for session in gone_sessions:
            log.info("device MQTT: device %s is gone: disconnected", session.device.pk)
        await asyncio.gather(*(s.close() for s in gone_sessions), return_exceptions=True)
        connected = [s for s in connected if s not in gone_sessions]
        keys = [key for s in connected for key in s.watched_keys()]
        if keys:
            await self.db(waits.expect_many, keys, self.expect_ms)
        for session in connected:
            session.take_calls()


def gone(identities: list[auth.Identity]) -> set[auth.Identity]:
    """Those of ``identities`` that may no longer connect (auth.current's rule for each): one query (a few for
    many thousands)."""
    ids = sorted({identity.credentials_id for identity in identities})
    valid = set()
    for start in range(0, len(ids), _CHUNK):
        valid.update(DeviceCredentials.objects.filter(
            credentials_id__in=ids[start:start + _CHUNK], device__tenant__deleting_ts__isnull=True).values_list(
            "credentials_id", "credentials_type", "credentials_value", "device_id", "device__tenant_id"))
    return {identity for identity in identities
            if (identity.credentials_id, identity.credentials_type, identity.credentials_value, identity.device.pk,
                identity.device.tenant_id) not in valid}


class TransportThread:
    """A DeviceMqttServer on its own event loop in a daemon thread (manage.py serve, tests).

    :meth:`start` returns once the port is bound; a port already taken is logged as a warning (the rest of
    the server goes on without the transport) and leaves :attr:`error` set."""

    def __init__(self, host: str | None = None, port: int | None = None):
        self.server = DeviceMqttServer(host, port)
        self.error: OSError | None = None
        self._loop = asyncio.new_event_loop()
        self._bound = threading.Event()
        self._thread = threading.Thread(target=self._run, name="device-mqtt", daemon=True)

    @property
    def port(self) -> int:
        return self.server.port

    def start(self, timeout: float = 10.0) -> "TransportThread":
        self._thread.start()
        self._bound.wait(timeout)
        return self

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self.server.start())
        except OSError as e:
            self.error = e
            log.warning("device MQTT transport NOT started: cannot listen on %s:%s (%s). Devices cannot connect "
                        "over MQTT; set DEVICE_MQTT_PORT to a free port.", self.server.host, self.server.port, e)
            self._loop.close()
            self._bound.set()
            return
        self._bound.set()
        try:
            self._loop.run_forever()
        finally:
            self._loop.run_until_complete(self.server.stop())
            pending = asyncio.all_tasks(self._loop)
            for task in pending:
                task.cancel()
            self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
            self._loop.close()

    def call(self, coroutine, timeout: float = 30.0):
        """Run ``coroutine`` on the transport's loop from another thread (tests)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread.is_alive() and self.error is None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout)
