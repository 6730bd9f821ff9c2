"""The steady stream of uniquely numbered uplinks, and what became of each one.

    stream = Stream(stack).start()    # HTTP POSTs and MQTT QoS 1 publishes, paced, in a thread
    ...                               # break something
    stream.stop()
    watcher = Watcher(stack, stream)  # polls the database: which numbers are stored, dead-lettered

Every message is ``{"seq": n, "src": "http"|"mqtt", "ts": base_ts + n}``: the fault decoder
stores it as telemetry ``seq`` at that ts, so the rows of ts_kv say which numbers arrived, each
at most once whatever was redelivered (the writes are idempotent). A message is accepted when
the web process answered 2xx (HTTP) or Mosquitto sent its PUBACK (MQTT QoS 1).
"""

import asyncio
import json
import threading
import time
import uuid
from dataclasses import dataclass, field

from bench.loadgen import read_status, request_bytes

__all__ = ["Record", "Stream", "Watcher", "RATE"]

#: messages per second of each transport
RATE = 100
HTTP_CONNECTIONS = 4
REQUEST_TIMEOUT = 10.0
MQTT_WINDOW = 20


@dataclass(slots=True)
class Record:
    seq: int
    transport: str
    sent: float
    #: the HTTP status, "PUBACK", or the name of the error the sender got
    answer: int | str | None = None
    accepted: bool = False


class _Gate:
    """Lets one message start every 1/RATE s; a sender that stalled does not burst to catch up."""

    def __init__(self, rate: float):
        self.interval, self.due = 1 / rate, time.monotonic()

    async def wait(self) -> None:
        now = time.monotonic()
        self.due = max(self.due + self.interval, now)
        await asyncio.sleep(self.due - now)


@dataclass
class Stream:
    stack: object
    rate: float = RATE
    records: dict[int, Record] = field(default_factory=dict)

    def start(self) -> "Stream":
        self.first_seq = next(self.stack.seq)
        self.started_ms = int(time.time() * 1000)
        self._stopping = False
        self._ready = threading.Event()
        self._thread = threading.Thread(target=lambda: asyncio.run(self._run()), name="fault-stream", daemon=True)
        self._thread.start()
        if not self._ready.wait(15):
            raise AssertionError("the MQTT publisher did not connect to the suite's Mosquitto")
        return self

    def stop(self) -> None:
        self._stopping = True
        self._thread.join(REQUEST_TIMEOUT + 15)
        assert not self._thread.is_alive(), "the senders did not stop"

    def _message(self, transport: str) -> tuple[Record, bytes]:
        seq = next(self.stack.seq)
        record = self.records[seq] = Record(seq, transport, time.monotonic())
        return record, json.dumps({"seq": seq, "src": transport, "ts": self.stack.base_ts + seq}).encode()

    async def _run(self) -> None:
        from integrations.listeners.mqtt import _Client  # the listener's client: it reports each PUBACK

        client = _Client(f"faults-pub-{uuid.uuid4().hex[:8]}")
        await client.connect("127.0.0.1", self.stack.mqtt_port, version=4)
        self._ready.set()
        gate = _Gate(self.rate)
        await asyncio.gather(self._mqtt(client), *(self._http(gate) for _ in range(HTTP_CONNECTIONS)))
        await client.disconnect()

    async def _http(self, gate: _Gate) -> None:
        reader = writer = None
        while not self._stopping:
            await gate.wait()
            record, body = self._message("http")
            try:
                if writer is None:
                    reader, writer = await asyncio.wait_for(
                        asyncio.open_connection("127.0.0.1", self.stack.web_port), REQUEST_TIMEOUT)
                writer.write(request_bytes(self.stack.http_path, body))
                record.answer = await asyncio.wait_for(read_status(reader), REQUEST_TIMEOUT)
                record.accepted = record.answer in (200, 204)
            except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError) as exc:
                record.answer = type(exc).__name__
                if writer is not None:
                    writer.close()
                reader = writer = None
        if writer is not None:
            writer.close()

    async def _mqtt(self, client) -> None:
        gate, window, waiting = _Gate(self.rate), asyncio.Semaphore(MQTT_WINDOW), set()

        def acked(record: Record, future: asyncio.Future) -> None:
            window.release()
            if not future.cancelled() and future.exception() is None:
                record.answer, record.accepted = "PUBACK", True
            else:
                record.answer = "no PUBACK"

        while not self._stopping:
            await gate.wait()
            await window.acquire()
            record, body = self._message("mqtt")
            future = client.publish_acked(f"{self.stack.topic_prefix}/{record.seq % 4}", body)
            future.add_done_callback(lambda f, r=record: acked(r, f))
            waiting.add(future)
            future.add_done_callback(waiting.discard)
        if waiting:
            await asyncio.wait(waiting, timeout=REQUEST_TIMEOUT)

    def accepted(self, transport: str | None = None) -> list[Record]:
        return [r for r in self.records.values() if r.accepted and transport in (None, r.transport)]


class Watcher:
    """Polls the suite's database for the stream's numbers: when each was first seen stored
    (ts_kv) or dead-lettered, by the test's clock."""

    def __init__(self, stack, stream: Stream, interval: float = 0.25):
        self.stack, self.stream, self.interval = stack, stream, interval
        self.stored: dict[int, float] = {}
        self.dead: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="fault-watcher", daemon=True)

    def start(self) -> "Watcher":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            self.poll()

    def poll(self) -> None:
        now = time.monotonic()
        base, first = self.stack.base_ts, self.stream.first_seq
        for (ts,) in self.stack.rows("SELECT ts FROM ts_kv WHERE ts >= %s", [base + first]):
            self.stored.setdefault(ts - base, now)
        for (payload,) in self.stack.rows("SELECT payload FROM integrations_deadletter WHERE received_ts >= %s",
                                          [self.stream.started_ms]):
            self.dead.setdefault(_seq(bytes(payload)), now)

    def settle(self, timeout: float, cap: float) -> bool:
        """Wait until every accepted message is stored or dead-lettered, as long as the missing ones
        keep arriving: False once none arrived for ``timeout`` s, or after ``cap`` s in all. A worker
        restarted on a loaded machine may face a backlog it needs more than ``timeout`` to drain;
        a stalled one makes no progress."""
        started = time.monotonic()
        fewest, progressed = None, started
        while (now := time.monotonic()) - started < cap:
            missing = len(self.missing())
            if missing == 0:
                return True
            if fewest is None or missing < fewest:
                fewest, progressed = missing, now
            elif now - progressed > timeout:
                return False
            time.sleep(self.interval)
        return False

    def missing(self) -> list[int]:
        return sorted(r.seq for r in self.stream.accepted() if r.seq not in self.stored and r.seq not in self.dead)

    def runs(self) -> dict[int, list[int]]:
        """seq -> when the pipeline ran on it, in ms (DEBUG_INTEGRATION events: one per run)."""
        runs: dict[int, list[int]] = {}
        for message, created in self.stack.rows(
                "SELECT body->>'message', created_time FROM converters_debugevent "
                "WHERE event_type = 'DEBUG_INTEGRATION' AND created_time >= %s", [self.stream.started_ms]):
            seq = _seq(message.encode())
            if seq is not None and seq in self.stream.records:
                runs.setdefault(seq, []).append(created)
        return runs


def _seq(payload: bytes) -> int | None:
    try:
        return int(json.loads(payload)["seq"])
    except (ValueError, KeyError, TypeError):
        return None
