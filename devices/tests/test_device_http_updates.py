"""The device HTTP API's long poll for shared-attribute updates (GET /api/v1/{token}/attributes/updates):
a poll is woken by a change made while it waits, from every path that writes shared attributes,
in one process (embedded) and across processes (Redis)."""

import json
import os
import threading
import time
import uuid

import pytest
from django.db import connections
from django.test import Client

from devices import attribute_updates
from devices.api import device_http, device_updates
from devices.attributes import delete_attributes, save_attributes, save_attributes_many
from devices.choices import AttributeScope
from devices.models import DeviceCredentials
from tbproject import waits
from tbproject.clock import now_ms
from tbproject.testing.factories import make_device

SHARED = AttributeScope.SHARED_SCOPE
BOUND = 30  # seconds: a bound on how long a step may take, never a measurement


@pytest.fixture(autouse=True)
def no_cached_tokens():
    device_http._TOKENS.forget()


@pytest.fixture
def device(tenant):
    return make_device(tenant, "poll-dev")


@pytest.fixture
def token(device):
    return DeviceCredentials.objects.get(device=device).credentials_id


def _until(check, what: str) -> None:
    deadline = time.monotonic() + BOUND
    while not check():
        assert time.monotonic() < deadline, f"gave up waiting for {what}"
        time.sleep(0.01)


class Poll:
    """A long poll made by a device in its own thread (with its own database connection)."""

    def __init__(self, token: str, device, timeout_ms: int = 60_000):
        self.response = None
        self.device = device
        self.thread = threading.Thread(target=self._run, args=(token, timeout_ms), daemon=True)
        self.thread.start()
        _until(lambda: attribute_updates.waiting(device.pk) >= 1 or self.response is not None, "the poll to wait")

    def _run(self, token, timeout_ms):
        try:
            self.response = Client().get(f"/api/v1/{token}/attributes/updates", {"timeout": timeout_ms})
        finally:
            connections.close_all()

    def result(self):
        self.thread.join(BOUND)
        assert not self.thread.is_alive(), "the poll did not answer"
        return self.response


@pytest.mark.django_db(transaction=True)
def test_a_rest_save_of_shared_attributes_wakes_the_waiting_poll(api, device, token):
    poll = Poll(token, device)
    res = api.post(f"/api/plugins/telemetry/DEVICE/{device.pk}/{SHARED}", {"target": 21.5, "cfg": {"m": 1}},
                   format="json")
    assert res.status_code == 200
    answer = poll.result()
    assert answer.status_code == 200
    assert json.loads(answer.content) == {"target": 21.5, "cfg": {"m": 1}}
    assert attribute_updates.waiting(device.pk) == 0


@pytest.mark.django_db(transaction=True)
def test_a_rest_delete_wakes_the_poll_with_the_deleted_keys(api, device, token):
    save_attributes(device.pk, SHARED, {"a": 1, "b": 2})
    poll = Poll(token, device)
    assert api.delete(f"/api/plugins/telemetry/DEVICE/{device.pk}/{SHARED}?keys=a,zz").status_code == 200
    assert json.loads(poll.result().content) == {"deleted": ["a"]}


@pytest.mark.django_db(transaction=True)
def test_rule_node_and_batch_saves_wake_the_poll_and_other_scopes_do_not(device, token):
    poll = Poll(token, device)
    save_attributes(device.pk, AttributeScope.SERVER_SCOPE, {"x": 1})  # not a shared attribute
    save_attributes_many([(device.pk, AttributeScope.CLIENT_SCOPE, "y", 2, now_ms())])
    save_attributes_many([(device.pk, SHARED, "mode", "eco", now_ms()), (uuid.uuid4(), SHARED, "other", 1, now_ms())])
    assert json.loads(poll.result().content) == {"mode": "eco"}


@pytest.mark.django_db(transaction=True)
def test_a_lean_batch_save_wakes_the_poll(device, token, tenant_admin):
    from tbproject.testing.fixtures import api_as
    from tbproject.testing.lean import LeanClient

    lean = LeanClient(api_as(tenant_admin))
    poll = Poll(token, device)
    res = lean.post(f"/api/plugins/telemetry/DEVICE/{device.pk}/{SHARED}", {"fw": "2.0"}, format="json")
    assert res.status_code == 200 and lean.served == 1  # the lean app's batch saved it, not Django's view
    assert json.loads(poll.result().content) == {"fw": "2.0"}


def test_a_change_rolled_back_wakes_nobody(db, device, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        save_attributes(device.pk, SHARED, {"a": 1})
    assert len(callbacks) == 1  # handed on only when the transaction commits
    delete_attributes(device.pk, SHARED, ["never-there"])  # nothing deleted: nothing announced


def test_no_change_answers_408_with_an_empty_body(client, device, token):
    res = client.get(f"/api/v1/{token}/attributes/updates", {"timeout": "1"})
    assert (res.status_code, res.content) == (408, b"")
    assert attribute_updates.waiting(device.pk) == 0


def test_unknown_token_bad_timeout_and_wrong_method(client, device, token):
    assert client.get("/api/v1/nobody/attributes/updates?timeout=1").status_code == 401
    assert client.get(f"/api/v1/{token}/attributes/updates", {"timeout": "soon"}).status_code == 400
    assert client.get(f"/api/v1/{token}/attributes/updates", {"timeout": "-5"}).status_code == 400
    assert client.post(f"/api/v1/{token}/attributes/updates", "{}", content_type="application/json").status_code == 405


def test_the_timeout_defaults_and_is_capped_as_thingsboards():
    assert device_updates.timeout_ms({}) == 60_000
    assert device_updates.timeout_ms({"timeout": "0"}) == 60_000
    assert device_updates.timeout_ms({"timeout": "20000"}) == 20_000
    assert device_updates.timeout_ms({"timeout": str(10**12)}) == 300_000


def test_a_waiter_gets_the_first_change_only_and_its_own_devices():
    mine, other = uuid.uuid4(), uuid.uuid4()
    got = []
    thread = threading.Thread(target=lambda: got.append(attribute_updates.wait(mine, BOUND)))
    thread.start()
    _until(lambda: attribute_updates.waiting(mine) == 1, "the waiter")
    attribute_updates._publish([(str(other), {"x": 1}, []), (str(mine), {"a": 1}, ["b"]), (str(mine), {"a": 2}, [])])
    thread.join(BOUND)
    assert got == [{"a": 1, "deleted": ["b"]}]


@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis (set REDIS_URL; .ci/run does)")
def test_a_change_published_through_redis_reaches_a_waiter_of_this_process(settings):
    settings.REDIS_URL = os.environ["REDIS_URL"]
    device_id, got = uuid.uuid4(), []
    thread = threading.Thread(target=lambda: got.append(attribute_updates.wait(device_id, BOUND)))
    thread.start()
    _until(lambda: attribute_updates.waiting(device_id) == 1, "the waiter")
    _until(lambda: waits._listener().ready.is_set(), "the Redis subscription")
    attribute_updates._publish([(str(device_id), {"target": 5}, [])])  # what a worker's save publishes
    thread.join(BOUND)
    assert got == [{"target": 5}]
