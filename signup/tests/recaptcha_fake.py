"""A mocked cloud: Google's reCAPTCHA siteverify API as a real local HTTP server (Google cannot be reached here).

It answers as https://developers.google.com/recaptcha/docs/verify documents: a form POST of ``secret``,
``response`` and ``remoteip``; JSON ``{"success", "challenge_ts", "hostname", "error-codes"}`` and, for v3,
``score`` and ``action``. Tokens it accepts are registered with ``accept(secret, token, score=, action=)``;
``down = True`` answers 503. Every request's form is kept in ``requests``.
"""

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["FakeRecaptcha"]


class FakeRecaptcha:
    def __init__(self):
        self.requests: list[dict] = []
        self.tokens: dict[tuple[str, str], dict] = {}
        self.down = False
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                fake.requests.append({"path": self.path, "content_type": self.headers.get("Content-Type"), **form})
                if fake.down:
                    self.send_response(503)
                    self.end_headers()
                    return
                extra = fake.tokens.get((form.get("secret"), form.get("response")))
                refused = {"success": False, "error-codes": ["invalid-input-response"]}
                body = refused if extra is None else {"success": True, "challenge_ts": "2026-01-01T00:00:00Z",
                                                      "hostname": "iot.alice.example", **extra}
                data = json.dumps(body).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/recaptcha/api/siteverify"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def accept(self, secret: str, token: str, **extra) -> None:
        self.tokens[(secret, token)] = extra

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
