"""The live debug-event websocket: authentication, the tenant check, and delivery of each event as
it is recorded - from the consumer's thread, from other threads (the pipeline's), and from
another process through channels-redis.
"""

import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connections
from django.test import Client

from converters.events import write_events
from converters.models import DebugEvent
from integrations import events
from integrations.tests.factories import make_integration, make_uplink_converter
from tbproject.api.tokens import issue_pair

pytestmark = pytest.mark.django_db(transaction=True)  # events are published when their transaction commits

REDIS_URL = os.environ.get("REDIS_URL", "")
ROOT = Path(__file__).resolve().parents[2]
LAYERS = {
    "memory": {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}},
    "redis": {"default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [REDIS_URL]}}},
}


@pytest.fixture(params=["memory", "redis"])
def layer(request, settings):
    if request.param == "redis" and not REDIS_URL:
        pytest.skip("needs Redis (set REDIS_URL) for the channels-redis layer")
    settings.CHANNEL_LAYERS = LAYERS[request.param]
    return request.param


def socket(path: str, *, user=None, headers=None) -> WebsocketCommunicator:
    from tbproject.asgi import application

    if user is not None:
        path += f"?token={issue_pair(user)['token']}"
    return WebsocketCommunicator(application, path, headers=headers or [])


async def opened(communicator: WebsocketCommunicator):
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def converter_event_seen(communicator: WebsocketCommunicator, converter, timeout: float) -> dict:
    """Open the socket, write one converter debug event, and return what the socket received."""
    communicator = await opened(communicator)
    event = DebugEvent(tenant_id=converter.tenant_id, entity_type="CONVERTER", entity_id=converter.pk,
                       event_type="DEBUG_CONVERTER", body={"type": "Uplink", "in": "{}", "out": "{}"})
    await database_sync_to_async(write_events)([event])
    got = await communicator.receive_json_from(timeout)
    await communicator.disconnect()
    return got


async def close_code(communicator: WebsocketCommunicator) -> int:
    connected, _ = await communicator.connect()
    assert connected  # accepted, so that the browser sees the code
    message = await communicator.receive_output(2)
    await communicator.disconnect()
    assert message["type"] == "websocket.close"
    return message["code"]


def lifecycle_in_thread(integration, event: str) -> None:
    """Record an event the way the pipeline and the listener host do: from another thread."""
    def record():
        try:
            events.lifecycle(integration, event)
        finally:
            connections.close_all()

    worker = threading.Thread(target=record)
    worker.start()
    worker.join()


def test_a_tenant_admin_receives_each_event_of_an_integration_as_it_is_recorded(tenant, tenant_admin, layer):
    integration = make_integration(tenant, "watched")
    other = make_integration(tenant, "other")

    async def scenario():
        communicator = await opened(socket(f"/ws/events/INTEGRATION/{integration.pk}", user=tenant_admin))
        await database_sync_to_async(lifecycle_in_thread)(other, "STARTED")  # not watched
        # from another thread too (DESIGN.md section 9: the in-memory layer needs the loop woken);
        # the receive bound says "promptly" without timing the machine
        await database_sync_to_async(lifecycle_in_thread)(integration, "STARTED")
        first = await communicator.receive_json_from(10)
        await database_sync_to_async(events.lifecycle)(integration, "STOPPED")  # from the consumer's thread
        second = await communicator.receive_json_from(10)
        assert await communicator.receive_nothing(0.2)
        await communicator.disconnect()
        return first, second

    first, second = async_to_sync(scenario)()
    stored = DebugEvent.objects.filter(entity_id=integration.pk).order_by("created_time")
    assert [first["id"]["id"], second["id"]["id"]] == [str(e.pk) for e in stored]
    assert first["type"] == "LC_EVENT" and first["body"]["event"] == "STARTED"
    assert first["entityId"] == {"entityType": "INTEGRATION", "id": str(integration.pk)}
    assert first["tenantId"] == {"entityType": "TENANT", "id": str(tenant.pk)}
    assert second["body"]["event"] == "STOPPED"


def test_a_session_login_may_watch_a_converter(tenant, tenant_admin):
    converter = make_uplink_converter(tenant, "watched converter")
    client = Client()
    client.force_login(tenant_admin)
    cookie = f"sessionid={client.cookies['sessionid'].value}".encode()

    got = async_to_sync(converter_event_seen)(
        socket(f"/ws/events/CONVERTER/{converter.pk}", headers=[(b"cookie", cookie)]), converter, 10)
    assert got["type"] == "DEBUG_CONVERTER" and got["body"]["in"] == "{}"


def test_an_event_written_as_soon_as_the_socket_opened_is_received(tenant, tenant_admin, monkeypatch):
    """The consumer joins its group before it accepts: joining after, an event written at once
    missed the group whenever the join was slow (a Redis round trip under load)."""
    import asyncio

    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    join = layer.group_add

    async def slow_join(group, channel):
        await asyncio.sleep(0.3)
        await join(group, channel)

    monkeypatch.setattr(layer, "group_add", slow_join)
    converter = make_uplink_converter(tenant, "watched at once")

    got = async_to_sync(converter_event_seen)(
        socket(f"/ws/events/CONVERTER/{converter.pk}", user=tenant_admin), converter, 5)
    assert got["type"] == "DEBUG_CONVERTER"


def test_it_refuses_whom_the_entity_does_not_concern(tenant, customer_user, mallory, tenant_admin):
    integration = make_integration(tenant, "private")
    path = f"/ws/events/INTEGRATION/{integration.pk}"
    outdated = issue_pair(tenant_admin)["token"]
    type(tenant_admin).objects.filter(pk=tenant_admin.pk).update(  # its password changed a minute later
        credentials_changed=tenant_admin.credentials_changed + 60_000)

    async def scenario():
        return {
            "no login": await close_code(socket(path)),
            "bad token": await close_code(socket(f"{path}?token=not-a-jwt")),
            "outdated token": await close_code(socket(f"{path}?token={outdated}")),
            "customer user": await close_code(socket(path, user=customer_user)),
            "other tenant": await close_code(socket(path, user=mallory)),
            "unknown id": await close_code(socket(f"/ws/events/INTEGRATION/{uuid.uuid4()}", user=mallory)),
            "bad id": await close_code(socket("/ws/events/INTEGRATION/42", user=mallory)),
            "bad type": await close_code(socket(f"/ws/events/DEVICE/{integration.pk}", user=mallory)),
        }

    assert async_to_sync(scenario)() == {
        "no login": 4401, "bad token": 4401, "outdated token": 4401, "customer user": 4403, "other tenant": 4404,
        "unknown id": 4404, "bad id": 4404, "bad type": 4404,
    }


@pytest.mark.skipif(not REDIS_URL, reason="needs Redis (set REDIS_URL): events cross processes via channels-redis")
def test_an_event_published_by_another_process_reaches_the_browser(tenant, tenant_admin, settings):
    settings.CHANNEL_LAYERS = LAYERS["redis"]
    integration = make_integration(tenant, "remote")
    script = (
        "import django, sys; django.setup()\n"
        "from converters.models import DebugEvent\n"
        "from integrations.broadcasts import flush, publish_events\n"
        f"e = DebugEvent(tenant_id='{tenant.pk}', entity_type='INTEGRATION', entity_id='{integration.pk}',"
        " event_type='LC_EVENT', created_time=1, body={'event': 'STARTED', 'status': 'Success'})\n"
        "assert publish_events([e]) == 1 and flush(5)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "tbproject.settings", "REDIS_URL": REDIS_URL}

    async def scenario():
        communicator = await opened(socket(f"/ws/events/INTEGRATION/{integration.pk}", user=tenant_admin))
        done = await database_sync_to_async(subprocess.run)([sys.executable, "-c", script], cwd=ROOT, env=env,
                                                            capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        got = await communicator.receive_json_from(5)
        await communicator.disconnect()
        return got

    got = async_to_sync(scenario)()
    assert got["body"] == {"event": "STARTED", "status": "Success"} and got["createdTime"] == 1
