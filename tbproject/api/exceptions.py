"""Errors in ThingsBoard's shape: {"status", "message", "errorCode", "timestamp"}."""

import logging
import time

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import ProtectedError, RestrictedError
from django.http import Http404, JsonResponse
from django.views.defaults import page_not_found
from rest_framework import exceptions
from rest_framework.response import Response

from tbproject.api.authentication import TokenExpiredError
from tenants.accounts import AccountError

__all__ = [
    "ErrorCode", "ServiceUnavailable", "Conflict", "tb_error", "tb_exception_handler", "protected_message",
    "json_404", "json_500", "NotSupported", "account_refusal",
]

log = logging.getLogger(__name__)


class ErrorCode:
    """ThingsBoard's public ThingsboardErrorCode values."""

    GENERAL = 2
    AUTHENTICATION = 10
    JWT_TOKEN_EXPIRED = 11
    PERMISSION_DENIED = 20
    INVALID_ARGUMENTS = 30
    BAD_REQUEST_PARAMS = 31
    ITEM_NOT_FOUND = 32
    TOO_MANY_REQUESTS = 33
    VERSION_CONFLICT = 35


class ServiceUnavailable(exceptions.APIException):
    """A part of the server needed for this request cannot run now (retryable)."""

    status_code = 503
    default_detail = "Service temporarily unavailable, try again later"
    default_code = "service_unavailable"


class Conflict(exceptions.APIException):
    """The entity changed since the client read it (its ``version`` is older): nothing was saved."""

    status_code = 409
    default_detail = "The entity was already changed by someone else"
    default_code = "version_conflict"


class NotSupported(exceptions.APIException):
    """A ThingsBoard endpoint outside this server's scope: a clear 501, never a 404 that reads
    like a missing entity."""

    status_code = 501
    default_detail = "This ThingsBoard API is not supported by this server"
    default_code = "not_supported"


class ServerError(exceptions.APIException):
    """The server could not do what was asked (an account mail that could not be sent)."""

    status_code = 500
    default_detail = "Internal server error"
    default_code = "server_error"


_ACCOUNT_ERRORS = {400: exceptions.ValidationError, 403: exceptions.PermissionDenied, 404: exceptions.NotFound,
                   409: Conflict, 500: ServerError}


def account_refusal(error: AccountError) -> exceptions.APIException:
    """The API's answer to a refused account or tenant operation (tenants.accounts.AccountError):
    ThingsBoard's error shape with its status (a 429 with errorCode 33 and Retry-After, as the API
    answers every rate limit)."""
    if error.status == 429:
        return exceptions.Throttled(wait=error.retry_after or None, detail=str(error))
    return _ACCOUNT_ERRORS[error.status](str(error))


#: How many referencing objects a "cannot delete" message names before summarising.
_MAX_NAMED_REFERENCES = 5


def protected_message(exc: ProtectedError | RestrictedError) -> str:
    """"Cannot delete: it is used by integration 'A', integration 'B'. ..." for a refused delete."""
    objects = sorted(getattr(exc, "protected_objects", None) or getattr(exc, "restricted_objects", None) or (),
                     key=lambda o: (o._meta.verbose_name, str(o)))
    named = [f"{o._meta.verbose_name} '{o}'" for o in objects[:_MAX_NAMED_REFERENCES]]
    if len(objects) > _MAX_NAMED_REFERENCES:
        named.append(f"and {len(objects) - _MAX_NAMED_REFERENCES} more")
    refs = ", ".join(named) or "other entities"
    return f"Cannot delete: it is used by {refs}. Remove those references first."


def tb_error(status_code: int, message: str, error_code: int) -> dict:
    return {"status": status_code, "message": message, "errorCode": error_code, "timestamp": int(time.time() * 1000)}


def _flatten(detail) -> str:
    if isinstance(detail, dict):
        parts = []
        for field, value in detail.items():
            text = _flatten(value)
            parts.append(text if field == "non_field_errors" else f"{field}: {text}")
        return "; ".join(parts)
    if isinstance(detail, list):
        return " ".join(_flatten(item) for item in detail)
    return str(detail)


_CODES = [
    (TokenExpiredError, ErrorCode.JWT_TOKEN_EXPIRED),
    (exceptions.NotAuthenticated, ErrorCode.AUTHENTICATION),
    (exceptions.AuthenticationFailed, ErrorCode.AUTHENTICATION),
    (exceptions.PermissionDenied, ErrorCode.PERMISSION_DENIED),
    (exceptions.NotFound, ErrorCode.ITEM_NOT_FOUND),
    (exceptions.Throttled, ErrorCode.TOO_MANY_REQUESTS),
    (Conflict, ErrorCode.VERSION_CONFLICT),
    (exceptions.ValidationError, ErrorCode.BAD_REQUEST_PARAMS),
    (exceptions.ParseError, ErrorCode.BAD_REQUEST_PARAMS),
    (exceptions.UnsupportedMediaType, ErrorCode.BAD_REQUEST_PARAMS),
]


def tb_exception_handler(exc, context):
    if isinstance(exc, Http404):
        exc = exceptions.NotFound(str(exc) or "Requested item wasn't found!")
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(exc.messages)
    elif isinstance(exc, ProtectedError | RestrictedError):
        exc = exceptions.ValidationError(protected_message(exc))
    elif isinstance(exc, AccountError):
        exc = account_refusal(exc)
    elif isinstance(exc, RequestDataTooBig):
        return Response(tb_error(413, "Request body is too large", ErrorCode.BAD_REQUEST_PARAMS), status=413)
    if not isinstance(exc, exceptions.APIException):
        log.exception("unhandled API error")
        return Response(tb_error(500, "Internal server error", ErrorCode.GENERAL), status=500)
    code = next((c for cls, c in _CODES if isinstance(exc, cls)), ErrorCode.GENERAL)
    if isinstance(exc, exceptions.ParseError):
        message = f"Invalid request body: {exc.detail}"
    else:
        message = _flatten(exc.detail)
    response = Response(tb_error(exc.status_code, message, code), status=exc.status_code)
    if isinstance(exc, exceptions.Throttled) and exc.wait:
        response["Retry-After"] = str(int(exc.wait))
    return response


def json_404(request, exception=None):
    """Django handler404: JSON for API paths so clients never parse an HTML page."""
    if not request.path.startswith("/api/"):
        return page_not_found(request, exception)
    return JsonResponse(tb_error(404, "Requested item wasn't found!", ErrorCode.ITEM_NOT_FOUND), status=404)


def json_500(request):
    return JsonResponse(tb_error(500, "Internal server error", ErrorCode.GENERAL), status=500)
