"""Helpers of the TCP, UDP and CoAP integration tests: a stand-in integration row, a running type
instance with a recording sink, and the save body of the integration API."""

import asyncio
import contextlib
import uuid
from types import SimpleNamespace

import pytest

from integrations.tests.brokers import RecordingSink, free_port
from integrations.types import get_type
from tbproject.testing.telemetry import forget_tenant_telemetry

__all__ = ["row", "running", "run", "free_port", "free_udp_port", "api_body", "host_tenant"]


@pytest.fixture
def host_tenant(transactional_db):
    """A tenant for tests that run the listener host (its own threads and connections)."""
    from tenants.models import Tenant

    tenant = Tenant.objects.create(title="Socket Co")
    yield tenant
    forget_tenant_telemetry(tenant)


def run(coroutine, timeout: float = 30):
    return asyncio.run(asyncio.wait_for(coroutine, timeout))


def free_udp_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def row(kind: str, configuration: dict, *, name: str = "device-side", metadata: dict | None = None):
    """What a type reads of an Integration row, without the database."""
    if metadata:
        configuration = {**configuration, "metadata": metadata}
    return SimpleNamespace(pk=uuid.uuid4(), name=name, type=kind, configuration=configuration,
                           routing_key=str(uuid.uuid4()))


@contextlib.asynccontextmanager
async def running(kind: str, configuration: dict, **row_options):
    """A started instance of the type ``kind`` and the RecordingSink it hands uplinks to."""
    sink = RecordingSink()
    instance = get_type(kind)(row(kind, configuration, **row_options))
    await instance.start(sink)
    try:
        yield instance, sink
    finally:
        await instance.stop()


def api_body(converter, kind: str, configuration: dict, name: str = "Socket meters") -> dict:
    return {"name": name, "type": kind, "defaultConverterId": {"entityType": "CONVERTER", "id": str(converter.pk)},
            "configuration": configuration}
