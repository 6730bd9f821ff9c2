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
import re

from aiobotocore.config import AioConfig
from aiobotocore.session import get_session
from botocore.exceptions import BotoCoreError, ClientError, EndpointConnectionError, NoCredentialsError

__all__ = ["client", "describe", "error_code", "AUTH_CODES", "MISSING_CODES", "BACKOFF_MIN", "BACKOFF_MAX",
           "PROBE_TIMEOUT"]

BACKOFF_MIN, BACKOFF_MAX = 1.0, 30.0
PROBE_TIMEOUT = 8.0
AUTH_CODES = frozenset({
    "InvalidClientTokenId", "SignatureDoesNotMatch", "UnrecognizedClientException", "InvalidSignatureException",
    "AccessDenied", "AccessDeniedException", "IncompleteSignature", "MissingAuthenticationToken",
    "ExpiredToken", "ExpiredTokenException", "InvalidAccessKeyId", "AuthFailure", "KMSAccessDeniedException"})
MISSING_CODES = frozenset({"AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist",
                           "ResourceNotFoundException"})
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
        permanent = 400 <= status < 500 and code not in ("ThrottlingException", "ProvisionedThroughputExceededException",
                                                         "LimitExceededException", "RequestThrottled")
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
