"""A mocked cloud: the HTTP APIs of OpenAI (chat completions; also Azure OpenAI, Mistral AI and GitHub Models),
Anthropic (Messages), Gemini (generateContent, and Vertex AI with its token endpoint), Amazon Bedrock (Converse)
and Ollama (/api/chat), on 127.0.0.1, as far as these tests need them. Each checks the credential its real
counterpart checks and answers in its wire format; what it received is kept in ``seen``.

The last user message steers it: ``big`` answers more than the tests' size cap, ``flaky`` fails with a 503 on
every second call, ``hang`` answers only when the server stops (a timeout), ``drip`` sends its answer one byte
every 0.1 s (each read is quick, the whole is slow), ``json`` answers a JSON object.
"""

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["FakeCloud", "KEYS"]

KEYS = {"openai": "sk-openai-mocked", "anthropic": "sk-ant-mocked", "gemini": "gemini-key-mocked",
        "azure": "azure-key-mocked", "mistral": "mistral-key-mocked", "github": "ghp_mocked",
        "ollama": "ollama-token-mocked", "vertex": "ya29.vertex-token-mocked"}


DRIP = object()  # the answer of ``drip``


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _drip(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "30")
        self.end_headers()
        self.wfile.flush()
        try:
            for _ in range(30):
                if self.server.cloud.release.wait(0.1):
                    return
                self.wfile.write(b" ")
                self.wfile.flush()
        except OSError:
            return

    def _send(self, status: int, payload) -> None:
        if payload is DRIP:
            return self._drip()
        body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        cloud: FakeCloud = self.server.cloud
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw)
        except ValueError:
            body = raw.decode()
        cloud.seen.append({"path": self.path, "headers": dict(self.headers), "body": body})
        route = next(((name, handler) for pattern, name, handler in cloud.routes if re.fullmatch(pattern, self.path)),
                     None)
        if route is None:
            return self._send(404, {"error": {"message": f"no route {self.path}"}})
        name, handler = route
        status, answer = handler(self, body)
        self._send(status, answer)


def _last_user(messages) -> str:
    for message in reversed(messages or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return "".join(p.get("text", "") for p in content)
            parts = message.get("parts")
            return "".join(p.get("text", "") for p in parts) if parts else str(content)
    return ""


class FakeCloud:
    """The mocked cloud's server; ``url(prefix)`` is the base of one provider (``/openai/v1``, ...)."""

    def __init__(self):
        self.seen: list[dict] = []
        self.release = threading.Event()
        self._flaky = 0
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.cloud = self
        self.routes = [
            (r"/openai/v1/chat/completions", "openai", self._completions("openai", "Authorization", "Bearer ")),
            (r"/mistral/v1/chat/completions", "mistral", self._completions("mistral", "Authorization", "Bearer ")),
            (r"/github/chat/completions", "github", self._completions("github", "Authorization", "Bearer ")),
            (r"/azure/openai/deployments/[^/]+/chat/completions\?api-version=[\w-]+", "azure",
             self._completions("azure", "api-key", "")),
            (r"/anthropic/v1/messages", "anthropic", self._anthropic),
            (r"/gemini/v1beta/models/[^/:]+:generateContent", "gemini", self._gemini("x-goog-api-key", KEYS["gemini"])),
            (r"/vertex/token", "vertex-token", self._vertex_token),
            (r"/vertex/v1/projects/[\w-]+/locations/[\w-]+/publishers/google/models/[^/:]+:generateContent",
             "vertex", self._gemini("Authorization", f"Bearer {KEYS['vertex']}")),
            (r"/bedrock/model/[^/]+/converse", "bedrock", self._bedrock),
            (r"/ollama/api/chat", "ollama", self._ollama),
        ]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, prefix: str = "") -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}{prefix}"

    def close(self) -> None:
        self.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def _steer(self, text: str, answer):
        """(status, answer) for a steering word, else None."""
        if text == "big":
            return 200, {"filler": "x" * 10_000}
        if text == "hang":
            self.release.wait(30)
            return 200, {}
        if text == "drip":
            return 200, DRIP
        if text == "flaky":
            self._flaky += 1
            if self._flaky % 2:
                return 503, {"error": {"message": "overloaded"}}
        return None

    def _reply(self, text: str, body) -> str:
        wants_json = bool(body.get("response_format") or body.get("format")
                          or (body.get("generationConfig") or {}).get("responseMimeType"))
        return json.dumps({"answer": 42, "asked": text}) if wants_json or text == "json" else f"echo: {text}"

    def _completions(self, name: str, header: str, prefix: str):
        def handle(request, body):
            if request.headers.get(header) != f"{prefix}{KEYS[name]}":
                return 401, {"error": {"message": f"Incorrect API key provided: {request.headers.get(header)}"}}
            text = _last_user(body.get("messages"))
            return self._steer(text, body) or (200, {"choices": [{"index": 0, "message": {
                "role": "assistant", "content": self._reply(text, body)}, "finish_reason": "stop"}]})
        return handle

    def _anthropic(self, request, body):
        if request.headers.get("x-api-key") != KEYS["anthropic"] or not request.headers.get("anthropic-version"):
            return 401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}
        if not body.get("max_tokens"):
            return 400, {"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: required"}}
        text = _last_user(body.get("messages"))
        return self._steer(text, body) or (200, {"type": "message", "role": "assistant", "stop_reason": "end_turn",
                                                 "content": [{"type": "text", "text": self._reply(text, body)}]})

    def _gemini(self, header: str, expected: str):
        def handle(request, body):
            if request.headers.get(header) != expected:
                return 403, {"error": {"code": 403, "message": "API key not valid", "status": "PERMISSION_DENIED"}}
            text = _last_user(body.get("contents"))
            return self._steer(text, body) or (200, {"candidates": [{"content": {
                "role": "model", "parts": [{"text": self._reply(text, body)}]}, "finishReason": "STOP"}]})
        return handle

    def _vertex_token(self, request, body):
        if "grant_type=urn" not in str(body) or "assertion=" not in str(body):
            return 400, {"error": "invalid_grant"}
        return 200, {"access_token": KEYS["vertex"], "expires_in": 3599, "token_type": "Bearer"}

    def _bedrock(self, request, body):
        if not str(request.headers.get("Authorization", "")).startswith("AWS4-HMAC-SHA256 Credential=AKIAMOCKED/"):
            return 403, {"message": "The security token included in the request is invalid."}
        text = _last_user(body.get("messages"))
        return self._steer(text, body) or (200, {"output": {"message": {"role": "assistant", "content": [
            {"text": self._reply(text, body)}]}}, "stopReason": "end_turn"})

    def _ollama(self, request, body):
        if request.headers.get("Authorization") != f"Bearer {KEYS['ollama']}":
            return 401, {"error": "unauthorized"}
        text = _last_user(body.get("messages"))
        return self._steer(text, body) or (200, {"model": body.get("model"), "done": True, "message": {
            "role": "assistant", "content": self._reply(text, body)}})
