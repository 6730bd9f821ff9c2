"""Mocked cloud: Tuya's OpenAPI and message service, which cannot run here.

- ``FakeOpenApi``: a real HTTP server on 127.0.0.1 (free port) answering the token and device
  command requests as Tuya documents them, checking each request's signature with its own
  implementation of Tuya's signing rules, so that a wrongly signed request is refused as Tuya
  refuses it (HTTP 200, ``{"success": false, "code": 1004, "msg": "sign invalid"}``).
- ``FakeMessageService``: the message topic at the adapter boundary
  (integrations/listeners/tuya.py ``SOURCES["pulsar"]``), with Pulsar's delivery rules: a message
  stays until acknowledged, a negatively acknowledged or unacknowledged one comes again, and a
  dropped connection fails the reader. Messages are encrypted here as Tuya encrypts them.
"""

import asyncio
import base64
import hashlib
import hmac
import json
import os
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from integrations.listeners.sources import Received

__all__ = ["FakeOpenApi", "FakeMessageService", "encrypt", "envelope"]


def encrypt(plain: bytes, secret: str, em: str = "aes_gcm") -> str:
    key = secret[8:24].encode()
    if em == "aes_gcm":
        nonce = os.urandom(12)
        return base64.b64encode(nonce + AESGCM(key).encrypt(nonce, plain, None)).decode()
    padder = padding.PKCS7(128).padder()
    encryptor = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return base64.b64encode(encryptor.update(padder.update(plain) + padder.finalize()) + encryptor.finalize()).decode()


def envelope(data: dict, secret: str, *, em: str = "aes_gcm", protocol: int = 4, t: int = 1764960000000) -> bytes:
    """One message as the service carries it: the encrypted data inside Tuya's JSON envelope."""
    body = json.dumps(data).encode()
    return json.dumps({"data": encrypt(body, secret, em), "protocol": protocol, "pv": "2.0",
                       "sign": hashlib.md5(body).hexdigest(), "t": t}).encode()


class FakeOpenApi:
    def __init__(self, access_id: str, secret: str):
        self.access_id, self.secret = access_id, secret
        self.token = uuid.uuid4().hex
        self.commands: list[tuple[str, dict]] = []
        self.devices = {"vdevo1234567890"}
        self.requests = 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                fake._answer(self, b"")

            def do_POST(self):
                fake._answer(self, self.rfile.read(int(self.headers.get("Content-Length") or 0)))

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _expected_sign(self, method: str, path: str, body: bytes, headers, token: str) -> str:
        content = hashlib.sha256(body).hexdigest()
        text = (self.access_id + token + headers.get("t", "") + headers.get("nonce", "") +
                f"{method}\n{content}\n\n{path}")
        return hmac.new(self.secret.encode(), text.encode(), hashlib.sha256).hexdigest().upper()

    def _answer(self, handler, body: bytes) -> None:
        self.requests += 1
        method, path, headers = handler.command, handler.path, handler.headers
        if headers.get("client_id") != self.access_id:
            return _reply(handler, {"success": False, "code": 1005, "msg": "clientId invalid"})
        token = "" if path.startswith("/v1.0/token") else self.token
        if headers.get("sign_method") != "HMAC-SHA256" or headers.get("sign") != self._expected_sign(
                method, path, body, headers, token):
            return _reply(handler, {"success": False, "code": 1004, "msg": "sign invalid"})
        if path == "/v1.0/token?grant_type=1" and method == "GET":
            return _reply(handler, {"success": True, "result": {"access_token": self.token, "expire_time": 7200,
                                                                "refresh_token": "r", "uid": "u1"}})
        if headers.get("access_token") != self.token:
            return _reply(handler, {"success": False, "code": 1010, "msg": "token invalid"})
        prefix, suffix = "/v1.0/iot-03/devices/", "/commands"
        if method == "POST" and path.startswith(prefix) and path.endswith(suffix):
            device = path[len(prefix):-len(suffix)]
            if device not in self.devices:
                return _reply(handler, {"success": False, "code": 2001, "msg": "device is offline"})
            self.commands.append((device, json.loads(body)))
            return _reply(handler, {"success": True, "result": True})
        _reply(handler, {"success": False, "code": 1108, "msg": "uri path invalid"}, status=404)


def _reply(handler, answer: dict, status: int = 200) -> None:
    data = json.dumps({**answer, "t": 1764960000000}).encode()
    handler.send_response(status)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    handler.wfile.write(data)


class FakeMessageService:
    """The topic ``{accessId}/out/event`` and its subscription, in memory."""

    def __init__(self):
        self.pending: list[tuple[str, bytes, dict]] = []  # (message id, payload, properties)
        self.unacked: dict[str, tuple[str, bytes, dict]] = {}
        self.acked: list[str] = []
        self.drop_after: int | None = None
        self.readers = 0

    def publish(self, payload: bytes, em: str = "aes_gcm") -> str:
        message_id = f"{len(self.pending) + len(self.acked) + len(self.unacked)}:0:-1:0"
        self.pending.append((message_id, payload, {"em": em}))
        return message_id

    def source_factory(self):
        service = self

        class Source:
            what = "Tuya message service (mocked cloud)"

            def __init__(self, cc):
                self.cc, self.closed, self.held = cc, False, []

            async def check(self) -> None:
                pass

            async def run(self, handle, connected) -> None:
                service.readers += 1
                connected()
                batches = 0
                while not self.closed:
                    if not service.pending:
                        await asyncio.sleep(0.02)
                        continue
                    if service.drop_after is not None and batches >= service.drop_after:
                        service.drop_after = None
                        self._give_back()
                        raise ConnectionError("the broker closed the connection")
                    self.held, service.pending = service.pending[:50], service.pending[50:]
                    for item in self.held:
                        service.unacked[item[0]] = item
                    ok = await handle([Received(p, {**props, "messageId": mid}) for mid, p, props in self.held])
                    batches += 1
                    if ok:
                        for mid, _, _ in self.held:
                            service.acked.append(mid)
                            service.unacked.pop(mid)
                        self.held = []
                    else:
                        self._give_back()
                        return

            def _give_back(self) -> None:  # negative acknowledgement or a lost consumer: redelivered
                service.pending[:0] = [service.unacked.pop(mid) for mid, _, _ in self.held if mid in service.unacked]
                self.held = []

            async def close(self) -> None:
                self.closed = True
                self._give_back()

        return Source
