"""Factories for the reporting tests, and tb-pe-client pointed at the Django test client (no server)."""

from types import SimpleNamespace
from urllib.parse import urlsplit

from django.test import Client

from reports.models import BlobEntity, ReportTemplate
from tbproject.api.tokens import issue_pair

__all__ = ["make_template", "make_blob", "tb_api", "CSV_CONFIG", "PDF_CONFIG"]

CSV_CONFIG = {"format": "CSV", "namePattern": "energy-%d{yyyy-MM-dd}",
              "components": [{"type": "HEADING", "subType": "default", "text": "Energy"}]}
PDF_CONFIG = {"format": "PDF", "namePattern": "energy-%d{yyyy-MM-dd}",
              "components": [{"type": "HEADING", "subType": "default", "text": "Energy"},
                             {"type": "RICH_TEXT", "subType": "default", "text": "Monthly use"}]}


def make_template(tenant, name="Energy", fmt="CSV", customer=None, **extra) -> ReportTemplate:
    config = CSV_CONFIG if fmt == "CSV" else PDF_CONFIG
    return ReportTemplate.objects.create(tenant=tenant, name=name, format=fmt, configuration=config,
                                         customer=customer, **extra)


def make_blob(tenant, name="report-1.pdf", customer=None) -> BlobEntity:
    return BlobEntity.objects.create(tenant=tenant, customer=customer, name=name, type="report",
                                     content_type="application/pdf", data=b"%PDF-1.4 test")


class _Pool:
    """What tb-pe-client's REST layer calls (urllib3's ``request``), answered by Django's test client."""

    def __init__(self):
        self.client = Client()

    def request(self, method, url, body=None, headers=None, **_):
        parts = urlsplit(url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        headers = dict(headers or {})
        content_type = headers.pop("Content-Type", "application/json")
        extra = {"HTTP_" + k.upper().replace("-", "_"): v for k, v in headers.items()}
        resp = self.client.generic(method, path, data=body or "", content_type=content_type, **extra)
        return SimpleNamespace(status=resp.status_code, reason=resp.reason_phrase, data=resp.content,
                               headers={k: v for k, v in resp.headers.items()})


def tb_api(api_class, user):
    """An instance of a tb-pe-client controller API class calling this app in-process as ``user``."""
    from tb_pe_client.api_client import ApiClient
    from tb_pe_client.configuration import Configuration

    api_client = ApiClient(Configuration(host="http://testserver"))
    api_client.rest_client.pool_manager = _Pool()
    api_client.set_default_header("X-Authorization", f"Bearer {issue_pair(user)['token']}")
    return api_class(api_client)
