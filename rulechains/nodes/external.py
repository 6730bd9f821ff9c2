"""The REST API call node: a request to an external URL per message."""

import base64
import json
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from rulechains.messages import FAILURE, SUCCESS, changed
from rulechains.nodes.base import BaseNode, ConfigError, Out, field, substitute

__all__ = ["RestApiCallNode"]

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
BODY_METHODS = ("POST", "PUT", "PATCH", "DELETE")
DEFAULT_TIMEOUT_MS = 10_000
MAX_PARALLEL = 8
MAX_RESPONSE_BYTES = 4 * 1024 * 1024


class RestApiCallNode(BaseNode):
    """Sends the message data as JSON to ``restEndpointUrlPattern`` with ``requestMethod`` and
    ``headers`` (all three may use ``${metadataKey}`` / ``$[dataKey]``), ``credentials`` anonymous
    or basic. A 2xx answer goes by Success with the response body as the data and ``status``,
    ``statusCode``, ``statusReason`` and the response headers in the metadata; anything else by
    Failure with those and ``error_body`` (or ``error`` when no answer came).
    ``readTimeoutMs`` 0 means DEFAULT_TIMEOUT_MS (never unbounded); a batch runs at most
    ``maxParallelRequestsCount`` (default and cap MAX_PARALLEL) requests at once, in threads."""

    savepoint = False

    label = "REST API call"
    group = "EXTERNAL"
    side_effects = True
    defaults = {"restEndpointUrlPattern": "http://localhost/api", "requestMethod": "POST", "ignoreRequestBody": False,
                "readTimeoutMs": 0, "maxParallelRequestsCount": 0, "headers": {"Content-Type": "application/json"},
                "credentials": {"type": "anonymous"}}
    fields = (field("restEndpointUrlPattern", "text", "Endpoint URL pattern"),
              field("requestMethod", "select", "Method", choices=METHODS), field("headers", "json", "Headers"),
              field("readTimeoutMs", "number", "Read timeout (ms)"), field("credentials", "json", "Credentials"))
    secret_fields = ("credentials.password", "credentials.privateKey", "credentials.privateKeyPassword",
                     "proxyPassword")
    secret_slots = ("headers.*", "credentials.username")

    @classmethod
    def clean_config(cls, configuration):
        url = configuration.get("restEndpointUrlPattern")
        if not isinstance(url, str) or not url.strip():
            raise ConfigError("restEndpointUrlPattern must be a URL")
        method = str(configuration.get("requestMethod") or "POST").upper()
        if method not in METHODS:
            raise ConfigError(f"requestMethod must be one of {', '.join(METHODS)}")
        headers = configuration.get("headers") or {}
        if not isinstance(headers, dict):
            raise ConfigError("headers must be an object of name -> value")
        credentials = configuration.get("credentials") or {"type": "anonymous"}
        if not isinstance(credentials, dict) or str(credentials.get("type", "anonymous")).lower() not in (
                "anonymous", "basic"):
            raise ConfigError("credentials.type must be anonymous or basic")
        timeout = configuration.get("readTimeoutMs") or 0
        parallel = configuration.get("maxParallelRequestsCount") or 0
        if not isinstance(timeout, int) or timeout < 0 or not isinstance(parallel, int) or parallel < 0:
            raise ConfigError("readTimeoutMs and maxParallelRequestsCount must be non-negative integers")
        return {**configuration, "restEndpointUrlPattern": url.strip(), "requestMethod": method,
                "headers": {str(k): str(v) for k, v in headers.items()}, "credentials": credentials,
                "timeout": (timeout or DEFAULT_TIMEOUT_MS) / 1000, "parallel": min(parallel or MAX_PARALLEL,
                                                                                   MAX_PARALLEL)}

    def process_batch(self, ctx, msgs):
        if len(msgs) == 1:
            return [self.call(msgs[0])]
        with ThreadPoolExecutor(max_workers=min(self.config["parallel"], len(msgs))) as pool:
            return list(pool.map(self.call, msgs))

    def request(self, msg) -> urllib.request.Request:
        config = self.config
        url = substitute(config["restEndpointUrlPattern"], msg)
        if not url.lower().startswith(("http://", "https://")):
            raise ValueError(f"Transport scheme (protocol) must be http or https: {url[:200]}")
        headers = {substitute(k, msg): substitute(v, msg) for k, v in config["headers"].items()}
        credentials = config["credentials"]
        if str(credentials.get("type", "")).lower() == "basic":
            token = f"{credentials.get('username', '')}:{credentials.get('password', '')}".encode()
            headers["Authorization"] = "Basic " + base64.b64encode(token).decode()
        body = None
        if config["requestMethod"] in BODY_METHODS and not config.get("ignoreRequestBody"):
            plain = config.get("parseToPlainText") and isinstance(msg.data, str)
            body = (msg.data if plain else json.dumps(msg.data)).encode()
            headers.setdefault("Content-Type", "text/plain" if plain else "application/json")
        return urllib.request.Request(url, data=body, headers=headers, method=config["requestMethod"])

    def call(self, msg) -> list[Out]:
        try:
            request = self.request(msg)
            with urllib.request.urlopen(request, timeout=self.config["timeout"]) as response:
                return [self.answered(msg, SUCCESS, response.status, response.reason, response.headers,
                                      response.read(MAX_RESPONSE_BYTES))]
        except urllib.error.HTTPError as e:
            out = self.answered(msg, FAILURE, e.code, e.reason, e.headers, e.read(MAX_RESPONSE_BYTES))
            return [out._replace(error=f"HTTP {e.code} {e.reason}")]
        except Exception as e:  # refused, timed out, bad URL: the message fails with the reason
            error = f"{type(e).__name__}: {e}"[:1024]
            return [Out(FAILURE, changed(msg, metadata={**msg.metadata, "error": error}), error)]

    def answered(self, msg, relation: str, code: int, reason, headers, body: bytes) -> Out:
        metadata = {**msg.metadata, "status": str(reason or "").upper().replace(" ", "_"), "statusCode": str(code),
                    "statusReason": str(reason or "")}
        metadata.update({k: v for k, v in (headers or {}).items()})
        text = body.decode("utf-8", "replace")
        if relation != SUCCESS:
            return Out(relation, changed(msg, metadata={**metadata, "error_body": text}))
        try:
            data = json.loads(text) if text.strip() else {}
        except ValueError:
            data = text
        return Out(SUCCESS, changed(msg, data=data, metadata=metadata))
