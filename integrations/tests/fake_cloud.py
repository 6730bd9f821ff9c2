"""A mocked third-party cloud for the HTTP-family downlink tests: a small local HTTP server.

ChirpStack, ThingPark, LORIOT ... cannot run here, so each test starts this server on a free port,
points the integration at it, scripts its answers and asserts the exact requests it received
(method, path, query, headers, body) against what the cloud's documentation specifies.

    with FakeCloud() as cloud:
        cloud.answer(500, b'{"message": "busy"}')      # the next request gets this; default 200 {}
        ... deliver ...
        [req] = cloud.requests; assert req.path == "/api/devices/.../queue"
"""

import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["FakeCloud", "Request"]


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    raw_query: str
    headers: dict[str, str]
    body: bytes = b""
    extra: dict = field(default_factory=dict)

    def json(self):
        return json.loads(self.body)


class FakeCloud:
    def __init__(self):
        self.requests: list[Request] = []
        self._answers: list[tuple[int, bytes]] = []
        self._lock = threading.Lock()
        cloud = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self):
                path, _, raw_query = self.path.partition("?")
                length = int(self.headers.get("content-length") or 0)
                body = self.rfile.read(length) if length else b""
                query = {k: v[0] for k, v in urllib.parse.parse_qs(raw_query, keep_blank_values=True).items()}
                with cloud._lock:
                    cloud.requests.append(Request(self.command, path, query, raw_query,
                                                  {k.lower(): v for k, v in self.headers.items()}, body))
                    status, reply = cloud._answers.pop(0) if cloud._answers else (200, b"{}")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

            do_GET = do_POST = do_PUT = _serve

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def answer(self, status: int, body: bytes = b"{}") -> "FakeCloud":
        with self._lock:
            self._answers.append((status, body))
        return self

    def __enter__(self) -> "FakeCloud":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)
