"""The lean attribute-save app (devices/api/lean_app.py) answers as the Django view does.

Each request is sent both ways on the same data and the answers compared: status, headers and the
ThingsBoard error body (its timestamp aside). test_api_attributes.py runs the attribute API's own
tests through both as well; here are the cases that need the two side by side, what the lean app
leaves to Django, and the batch.
"""

import json
import time

import jwt
import pytest
from asgiref.sync import async_to_sync
from django.conf import settings

from devices import services
from devices.api import lean_batch
from devices.api.lean_app import target_of
from devices.attributes import get_attributes
from rulechains import outbox
from tbproject.testing.factories import make_asset, make_customer, make_device
from tbproject.testing.fixtures import api_as
from tbproject.testing.lean import LeanClient
from tbproject.testing.limits import limit_tenant
from tenants.choices import Authority
from tenants.models import User

BASE = "/api/plugins/telemetry"


@pytest.fixture
def world(tenant, customer, other_tenant):
    return {"device": make_device(tenant, "thermo-1", customer=customer), "asset": make_asset(tenant),
            "foreign": make_device(other_tenant, "mallory-1"),
            "other_customers": make_device(tenant, "other", customer=make_customer(tenant))}


@pytest.fixture
def messages(monkeypatch):
    """The rule-engine messages queued (rulechains.outbox.queue's payloads), in order."""
    queued = []
    monkeypatch.setattr(outbox, "queue", lambda payload: queued.extend(payload))
    return queued


def both(user_or_client, path, body, content_type="application/json", **extra):
    """(Django's answer, the lean app's answer) to the same POST."""
    client = user_or_client if hasattr(user_or_client, "post") else api_as(user_or_client)
    if extra:
        client.credentials(**extra)
    raw = body if isinstance(body, str) else json.dumps(body)
    django = client.post(path, raw, content_type=content_type)
    lean = LeanClient(client).asgi_post(path, raw.encode(), content_type)
    assert lean is not None, "the lean app left the request to Django"
    return django, lean


def assert_same(django, lean):
    assert lean.status_code == django.status_code, (django.content, lean.content)
    headers = {k.title(): v for k, v in django.headers.items()}
    assert lean.headers == headers
    if django.content:
        expected, got = django.json(), lean.json()
        expected.pop("timestamp"), got.pop("timestamp")
        assert got == expected
    else:
        assert lean.content == b""


@pytest.mark.parametrize("case, path, body, status", [
    ("saved", "{device}/attributes/SHARED_SCOPE", {"fw": "1.1", "cfg": {"a": [1]}}, 200),
    ("old form", "{device}/SERVER_SCOPE", {"floor": 3}, 200),
    ("device form", "{bare_device}/SHARED_SCOPE", {"fw": "1.2"}, 200),
    ("asset server", "{asset}/attributes/SERVER_SCOPE", {"floor": 3}, 200),
    ("bad json", "{device}/attributes/SHARED_SCOPE", "{oops", 400),
    ("not an object", "{device}/attributes/SHARED_SCOPE", "[1]", 400),
    ("empty object", "{device}/attributes/SHARED_SCOPE", {}, 400),
    ("null value", "{device}/attributes/SHARED_SCOPE", {"a": None}, 400),
    ("infinite", "{device}/attributes/SHARED_SCOPE", '{"a": 1e999}', 400),
    ("NaN", "{device}/attributes/SHARED_SCOPE", '{"a": NaN}', 400),
    ("integer past a double", "{device}/attributes/SHARED_SCOPE", '{"a": ' + "9" * 400 + "}", 400),
    ("not utf-8", "{device}/attributes/SHARED_SCOPE", "", 400),
    ("client scope", "{device}/attributes/CLIENT_SCOPE", {"a": 1}, 400),
    ("unknown scope", "{device}/PUBLIC_SCOPE", {"a": 1}, 400),
    ("shared on an asset", "{asset}/attributes/SHARED_SCOPE", {"a": 1}, 400),
    ("bad uuid", "DEVICE/nope/SERVER_SCOPE", {"a": 1}, 400),
    ("bad uuid, device form", "nope/SERVER_SCOPE", {"a": 1}, 400),
    ("unsupported type", "TENANT/{device_id}/SERVER_SCOPE", {"a": 1}, 400),
    ("another tenant's device", "{foreign}/attributes/SERVER_SCOPE", {"a": 1}, 404),
    ("another tenant's device, bad body too", "{foreign}/attributes/CLIENT_SCOPE", "{oops", 404),
    ("unknown device", "DEVICE/00000000-0000-0000-0000-00000000abcd/SHARED_SCOPE", {"a": 1}, 404),
])
def test_it_answers_as_the_django_view(tenant_admin, world, case, path, body, status):
    ids = {"device": f"DEVICE/{world['device'].pk}", "bare_device": str(world["device"].pk),
           "asset": f"ASSET/{world['asset'].pk}", "foreign": f"DEVICE/{world['foreign'].pk}",
           "device_id": str(world["device"].pk)}
    content_type = "text/plain" if "form" in case else "application/json"
    if case == "not utf-8":
        client = api_as(tenant_admin)
        raw = b'{"a": "\xff"}'
        django = client.generic("POST", f"{BASE}/{path.format(**ids)}", raw, content_type=content_type)
        lean = LeanClient(client).asgi_post(f"{BASE}/{path.format(**ids)}", raw, content_type)
    else:
        django, lean = both(tenant_admin, f"{BASE}/{path.format(**ids)}", body, content_type)
    assert django.status_code == status
    assert_same(django, lean)


def test_customer_users_save_only_on_their_customers_entities(customer_user, world):
    assert_same(*both(customer_user, f"{BASE}/{world['device'].pk}/SHARED_SCOPE", {"target": 21}))
    django, lean = both(customer_user, f"{BASE}/{world['other_customers'].pk}/SHARED_SCOPE", {"target": 21})
    assert django.status_code == 404
    assert_same(django, lean)
    assert get_attributes(world["other_customers"].pk) == []


def _token(user, **claims) -> str:
    now = int(time.time())
    payload = {"sub": user.email, "userId": str(user.pk), "scopes": [user.authority], "iss": settings.JWT_ISSUER,
               "iat": now - 100, "exp": now + 100, **claims}
    return jwt.encode(payload, settings.JWT_SIGNING_KEY, algorithm="HS512")


def test_it_refuses_bad_tokens_and_users_as_django_does(tenant_admin, world):
    path = f"{BASE}/DEVICE/{world['device'].pk}/SHARED_SCOPE"
    for header in ("Token abc", "Bearer", "Bearer not-a-jwt", f"Bearer {_token(tenant_admin, exp=1)}",
                   f"Bearer {_token(tenant_admin, scopes=['REFRESH_TOKEN'])}"):
        django, lean = both(api_as(None), path, {"a": 1}, HTTP_X_AUTHORIZATION=header)
        assert django.status_code == 401
        assert_same(django, lean)
    tenant_admin.is_active = False
    tenant_admin.save()
    django, lean = both(tenant_admin, path, {"a": 1})
    assert django.status_code == 401
    assert_same(django, lean)
    sysadmin = User.objects.create_user("root@example.com", "x", authority=Authority.SYS_ADMIN)
    django, lean = both(sysadmin, path, {"a": 1})
    assert django.status_code == 403
    assert_same(django, lean)


def test_it_answers_429_over_the_tenant_profiles_rest_limit(tenant, tenant_admin, world):
    limit_tenant(tenant, tenantServerRestLimitsConfiguration="2:60")
    client = api_as(tenant_admin)
    path = f"{BASE}/DEVICE/{world['device'].pk}/SHARED_SCOPE"
    django, lean = both(client, path, {"a": 1})  # two requests: the limit's tokens
    assert django.status_code == lean.status_code == 200
    django, lean = both(client, path, {"a": 1})
    assert django.status_code == 429 and "Retry-After" in django.headers
    assert_same(django, lean)


@pytest.mark.parametrize("change", [
    {"HTTP_COOKIE": "sessionid=x", "no_token": True}, {"QUERY_STRING": "a=1"}, {"content_type": "application/xml"},
    {"content_type": "application/json; charset=latin-1"}, {"HTTP_ACCEPT": "text/html"},
    {"HTTP_ACCEPT": "application/json; indent=4"}, {"path": "values/attributes"}, {"path": "keys/timeseries"},
    {"size": 10 * 1024 * 1024},
])
def test_it_leaves_other_requests_to_django(tenant_admin, world, change):
    client = api_as(None if change.get("no_token") else tenant_admin)
    extra = {k: v for k, v in change.items() if k.startswith("HTTP_")}
    path = f"{BASE}/DEVICE/{world['device'].pk}/{change.get('path', 'attributes/SHARED_SCOPE')}"
    if "QUERY_STRING" in change:
        path += "?" + change["QUERY_STRING"]
    body = json.dumps({"a": "x" * change.get("size", 1)}).encode()
    assert LeanClient(client).asgi_post(path, body, change.get("content_type", "application/json"), **extra) is None


def test_it_knows_the_save_paths():
    assert target_of(f"{BASE}/DEVICE/1/attributes/SHARED_SCOPE") == ("attributes", "DEVICE", "1", "SHARED_SCOPE")
    assert target_of(f"{BASE}/ASSET/1/SERVER_SCOPE") == ("attributes", "ASSET", "1", "SERVER_SCOPE")
    assert target_of(f"{BASE}/1/SHARED_SCOPE") == ("attributes", "DEVICE", "1", "SHARED_SCOPE")
    assert target_of(f"{BASE}/DEVICE/1/timeseries/ANY") == ("timeseries", "DEVICE", "1", None)
    assert target_of(f"{BASE}/DEVICE/1/timeseries/ANY/60") == ("timeseries", "DEVICE", "1", "60")
    for other in ("DEVICE/1/values/attributes", "DEVICE/1/keys/attributes", "DEVICE/1/values/timeseries",
                  "DEVICE/1/keys/attributes/SHARED_SCOPE", "DEVICE/1/attributes/SHARED_SCOPE/", "1", "DEVICE//x",
                  "DEVICE/1/values/timeseries/history", "DEVICE/1/timeseries/ANY/1/2"):
        assert target_of(f"{BASE}/{other}") is None, other
    assert target_of("/api/v1/integrations/http/abc") is None


@pytest.mark.parametrize("tail, body, status", [
    ("timeseries/ANY", {"temperature": 26}, 200),
    ("timeseries/ANY/3600", [{"ts": 1_700_000_000_000, "values": {"t": 1}}, {"t": 2}], 200),
    ("timeseries/ANY/x", {"t": 1}, 400),
    ("timeseries/ANY", {"ts": "soon", "values": {"t": 1}}, 400),
    ("timeseries/ANY", "{oops", 400),
    ("timeseries/ANY", [], 400),
    ("timeseries/ANY", '{"t": -' + "9" * 400 + "}", 400),
])
def test_time_series_saves_answer_as_the_django_view(tenant_admin, world, tail, body, status):
    django, lean = both(tenant_admin, f"{BASE}/DEVICE/{world['device'].pk}/{tail}", body)
    assert django.status_code == status
    assert_same(django, lean)
    django, lean = both(tenant_admin, f"{BASE}/DEVICE/{world['foreign'].pk}/{tail}", body)
    assert django.status_code == 404
    assert_same(django, lean)


def test_the_rule_engine_message_is_the_one_django_queues(tenant_admin, world, messages):
    path = f"{BASE}/DEVICE/{world['device'].pk}/attributes/SHARED_SCOPE"
    assert_same(*both(tenant_admin, path, {"firmware": "2.0"}))
    assert len(messages) == 2 and messages[0] == messages[1]
    assert messages[0]["t"] == "ATTRIBUTES_UPDATED" and messages[0]["m"]["scope"] == "SHARED_SCOPE"
    assert messages[0]["m"]["deviceName"] == "thermo-1" and messages[0]["d"] == {"firmware": "2.0"}


def test_concurrent_saves_are_one_batch_and_each_sends_its_signal(tenant_admin, tenant, world, messages, monkeypatch):
    devices = [world["device"], *(make_device(tenant, f"fleet-{i}") for i in range(4))]
    batches = []
    monkeypatch.setattr(lean_batch, "_run", lambda saves: _record(batches, saves))
    client = LeanClient(api_as(tenant_admin))
    token = client.client._credentials["HTTP_X_AUTHORIZATION"]

    async def all_at_once():
        import asyncio

        from devices.api.lean_app import LeanAttributesApp

        async def one(path, value):
            sent = []
            body = json.dumps({"fw": value}).encode()
            scope = {"type": "http", "method": "POST", "path": path, "query_string": b"", "root_path": "",
                     "headers": [(b"x-authorization", token.encode()), (b"content-type", b"application/json"),
                                 (b"content-length", str(len(body)).encode())]}

            async def receive():
                return {"type": "http.request", "body": body}

            async def send(message):
                sent.append(message)

            await LeanAttributesApp(None)(scope, receive, send)
            return sent[0]["status"]

        calls = [(f"{BASE}/DEVICE/{d.pk}/attributes/SHARED_SCOPE", f"v{i}") for i, d in enumerate(devices)]
        calls.append((calls[0][0], "last"))  # the same key again: the later request's value stays
        return await asyncio.gather(*(one(path, value) for path, value in calls))

    assert async_to_sync(all_at_once)() == [200] * 6
    assert [len(b) for b in batches] == [6]
    assert get_attributes(devices[0].pk, "SHARED_SCOPE")[0]["value"] == "last"
    assert [get_attributes(d.pk)[0]["value"] for d in devices[1:]] == ["v1", "v2", "v3", "v4"]
    assert [m["d"]["fw"] for m in messages] == ["v0", "v1", "v2", "v3", "v4", "last"]


async def _record(batches, saves):
    from asgiref.sync import sync_to_async

    batches.append(saves)
    await sync_to_async(lean_batch.run_batch, thread_sensitive=True)(saves)


def test_receivers_may_leave_their_work_to_the_batch(tenant_admin, world):
    """devices.services.BATCHED: what rulechains.outbox.queue uses when the broker is real (not eager)."""
    flushed = []

    def flush(items):
        flushed.append(list(items))

    def receiver(sender, entity, values, **kwargs):
        services.BATCHED.get().setdefault(flush, []).append(values)

    services.attributes_saved.connect(receiver, dispatch_uid="test.batching")
    try:
        client = LeanClient(api_as(tenant_admin))
        res = client.post(f"{BASE}/DEVICE/{world['device'].pk}/attributes/SHARED_SCOPE", {"a": 1}, format="json")
    finally:
        services.attributes_saved.disconnect(dispatch_uid="test.batching")
    assert res.status_code == 200 and client.served == 1
    assert flushed == [[{"a": 1}]] and services.BATCHED.get() is None


def test_the_clients_of_a_batch_coming_back_one_by_one_make_one_batch_again(monkeypatch):
    """Group commit alone started the next batch with the first returning client, alone: batches
    alternated 1, 15, 1, 15 (each costing the same round trips). The batch waits (up to LINGER)
    for as many saves as the last one held; the clients here come back within a fraction of it."""
    import asyncio

    sizes = []

    async def run(saves):
        sizes.append(len(saves))
        await asyncio.sleep(0.001)

    monkeypatch.setattr(lean_batch, "_run", run)

    async def clients():
        async def client(i):
            for _ in range(5):
                await lean_batch.submit(lean_batch.Save(user_id="u"))
                await asyncio.sleep(i * lean_batch.LINGER / 100)  # staggered, as answers reach clients

        await asyncio.gather(*(client(i) for i in range(16)))

    asyncio.run(clients())
    assert sum(sizes) == 80
    assert sizes[-4:] == [16] * 4, sizes  # the first batch may be short (the clients are starting)


@pytest.mark.django_db(transaction=True)  # outside a test's transaction, as a web process runs: rows are kept
def test_an_entity_found_serves_later_batches_until_it_changes(tenant_admin, customer_user, world, messages):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    device, path = world["device"], f"{BASE}/DEVICE/{world['device'].pk}/attributes/SHARED_SCOPE"
    admin, theirs = LeanClient(api_as(tenant_admin)), LeanClient(api_as(customer_user))
    assert admin.asgi_post(path, b'{"fw": "1"}', "application/json").status_code == 200
    with CaptureQueriesContext(connection) as queries:
        assert admin.asgi_post(path, b'{"fw": "2"}', "application/json").status_code == 200
    assert not [q for q in queries.captured_queries if 'FROM "devices_device"' in q["sql"]]

    device.profile.name = "thermostat-v2"  # the entity's type, in the rule engine's message
    device.profile.save()
    assert admin.asgi_post(path, b'{"fw": "3"}', "application/json").status_code == 200
    assert messages[-1]["m"]["deviceType"] == "thermostat-v2"

    assert theirs.asgi_post(path, b'{"fw": "4"}', "application/json").status_code == 200
    device.customer = world["other_customers"].customer
    device.save()  # moved to another customer: its old customer's users no longer see it
    assert theirs.asgi_post(path, b'{"fw": "5"}', "application/json").status_code == 404

    device.delete()
    assert admin.asgi_post(path, b'{"fw": "6"}', "application/json").status_code == 404
    assert get_attributes(device.pk) == []


def test_the_entity_cache_listens_to_its_own_models_only():
    """A post_delete receiver for every model would cost every model's bulk deletes (debug-event
    pruning, retention) Django's fast path: the collector would load and signal each row."""
    from django.db.models.signals import post_delete

    from converters.models import DebugEvent
    from devices.models import Device

    assert post_delete.has_listeners(Device)
    assert not post_delete.has_listeners(DebugEvent)
