"""An API test client whose requests go through the lean attribute-save app first, as in the web
process (tbproject/asgi.py: ``with_attribute_saves`` ahead of Django).

    client = LeanClient(api_as(user))   # POSTs the lean app serves are answered by it; the rest by Django
    client.served                        # how many requests the lean app answered

The lean app is called in-process (its database batch runs on this thread, inside the test's
transaction); a request it leaves to Django goes to the wrapped DRF ``APIClient`` unchanged.

A test module whose every test should run both ways takes the fixtures below into its namespace;
they replace the standard ``api``, ``mallory_api`` and ``customer_api`` with one client of each kind
in turn:

    served_by, api, mallory_api, customer_api = lean.served_by, lean.api, lean.mallory_api, lean.customer_api
"""

import json
from urllib.parse import urlsplit

import pytest
from asgiref.sync import async_to_sync

from tbproject.testing.fixtures import api_as

__all__ = ["LeanClient", "LeanResponse", "served_by", "api", "mallory_api", "customer_api"]


@pytest.fixture(params=["django", "lean"])
def served_by(request):
    return request.param


def _client(user, served_by):
    return LeanClient(api_as(user)) if served_by == "lean" else api_as(user)


@pytest.fixture
def api(tenant_admin, served_by):
    return _client(tenant_admin, served_by)


@pytest.fixture
def mallory_api(mallory, served_by):
    return _client(mallory, served_by)


@pytest.fixture
def customer_api(customer_user, served_by):
    return _client(customer_user, served_by)


class LeanResponse:
    """What the tests read of a response: status_code, content, headers, json()."""

    def __init__(self, status: int, headers: list, body: bytes):
        self.status_code, self.content = status, body
        self.headers = {name.decode().title(): value.decode() for name, value in headers}

    def json(self):
        return json.loads(self.content)

    def __getitem__(self, name: str) -> str:
        return self.headers[name.title()]


class _FellBack(Exception):
    pass


class LeanClient:
    def __init__(self, client):
        self.client, self.served = client, 0

    def __getattr__(self, name):
        return getattr(self.client, name)

    def post(self, path, data=None, format=None, content_type=None, **extra):
        body, content_type = self.client._encode_data(data, format, content_type)
        response = self.asgi_post(path, body, content_type, **extra)
        if response is None:
            return self.client.post(path, data, format=format, content_type=content_type, **extra)
        self.served += 1
        return response

    def asgi_post(self, path: str, body: bytes, content_type: str | None, **extra) -> LeanResponse | None:
        """The lean app's answer, or None when it leaves the request to Django."""
        from devices.api.lean_app import LeanAttributesApp

        meta = {**self.client._credentials, **extra}
        headers = [(name[5:].replace("_", "-").lower().encode(), str(value).encode())
                   for name, value in meta.items() if name.startswith("HTTP_")]
        if content_type:
            headers.append((b"content-type", content_type.encode()))
        headers.append((b"content-length", str(len(body)).encode()))
        parts = urlsplit(path)
        scope = {"type": "http", "method": "POST", "path": parts.path, "query_string": parts.query.encode(),
                 "headers": headers, "root_path": "", "http_version": "1.1"}
        sent = []

        async def fallback(scope, receive, send):
            raise _FellBack

        async def receive():
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message):
            sent.append(message)

        try:
            async_to_sync(LeanAttributesApp(fallback))(scope, receive, send)
        except _FellBack:
            return None
        start, chunk = sent
        return LeanResponse(start["status"], start["headers"], chunk["body"])
