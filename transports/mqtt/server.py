"""The device MQTT transport: an asyncio MQTT 3.1.1 server for ThingsBoard's device API (session.py).

    server = DeviceMqttServer(host, port)      # conf.py's settings when not given (TLS too: DEVICE_MQTT_SSL_*)
    server = DeviceMqttServer(host, port, ssl_port=0, ssl_context=context)   # and MQTT over TLS (tls.py)
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
With TLS (ThingsBoard's MQTT_SSL_ENABLED) a second socket serves the same sessions after a TLS handshake, which
must end within DEVICE_MQTT_CONNECT_TIMEOUT_SECONDS; one that fails (a plaintext client, garbage) closes only its
connection.
"""

import asyncio
import logging

from devices.models import DeviceCredentials
from tbproject import waits
from transports import conf
from transports.mqtt import auth, tls
from transports.mqtt.session import Session
from transports.threads import DbThreads, LoopThread

__all__ = ["DeviceMqttServer", "TransportThread", "CHECK_SECONDS", "MAX_SESSIONS_PER_DEVICE", "gone"]

log = logging.getLogger(__name__)

#: how often sessions are checked and the attribute-update marks renewed
CHECK_SECONDS = 30.0
#: a device's sessions at once: a new one past it closes the oldest
MAX_SESSIONS_PER_DEVICE = 8
_CHUNK = 500  # credentials ids a query of the check asks for at most


class DeviceMqttServer:
    """The listening socket, its sessions and the threads their database work runs in."""

    def __init__(self, host: str | None = None, port: int | None = None, *, ssl_port: int | None = None,
                 ssl_context=None):
        self.host = conf.bind_address() if host is None else host
        self.port = conf.port() if port is None else port
        self._tls_from_conf = ssl_context is None and conf.ssl_enabled()  # its files are read by start()
        self.ssl_context = ssl_context
        tls_on = ssl_context is not None or self._tls_from_conf
        self.ssl_port = (conf.ssl_port() if ssl_port is None else ssl_port) if tls_on else None
        self.max_bytes = conf.max_payload_bytes()
        self.max_buffer = 4 * self.max_bytes  # bytes that may wait to be sent to a session before it is aborted
        self.expect_ms = int(CHECK_SECONDS * 2 * 1000)
        self.sessions: set[Session] = set()
        self._by_device: dict[object, list[Session]] = {}
        self._threads = DbThreads(conf.db_threads(), "device-mqtt-db")
        self._server: asyncio.base_events.Server | None = None
        self._ssl_server: asyncio.base_events.Server | None = None
        self._checker: asyncio.Task | None = None

    async def start(self) -> None:
        """Bind (OSError when a port is taken; tls.TlsConfigError when the TLS files cannot be used) and accept
        connections."""
        if self._tls_from_conf and self.ssl_context is None:
            self.ssl_context = tls.server_context(conf.ssl_cert(), conf.ssl_key(), conf.ssl_key_password())
        self._server = await asyncio.start_server(self._accept, self.host, self.port, limit=self.max_bytes + 1024)
        self.port = self._server.sockets[0].getsockname()[1]
        if self.ssl_context is not None:
            try:
                self._ssl_server = await asyncio.start_server(
                    self._accept, self.host, self.ssl_port, ssl=self.ssl_context, limit=self.max_bytes + 1024,
                    ssl_handshake_timeout=conf.connect_timeout())
            except BaseException:
                self._server.close()
                raise
            self.ssl_port = self._ssl_server.sockets[0].getsockname()[1]
            log.info("device MQTT transport listening for MQTT over TLS on %s:%s (client certificates %s)",
                     self.host, self.ssl_port,
                     "asked for" if tls.wants_client_certificates(self.ssl_context) else "NOT asked for")
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
        for server in (self._server, self._ssl_server):
            if server is not None:
                server.close()
        if self._checker is not None:
            self._checker.cancel()
        await asyncio.gather(*(session.close() for session in list(self.sessions)), return_exceptions=True)
        await asyncio.get_running_loop().run_in_executor(None, self._threads.close)

    async def db(self, fn, *args):
        """``fn(*args)`` in one of the database threads."""
        return await self._threads.run(fn, *args)

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
        """Disconnect the sessions whose devices are gone; renew the attribute-update marks; forget the devices
        behind a gateway that left its tenant; take RPC calls (a gateway's devices' too) a lost notification may
        have left queued."""
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
        checked = await asyncio.gather(*(s.gateway.check() for s in connected), return_exceptions=True)
        for session, error in zip(connected, checked, strict=True):
            if isinstance(error, Exception):
                log.error("device MQTT: %s: its gateway devices were not checked: %r", session._who(), error)


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


class TransportThread(LoopThread):
    """A DeviceMqttServer on its own event loop in a daemon thread (manage.py serve, tests; transports/threads.py).

    :meth:`start` returns once the port is bound; a port already taken is logged as a warning (the rest of
    the server goes on without the transport) and leaves :attr:`error` set."""

    NOT_STARTED = (OSError, tls.TlsConfigError)

    def __init__(self, host: str | None = None, port: int | None = None, **tls_options):
        self.server = DeviceMqttServer(host, port, **tls_options)
        super().__init__("device-mqtt")

    def not_started(self, error: Exception) -> None:
        if isinstance(error, tls.TlsConfigError):
            log.warning("device MQTT transport NOT started: %s. Set DEVICE_MQTT_SSL_CERT, DEVICE_MQTT_SSL_KEY "
                        "and DEVICE_MQTT_SSL_KEY_PASSWORD, or DEVICE_MQTT_SSL_ENABLED=false.", error)
        else:
            ports = f"{self.server.port}" + (f" or {self.server.ssl_port}" if self.server.ssl_port is not None
                                             else "")
            log.warning("device MQTT transport NOT started: cannot listen on %s:%s (%s). Devices cannot connect "
                        "over MQTT; set DEVICE_MQTT_PORT (DEVICE_MQTT_SSL_PORT) to a free port.",
                        self.server.host, ports, error)
