"""A tenant marked for deletion (tenants/deletion.py: DELETE /api/tenant/{id}) stops receiving at once,
while its rows are still being deleted: its routing keys answer 404, its devices' tokens 401, the
listener host stops hosting its integrations, the pipeline drops its uplinks without provisioning.
Another tenant is unaffected."""

import pytest

from devices.api import device_http
from devices.models import Device, DeviceCredentials
from integrations import config_cache, pipeline, queue
from integrations.dead_letters import DeadLetter
from integrations.ingress import routes
from integrations.messages import RawUplink
from integrations.runner import Runner
from integrations.tests.factories import make_integration
from integrations.tests.test_http_ingress import post
from integrations.tests.uplinks import integration, json_uplink
from tbproject.testing.factories import make_device
from tenants import deletion
from tenants.models import Tenant


@pytest.fixture(autouse=True)
def _empty_caches():
    routes.CACHE.clear()
    config_cache.forget()
    device_http._TOKENS.forget()
    yield
    routes.CACHE.clear()
    config_cache.forget()
    device_http._TOKENS.forget()


@pytest.fixture
def other(db):
    return Tenant.objects.create(title="Bob Corp")


@pytest.fixture
def queued(monkeypatch) -> list[RawUplink]:
    received: list[RawUplink] = []

    async def accept(uplink: RawUplink) -> None:
        received.append(uplink)

    monkeypatch.setattr(queue, "accept", accept)
    return received


def _mark(tenant) -> None:
    assert deletion.mark(Tenant.objects.get(pk=tenant.pk))


@pytest.mark.parametrize("transport", ["django", "asgi"])
def test_its_routing_keys_answer_404_and_queue_nothing(transport, tenant, other, queued):
    make_integration(tenant, "Alice in", routing_key="alice-key")
    make_integration(other, "Bob in", routing_key="bob-key")
    assert post(transport, "alice-key").status == 204  # cached now
    assert post(transport, "bob-key").status == 204
    _mark(tenant)
    post(transport, "alice-key").error(404)
    assert post(transport, "bob-key").status == 204
    assert [u.metadata["integrationName"] for u in queued] == ["Alice in", "Bob in", "Bob in"]


def test_its_device_tokens_answer_401(client, tenant, other):
    mine, theirs = make_device(tenant, "alice-dev"), make_device(other, "bob-dev")
    mine_token = DeviceCredentials.objects.get(device=mine).credentials_id
    their_token = DeviceCredentials.objects.get(device=theirs).credentials_id
    assert device_http.device_of(mine_token) == mine  # cached now
    _mark(tenant)
    res = client.post(f"/api/v1/{mine_token}/telemetry", {"t": 1}, content_type="application/json")
    assert res.status_code == 401
    assert device_http.device_of(mine_token) is None
    res = client.post(f"/api/v1/{their_token}/telemetry", {"t": 1}, content_type="application/json")
    assert res.status_code == 200


def test_the_listener_host_no_longer_wants_its_integrations(tenant, other):
    mine = make_integration(tenant, "Alice MQTT", kind="MQTT")
    theirs = make_integration(other, "Bob MQTT", kind="MQTT")
    runner = Runner(holder="host-a", lease_seconds=6)
    try:
        assert set(runner._plan({}).wanted) == {mine.pk, theirs.pk}
        _mark(tenant)
        plan = runner._plan({mine.pk: mine.version, theirs.pk: theirs.version})
        assert set(plan.wanted) == {theirs.pk}
        assert plan.existing == set()  # stopped without a STOPPED event: the tenant's rows are going
    finally:
        runner.control.shutdown()
        runner.uplinks.shutdown()


def test_marking_nudges_a_running_host_once_it_commits(tenant, django_capture_on_commit_callbacks):
    runner = Runner(holder="host-b", lease_seconds=6)
    runner.nudge = nudge = lambda: None
    uid = "test-runner"  # what Runner.run() connects
    deletion.tenant_marked.connect(runner._on_saved, sender=Tenant, weak=False, dispatch_uid=uid)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            _mark(tenant)
    finally:
        deletion.tenant_marked.disconnect(dispatch_uid=uid, sender=Tenant)
        runner.control.shutdown()
        runner.uplinks.shutdown()
    assert nudge in callbacks


def test_the_pipeline_drops_its_uplinks_without_provisioning(tenant, other):
    mine, theirs = integration(tenant), integration(other)
    pipeline.process([json_uplink(mine, {"name": "warm-up", "telemetry": {"t": 0}})])  # cached now
    _mark(tenant)
    outcomes = pipeline.process([json_uplink(mine, {"name": "alice-new", "telemetry": {"t": 1}}),
                                 json_uplink(theirs, {"name": "bob-new", "telemetry": {"t": 1}})])
    assert [o.status for o in outcomes] == [pipeline.DROPPED, pipeline.OK]
    assert not Device.objects.filter(name="alice-new").exists()
    assert Device.objects.filter(tenant=other, name="bob-new").exists()
    assert not DeadLetter.objects.filter(tenant=tenant).exists()
