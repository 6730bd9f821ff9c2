"""The device CoAP transport: an aiocoap server (plain UDP) for ThingsBoard's device CoAP API (site.py).

    server = DeviceCoapServer(host, port)      # conf.py's settings when not given
    await server.start()                        # bound: server.port is the port (0 picks a free one)
    await server.serve_forever()  /  await server.stop()

    host = TransportThread().start()            # the same in a daemon thread (manage.py serve, tests)
    host.port; host.stop()

Database work runs in a pool of DEVICE_MQTT_DB_THREADS threads (the MQTT transport's setting: the same work,
transports/threads.py), never in the event loop. One sender cannot hold the others up: a request is admitted
(:meth:`DeviceCoapServer.admitted`) only while its sender address has fewer than MAX_IN_FLIGHT_PER_SENDER requests
in flight and fewer than MAX_QUEUED database jobs wait in all, else it is answered 5.03 with Max-Age; a token that
is no device's is remembered UNKNOWN_TOKEN_SECONDS (a credentials change in this process forgets it at once).
aiocoap reads datagrams into a 4,096-byte buffer, cutting larger ones: the buffer is raised to a UDP datagram's
largest, so an oversize request is seen whole and answered 4.13. aiocoap binds with SO_REUSEPORT, so a port
another process holds would be shared silently: the port is bound once without it first, and a port taken is
an OSError (a warning under serve).
"""

import asyncio
import contextvars
import logging
import socket
from contextlib import contextmanager

import aiocoap
from aiocoap.util.asyncio import recvmsg
from django.db.models.signals import post_delete, post_save

from devices.models import DeviceCredentials
from tbproject.process_cache import ProcessCache
from tenants import limits
from transports import conf
from transports.coap import device_api
from transports.coap.blocks import Downloads, Full, Uploads
from transports.coap.observe import Observations
from transports.coap.site import DeviceApiSite
from transports.threads import DbThreads, LoopThread

__all__ = ["DeviceCoapServer", "TransportThread", "MAX_IN_FLIGHT_PER_SENDER", "MAX_QUEUED",
           "UNKNOWN_TOKEN_SECONDS"]

log = logging.getLogger(__name__)

MAX_IN_FLIGHT_PER_SENDER = 16
MAX_QUEUED = 512
UNKNOWN_TOKEN_SECONDS = 2.0
_DATAGRAM_MAX = 65_536  # past a UDP datagram's largest payload (65,507 bytes over IPv4)
_UNKNOWN = ProcessCache(max_entries=10_000)
_sender: contextvars.ContextVar[str | None] = contextvars.ContextVar("device_coap_sender", default=None)


def _forget_unknown(sender, **kwargs) -> None:
    _UNKNOWN.forget_now_and_on_commit()


post_save.connect(_forget_unknown, sender=DeviceCredentials, dispatch_uid="transports.coap.server.credentials_saved")
post_delete.connect(_forget_unknown, sender=DeviceCredentials,
                    dispatch_uid="transports.coap.server.credentials_deleted")


def _free_port(host: str, port: int) -> int:
    """``port``, checked free (OSError when taken); a free one for 0."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        sock.bind((host, port))
        return sock.getsockname()[1]


class DeviceCoapServer:
    """The aiocoap context, its observations and the threads their database work runs in."""

    def __init__(self, host: str | None = None, port: int | None = None):
        self.host = conf.coap_bind_address() if host is None else host
        self.port = conf.coap_port() if port is None else port
        self.max_bytes = conf.coap_max_payload_bytes()
        self.observations = Observations(self)
        self.site = DeviceApiSite(self)
        self.uploads, self.downloads = Uploads(), Downloads()
        self.in_flight: dict[str, int] = {}
        self.queued = 0
        self._threads = DbThreads(conf.db_threads(), "device-coap-db")
        self._context: aiocoap.Context | None = None
        self._stopped: asyncio.Event | None = None

    async def start(self) -> None:
        """Bind (OSError when the port is taken) and serve."""
        self.port = _free_port(self.host, self.port)
        transport = recvmsg.RecvmsgSelectorDatagramTransport
        transport.max_size = max(transport.max_size, _DATAGRAM_MAX)
        self._context = await aiocoap.Context.create_server_context(self.site, bind=(self.host, self.port),
                                                                    transports=["udp6"])
        self._stopped = asyncio.Event()
        log.info("device CoAP transport listening on %s:%s", self.host, self.port)

    async def serve_forever(self) -> None:
        if self._context is None:
            await self.start()
        try:
            await self._stopped.wait()
        except asyncio.CancelledError:
            pass
        finally:
            await self.stop()

    async def stop(self) -> None:
        context, self._context = self._context, None
        if context is not None:
            await context.shutdown()
        if self._stopped is not None:
            self._stopped.set()
        await asyncio.get_running_loop().run_in_executor(None, self._threads.close)

    async def db(self, fn, *args):
        """``fn(*args)`` in one of the database threads."""
        self.queued += 1
        try:
            return await self._threads.run(fn, *args)
        finally:
            self.queued -= 1

    @contextmanager
    def admitted(self, sender: str):
        """A request of ``sender`` in flight for the block, else blocks.Full (5.03)."""
        if self.in_flight.get(sender, 0) >= MAX_IN_FLIGHT_PER_SENDER or self.queued >= MAX_QUEUED:
            raise Full()
        self.in_flight[sender] = self.in_flight.get(sender, 0) + 1
        reset = _sender.set(sender)
        try:
            yield
        finally:
            _sender.reset(reset)
            self._leave(sender)

    def _leave(self, sender: str) -> None:
        left = self.in_flight.get(sender, 1) - 1
        if left > 0:
            self.in_flight[sender] = left
        else:
            self.in_flight.pop(sender, None)

    @contextmanager
    def waiting(self):
        """Within :meth:`admitted`: a wait that holds no database thread (a client-side call's answer) is not
        counted as in flight."""
        sender = _sender.get()
        if sender is not None:
            self._leave(sender)
        try:
            yield
        finally:
            if sender is not None:
                self.in_flight[sender] = self.in_flight.get(sender, 0) + 1

    async def device(self, token: str):
        """The device of access token ``token`` (device_api.device in a database thread), else Unauthorized;
        an unknown token is remembered briefly, so a sender repeating it costs no query."""
        if _UNKNOWN.get(token) is not None:
            raise device_api.Unauthorized()
        since = _UNKNOWN.generation
        try:
            return await self.db(device_api.device, token)
        except device_api.Unauthorized:
            _UNKNOWN.put_many([(token, True)], since, UNKNOWN_TOKEN_SECONDS)
            raise

    @staticmethod
    def too_many(refused) -> aiocoap.Message:
        """4.29 for a device API Refused(reason, ms to wait): Max-Age says how many seconds to wait."""
        args = refused.args
        reason = args[0] if args else ""
        wait_ms = args[1] if len(args) > 1 and isinstance(args[1], int) else 1000  # the MQTT API's carry no wait
        message = aiocoap.Message(code=aiocoap.TOO_MANY_REQUESTS, payload=str(reason)[:512].encode())
        message.opt.max_age = limits.retry_after(wait_ms)
        return message

    @staticmethod
    def busy() -> aiocoap.Message:
        message = aiocoap.Message(code=aiocoap.SERVICE_UNAVAILABLE, payload=b"busy: try again later")
        message.opt.max_age = 1
        return message


class TransportThread(LoopThread):
    """A DeviceCoapServer on its own event loop in a daemon thread (manage.py serve, tests).

    :meth:`start` returns once the port is bound; a port already taken is logged as a warning (the rest of
    the server goes on without the transport) and leaves :attr:`error` set."""

    def __init__(self, host: str | None = None, port: int | None = None):
        self.server = DeviceCoapServer(host, port)
        super().__init__("device-coap")

    def not_started(self, error: Exception) -> None:
        log.warning("device CoAP transport NOT started: cannot listen on %s:%s (%s). Devices cannot connect "
                    "over CoAP; set DEVICE_COAP_PORT to a free port.", self.server.host, self.server.port, error)
