"""What the AWS listeners (SQS, Kinesis) share: building an aiobotocore client from a type's
configuration, and turning what botocore raises into one clear sentence that says whether
retrying can help.

- Clients retry at most once themselves (botocore "standard" mode): the listeners have their
  own back-off, and a check must answer within seconds.
- Refused credentials (``InvalidClientTokenId``, ``SignatureDoesNotMatch``, ``AccessDenied``,
  ...) and a queue or stream that does not exist are permanent; an unreachable endpoint,
  timeouts, throttling and 5xx are not.
"""

import asyncio
import logging
import re

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

from integrations.listeners.attempts import Backoff
from integrations.listeners.reconnecting import ReconnectingListener
from integrations.types.base import IntegrationError

__all__ = ["AwsListener", "client", "describe", "error_code", "AUTH_CODES", "MISSING_CODES", "BACKOFF_MIN",
           "BACKOFF_MAX", "PROBE_TIMEOUT"]

log = logging.getLogger(__name__)

BACKOFF_MIN, BACKOFF_MAX = 1.0, 30.0
PROBE_TIMEOUT = 8.0
AUTH_CODES = frozenset({
    "InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException", "InvalidSignatureException",
    "AccessDenied", "AccessDeniedException", "IncompleteSignature", "MissingAuthenticationToken",
    "ExpiredToken", "ExpiredTokenException", "InvalidAccessKeyId", "AuthFailure", "KMSAccessDeniedException"})
MISSING_CODES = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist",
                           "ResourceNotFoundException"})
THROTTLED = frozenset({"ThrottlingException", "ProvisionedThroughputExceededException", "LimitExceededException",
                       "RequestThrottled"})
_XML_FIELD = re.compile(r"<(Code|Message)>([^<]*)</\1>")
_session = None


def client(service: str, access, *, read_timeout: float):
    """An aiobotocore client context (``async with``) for ``service`` with an AwsAccess config."""
    global _session
    if _session is None:
        _session = get_session()
    keys = {}
    if access.needs_keys():
        keys = {"aws_access_key_id": access.accessKeyId, "aws_secret_access_key": access.secretAccessKey}
    config = AioConfig(connect_timeout=5, read_timeout=read_timeout, retries={"max_attempts": 2, "mode": "standard"},
                       max_pool_connections=20)
    return _session.create_client(service, region_name=access.region, endpoint_url=access.endpointUrl or None,
                                  config=config, **keys)


def error_code(exc: BaseException) -> str:
    if not isinstance(exc, ClientError):
        return ""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    if code.isdigit():  # a query-protocol error read as JSON: the real code is in the XML body
        code = dict(_XML_FIELD.findall(str(error.get("Message", "")))).get("Code", code)
    return code


def _message(exc: ClientError) -> str:
    text = str(exc.response.get("Error", {}).get("Message", ""))
    if text.lstrip().startswith("<"):
        text = dict(_XML_FIELD.findall(text)).get("Message", text)
    return text.strip()


def describe(what: str, exc: BaseException) -> tuple[str, bool]:
    """(``"<what>: <reason>"``, permanent) for an exception raised by a client call."""
    if isinstance(exc, ClientError):
        code, text = error_code(exc), _message(exc)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if code in AUTH_CODES:
            return (f"{what}: AWS refused the credentials ({code}: {text}); check accessKeyId, secretAccessKey "
                    "and the key's permissions", True)
        if code in MISSING_CODES:
            return f"{what}: {text or code}", True
        permanent = 400 <= status < 500 and code not in THROTTLED
        return f"{what}: {code}: {text}" if text else f"{what}: {code}", permanent
    if isinstance(exc, NoCredentialsError):
        return f"{what}: no AWS credentials (set accessKeyId and secretAccessKey)", True
    if isinstance(exc, EndpointConnectionError):
        return f"{what}: cannot reach {exc.kwargs.get('endpoint_url', 'the endpoint')}", False
    if isinstance(exc, (TimeoutError, asyncio.TimeoutError)):
        return f"{what}: timed out", False
    if isinstance(exc, BotoCoreError):
        return f"{what}: {exc}", False
    return f"{what}: {getattr(exc, 'message', None) or str(exc) or type(exc).__name__}", False


class AwsListener(ReconnectingListener):
    """Base of the AWS pollers (SQS, Kinesis): the connection check before starting and the
    reconnect loop over an aiobotocore client.

    A subclass sets ``service`` and ``verb`` ("poll", "read"), and implements ``what()`` (the
    queue or stream, for messages), ``probe(config)`` (the connection check), ``connect(client)``
    (first calls of a new connection), ``consume(client)`` (runs until stopping) and ``drain()``
    (waits for what was queued to be deleted or checkpointed).

    ``start()`` checks the connection first: a permanent failure (refused credentials, no such
    queue or stream) raises, so that the host records a FAILED lifecycle event; a transient one
    is left to the loop, which retries with back-off and jitter and reports in the status.
    """

    service, verb = "", "poll"

    def __init__(self, config, cc, sink, *, metadata: dict[str, str], integration_id: str, read_timeout: float):
        super().__init__(config, sink, metadata=metadata, integration_id=integration_id)
        self.name = self.service
        self.cc = cc
        self.read_timeout = read_timeout
        self._client = None

    def what(self) -> str:
        raise NotImplementedError

    async def probe(self, config) -> None:
        raise NotImplementedError

    async def connect(self, aws) -> None:
        """First calls on a new connection (they raise when it does not work)."""

    async def consume(self, aws) -> None:
        raise NotImplementedError

    async def drain(self) -> None:
        """Wait (briefly) until what was queued is deleted or checkpointed."""

    async def start(self) -> None:
        try:
            await asyncio.wait_for(self.probe(self.config), PROBE_TIMEOUT)
        except IntegrationError as exc:
            if exc.permanent:
                raise
        except TimeoutError:
            pass  # unreachable for now: the loop retries and reports
        await super().start()

    async def _wind_down(self, task: asyncio.Task) -> None:
        await self.drain()

    async def _run(self, first) -> None:
        backoff = Backoff(BACKOFF_MIN, BACKOFF_MAX)
        while not self._stopping:
            try:
                async with client(self.service, self.cc, read_timeout=self.read_timeout) as aws:
                    await self.connect(aws)
                    self._client = aws
                    self._up()
                    backoff.reset()
                    await self.consume(aws)
                return
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                message, permanent = describe(f"Failed to {self.verb} {self.what()}", exc)
                await self._retry(backoff, message, permanent)
            finally:
                self._client = None
                self.connected.clear()

    def connection(self):
        """The open client, for a downlink; IntegrationError when not connected."""
        if self._client is None or not self.connected.is_set():
            raise IntegrationError(f"{self.what()} is not connected")
        return self._client
