"""What the reporting views share: owner filters, file answers, the renderer's error as an API error."""

from urllib.parse import quote

from django.http import HttpResponse
from rest_framework.exceptions import ValidationError

from reports.rendering import ReportServerError
from tbproject.api.exceptions import ServiceUnavailable
from tenants.choices import Authority

__all__ = ["owned", "file_response", "rendering_errors", "flag"]


def flag(params, name: str) -> bool:
    raw = (params.get(name) or "false").lower()
    if raw not in ("true", "false"):
        raise ValidationError(f"Parameter '{name}' must be true or false")
    return raw == "true"


def owned(queryset, request):
    """ThingsBoard's ``includeCustomers``: a tenant administrator's lists hold the tenant's own rows, and
    its customers' rows too when it is true; a customer user's hold its customer's (for_user did that)."""
    if request.user.authority == Authority.TENANT_ADMIN and not flag(request.query_params, "includeCustomers"):
        return queryset.filter(customer__isnull=True)
    return queryset


def file_response(name: str, content_type: str, data: bytes) -> HttpResponse:
    response = HttpResponse(bytes(data), content_type=content_type)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    response["Content-Length"] = str(len(data))
    return response


class rendering_errors:
    """Turns ReportServerError into a 503 with its message (ThingsBoard answers an error when its report
    server is down; the client sees it as ThingsBoard's error JSON)."""

    def __enter__(self):
        return self

    def __exit__(self, kind, error, tb):
        if isinstance(error, ReportServerError):
            raise ServiceUnavailable(error.message) from None
        return False
