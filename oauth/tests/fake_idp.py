"""A mocked cloud identity provider for the OAuth 2.0 tests: a real local HTTP server (Google, GitHub or Azure
cannot run here) with an authorization-code token endpoint that checks the client's credentials (HTTP Basic
or form fields), the code, the redirect URI and the PKCE verifier; a user-info endpoint that checks the
bearer token; and a custom mapper endpoint that answers ThingsBoard's OAuth2User JSON."""

import base64
import hashlib
import json
import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote

__all__ = ["FakeIdp"]


@dataclass
class FakeIdp:
    client_id: str = "tb-client"
    client_secret: str = "tb-secret-value"
    user: dict = field(default_factory=dict)
    mapper_answer: dict = field(default_factory=dict)
    codes: dict = field(default_factory=dict)  # code -> (redirect_uri, code_challenge)
    tokens: set = field(default_factory=set)
    requests: list = field(default_factory=list)

    def start(self) -> "FakeIdp":
        idp = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, status: int, body: dict):
                raw = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0)).decode()
                idp.requests.append((self.path, dict(self.headers), raw))
                if self.path == "/token":
                    return self._send(*idp.token(dict(self.headers), {k: v[0] for k, v in parse_qs(raw).items()}))
                if self.path == "/mapper":
                    return self._send(200, idp.mapper_answer)
                self._send(404, {})

            def do_GET(self):
                idp.requests.append((self.path, dict(self.headers), ""))
                token = (self.headers.get("Authorization") or "").removeprefix("Bearer ")
                if self.path == "/userinfo" and token in idp.tokens:
                    return self._send(200, idp.user)
                self._send(401, {"error": "invalid_token"})

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def issue_code(self, redirect_uri: str, code_challenge: str | None) -> str:
        """What the provider's login page does once the user signed in: a code for this redirect URI."""
        code = secrets.token_urlsafe(16)
        self.codes[code] = (redirect_uri, code_challenge)
        return code

    def token(self, headers: dict, form: dict) -> tuple[int, dict]:
        basic = headers.get("Authorization", "")
        if basic.startswith("Basic "):
            cid, _, secret = base64.b64decode(basic[6:]).decode().partition(":")
            cid, secret = unquote(cid), unquote(secret)
        else:
            cid, secret = form.get("client_id"), form.get("client_secret")
        if (cid, secret) != (self.client_id, self.client_secret):
            return 401, {"error": "invalid_client", "error_description": "Client authentication failed"}
        stored = self.codes.pop(form.get("code"), None)
        if stored is None or form.get("grant_type") != "authorization_code" or stored[0] != form.get("redirect_uri"):
            return 400, {"error": "invalid_grant", "error_description": "Invalid authorization code"}
        verifier = form.get("code_verifier") or ""
        challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
        if stored[1] is not None and challenge != stored[1]:  # None: the authorization request had no PKCE
            return 400, {"error": "invalid_grant", "error_description": "PKCE verification failed"}
        token = secrets.token_urlsafe(16)
        self.tokens.add(token)
        return 200, {"access_token": token, "token_type": "Bearer", "expires_in": 3600,
                     "refresh_token": "refresh-" + token}
