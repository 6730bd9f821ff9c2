"""The remote runner's connection to the server (integrations/remote/protocol.py says the frames).

    runner = RemoteRunner(server, key, secret, outbox_path=..., max_messages=...)
    await runner.run()          # until request_stop(); reconnects whenever the connection drops

The hosted integration keeps running while the server is away: uplinks go to the outbox and
wait. On (re)connecting, the runner says hello, applies the configuration the server answers
(deleting what ``ackedSeq`` says the server already holds), and sends the outbox oldest first,
one frame at a time, each deleted only when acknowledged. Consecutive stored batches travel as
one frame (numbered by the last of them) up to MAX_BATCH uplinks and about 1 MB, read from
disk only as far as that frame needs (a large backlog is never loaded whole). The last configuration is
kept in the outbox file, so a runner restarted during an outage runs its integration at once.
"""

import asyncio
import collections
import logging
import socket
import ssl
from concurrent.futures import ThreadPoolExecutor

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidStatus

from integrations.remote import protocol
from remote import __version__
from remote.host import Host
from remote.outbox import Outbox
from remote.replies import Replies
from remote.sink import chunks

__all__ = ["RemoteRunner", "websocket_url"]

log = logging.getLogger(__name__)

ACK_TIMEOUT = 60.0
HELLO_TIMEOUT = 30.0
#: Close codes of the server (integrations/remote/consumer.py) that a quick reconnect cannot cure.
CLOSED_FOR = {4403: "the integration is no longer set to execute remotely",
              4404: "the integration was deleted on the server",
              4409: "another remote runner connected with this integration's key and replaced this one"}
LONG_WAIT = 30.0


def websocket_url(server: str) -> str:
    """``http(s)://host[:port]`` or ``ws(s)://...`` of the server -> the remote endpoint's URL."""
    server = server.rstrip("/")
    for plain, ws in (("https://", "wss://"), ("http://", "ws://")):
        if server.startswith(plain):
            server = ws + server[len(plain):]
    if not server.startswith(("ws://", "wss://")):
        server = "ws://" + server
    return server if server.endswith(protocol.PATH) else server + protocol.PATH


class RemoteRunner:
    def __init__(self, server: str, key: str, secret: str, *, outbox_path: str, max_messages: int = 100_000,
                 reconnect_seconds: float = 3.0, status_seconds: float = 10.0, http: dict | None = None,
                 ca_file: str | None = None):
        self.url, self.key, self.secret = websocket_url(server), key, secret
        # wss: the system's CAs, or only the CA bundle given (a server with a private CA)
        self.ssl = ssl.create_default_context(cafile=ca_file) if ca_file and self.url.startswith("wss:") else None
        #: where HTTP-family integrations listen here (remote/http.py): host, port, max_body
        self.http = {"host": "0.0.0.0", "port": 8082, "max_body": 1024 * 1024, **(http or {})}
        self.reconnect, self.status_every = reconnect_seconds, status_seconds
        self.outbox = Outbox(outbox_path, max_messages=max_messages)
        self.io = ThreadPoolExecutor(1, thread_name_prefix="remote-outbox")  # the outbox's one thread
        self.host = Host(self)
        self.replies = Replies(self)  # downlinks answered on a device's next request
        self.state: dict = {}  # the listener's connected / error / method, as last reported
        self.frames: collections.deque = collections.deque(maxlen=1000)  # lifecycle, dropped: sent when connected
        self.connected = asyncio.Event()
        self._kick = asyncio.Event()
        self._stop = asyncio.Event()
        self._ack: asyncio.Future | None = None
        self._downlinks: set[asyncio.Task] = set()
        self._status_due = True

    async def _io(self, func, *args):
        return await asyncio.get_running_loop().run_in_executor(self.io, func, *args)

    # --- what the host and the sink call ----------------------------------------------------------

    async def store(self, encoded: list) -> int:
        dropped = 0
        for chunk in chunks(encoded):
            dropped += await self._io(self.outbox.append, chunk)
        self._kick.set()
        return dropped

    def listener_state(self, *, connected=None, error=None, method="connect") -> None:
        if connected is not None:
            self.state["connected"] = connected
        if error is not None:
            self.state.update(error=error, method=method)
        self._kick.set()
        self._status_due = True

    def lifecycle(self, event: str, error: str | None = None) -> None:
        self.queue_frame(protocol.frame("lifecycle", event=event, **({"error": error} if error else {})))

    def queue_frame(self, text: str) -> None:
        self.frames.append(text)
        self._kick.set()

    def request_stop(self) -> None:
        self._stop.set()
        self._kick.set()

    # --- the loop ------------------------------------------------------------------------------------

    async def run(self) -> None:
        self._status_due = True
        config = await self._io(self.outbox.last_config)
        if config is not None:
            log.info("running the last configuration received (version %s) until the server answers",
                     config.get("version"))
            self.replies.configure(config)
            await self.host.apply(config)
        try:
            while not self._stop.is_set():
                delay = self.reconnect
                try:
                    await self._session()
                except InvalidStatus as exc:
                    status = exc.response.status_code
                    log.error("the server refused the connection (HTTP %s)%s", status,
                              ": wrong integration key or secret, or the integration is not remote"
                              if status == 403 else "")
                    delay = max(self.reconnect, 10.0)
                except ConnectionClosed as exc:
                    code = exc.rcvd.code if exc.rcvd is not None else None
                    if code in CLOSED_FOR:
                        log.error("the server closed the connection: %s; trying again in %.0f s", CLOSED_FOR[code],
                                  LONG_WAIT)
                        delay = max(self.reconnect, LONG_WAIT)
                    else:
                        log.warning("connection to the server ended (%s); outbox holds %d uplinks", exc,
                                    self.outbox.depth)
                except (OSError, TimeoutError, EOFError, protocol.ProtocolError) as exc:
                    log.warning("server %s unreachable (%s); outbox holds %d uplinks", self.url,
                                exc or type(exc).__name__, self.outbox.depth)
                except Exception as exc:  # anything else ends this connection only: reconnect
                    log.warning("connection to the server ended: %s; outbox holds %d uplinks",
                                exc or type(exc).__name__, self.outbox.depth)
                self.connected.clear()
                try:
                    await asyncio.wait_for(self._stop.wait(), delay)
                except TimeoutError:
                    pass
        finally:
            await self.host.stop()
            for task in list(self._downlinks):
                task.cancel()
            self.io.submit(self.outbox.close).result()
            self.io.shutdown()

    async def _session(self) -> None:
        headers = {protocol.KEY_HEADER: self.key, protocol.SECRET_HEADER: self.secret}
        tls = {"ssl": self.ssl} if self.ssl is not None else {}
        async with connect(self.url, additional_headers=headers, max_size=protocol.MAX_FRAME_BYTES,
                           open_timeout=10, ping_interval=5, ping_timeout=10, close_timeout=5, **tls) as ws:
            await ws.send(protocol.frame("hello", version=__version__, host=socket.gethostname(),
                                         outboxId=self.outbox.outbox_id, outboxDepth=self.outbox.depth,
                                         dropped=self.outbox.dropped))
            first = protocol.parse(await asyncio.wait_for(ws.recv(), HELLO_TIMEOUT))
            if first["type"] != "config":
                raise protocol.ProtocolError(f"expected 'config' first, got {first['type']!r}")
            await self._on_config(first)
            log.info("connected to %s; outbox holds %d uplinks", self.url, self.outbox.depth)
            self.connected.set()
            loop = asyncio.get_running_loop()
            tasks = {loop.create_task(self._send_loop(ws)), loop.create_task(self._receive_loop(ws))}
            stopping = loop.create_task(self._stop.wait())
            try:
                done, _ = await asyncio.wait({*tasks, stopping}, return_when=asyncio.FIRST_COMPLETED)
                if stopping in done:
                    await self._goodbye(ws)
                for task in done - {stopping}:
                    task.result()  # raises what ended the connection
            finally:
                for task in (*tasks, stopping):
                    task.cancel()
                await asyncio.gather(*tasks, stopping, return_exceptions=True)
                if self._ack is not None and not self._ack.done():
                    self._ack.cancel()

    async def _receive_loop(self, ws) -> None:
        async for text in ws:
            try:
                data = protocol.parse(text)
            except protocol.ProtocolError as exc:
                log.warning("ignoring a frame from the server: %s", exc)
                continue
            await self._dispatch(ws, data)

    async def _goodbye(self, ws, drain_seconds: float = 5.0) -> None:
        """Stopping: stop the listener (it hands on what it holds), send what the server can take
        within ``drain_seconds`` (the rest stays in the outbox), then close cleanly."""
        await self.host.stop()
        deadline = asyncio.get_running_loop().time() + drain_seconds
        while (self.frames or self.outbox.depth) and asyncio.get_running_loop().time() < deadline:
            await asyncio.sleep(0.05)
        await ws.close()

    async def _on_config(self, data: dict) -> None:
        config = data.get("integration")
        if not isinstance(config, dict):
            raise protocol.ProtocolError("'config' without 'integration'")
        acked = data.get("ackedSeq")
        if isinstance(acked, int) and acked > 0:
            await self._io(self.outbox.ack, acked)  # the server already holds these
        await self._io(self.outbox.remember_config, config)
        self.replies.configure(config)
        log.info("configuration received from the server: %s (%s), version %s", config.get("name"),
                 config.get("type"), config.get("version"))
        await self.host.apply(config)

    async def _dispatch(self, ws, data: dict) -> None:
        kind = data["type"]
        answers_batch = kind in ("ack", "nack") or (kind == "error" and "seq" in data)
        if answers_batch and self._ack is not None and not self._ack.done():
            self._ack.set_result(data)
        elif kind == "config":
            await self._on_config(data)
        elif kind == "replies":
            self.replies.offer(data)
        elif kind == "downlink":
            task = asyncio.get_running_loop().create_task(self._downlink(ws, data))
            self._downlinks.add(task)
            task.add_done_callback(self._downlinks.discard)
        elif kind == "error":
            log.warning("the server reports: %s", data.get("message"))
        elif kind not in ("ack", "nack", "error"):
            log.warning("ignoring a frame of unknown type %r", kind)

    async def _downlink(self, ws, data: dict) -> None:
        error, permanent = None, False
        try:
            await self.host.downlink(protocol.decode_downlink(str(self.host.integration.pk), data))
        except Exception as exc:
            error = getattr(exc, "message", None) or str(exc) or type(exc).__name__
            permanent = bool(getattr(exc, "permanent", False))
            log.warning("downlink to %s failed: %s", data.get("deviceName"), error)
        await ws.send(protocol.frame("downlinkResult", id=data.get("id"), error=error, permanent=permanent))

    async def _send_loop(self, ws) -> None:
        while True:
            while self.frames:
                await ws.send(self.frames[0])
                self.frames.popleft()
            if self._status_due:
                self._status_due = False
                await ws.send(protocol.frame("status", outboxDepth=self.outbox.depth, dropped=self.outbox.dropped,
                                             **self.state))
            group = await self._io(self.outbox.next_group, protocol.MAX_BATCH)
            if group is not None:
                await self._send_batch(ws, group)
                continue
            self._kick.clear()
            try:
                await asyncio.wait_for(self._kick.wait(), self.status_every)
            except TimeoutError:
                self._status_due = True

    async def _send_batch(self, ws, group) -> None:
        seq = group.seq
        self._ack = asyncio.get_running_loop().create_future()
        await ws.send(protocol.frame("uplinks", seq=seq, uplinks=group.uplinks))
        try:
            answer = await asyncio.wait_for(self._ack, ACK_TIMEOUT)
        except TimeoutError:
            raise TimeoutError(f"no acknowledgement of batch {seq} within {ACK_TIMEOUT:.0f} s") from None
        if answer.get("seq") != seq:
            raise protocol.ProtocolError(f"acknowledgement of batch {answer.get('seq')}, expected {seq}")
        if answer["type"] == "error":  # not queued on the server (its queue is down): send again soon
            log.warning("the server could not queue batch %s: %s", seq, answer.get("message"))
            await asyncio.sleep(self.reconnect)
            return
        if answer["type"] == "nack":
            log.error("the server refused batch %s (%d uplinks) for good: %s", seq, group.count, answer.get("error"))
            await self._io(self.outbox.discard, seq, group.count)
        else:
            await self._io(self.outbox.ack, seq)
        self._status_due = True
