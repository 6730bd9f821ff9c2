"""The RPC store's hygiene (rulechains/rpc_calls.py, rulechains/nodes/rpc.py): a call reaches a device
one way only (its integration's downlink, or its HTTP long poll), lightweight rows go once taken,
answered or expired, and the periodic sweep expires open calls and deletes persistent ones past the
tenant profile's rpcTtlDays (ThingsBoard's persistent-RPC TTL)."""

import uuid

import pytest
from django.test import Client

from devices.models import DeviceCredentials
from integrations.models import OutgoingDownlink
from integrations.tests.factories import make_downlink_converter, make_integration
from rulechains import nodes, rpc_calls
from rulechains.models import Rpc
from rulechains.tests.helpers import msg, run_node
from tbproject.clock import now_ms
from tbproject.periodic import JOBS, beat_schedule
from tbproject.testing.factories import make_device

RPC = "RPC_CALL_FROM_SERVER_TO_DEVICE"
DAY_MS = 86_400_000

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def embedded(settings):
    settings.REDIS_URL = ""


@pytest.fixture
def device(tenant):
    return make_device(tenant, "valve-9")


def send(tenant, device, **metadata):
    [[out]] = run_node(tenant, nodes.RPC_CALL_REQUEST,
                       [msg(tenant, device, RPC, {"method": "open", "params": {}}, metadata=metadata)],
                       timeoutInSeconds=60)
    assert out.relation == "Success", out.error
    return out.msg.metadata["requestUUID"]


def poll(device, timeout=1):
    token = DeviceCredentials.objects.get(device=device).credentials_id
    return Client().get(f"/api/v1/{token}/rpc", {"timeout": timeout})


def test_a_call_to_a_device_an_integration_serves_goes_as_a_downlink_only(tenant, device):
    integration = make_integration(tenant, "out", downlink_converter=make_downlink_converter(tenant, "enc"))
    request_id = send(tenant, device)
    assert OutgoingDownlink.objects.get(integration=integration).msg_metadata["requestUUID"] == request_id
    assert not Rpc.objects.exists()  # nothing kept for a poll
    assert poll(device).status_code == 408


def test_a_call_to_any_other_device_waits_for_its_poll_only_and_goes_once_taken(tenant, device):
    request_id = send(tenant, device)
    assert Rpc.objects.get(pk=request_id).status == "QUEUED" and not OutgoingDownlink.objects.exists()
    res = poll(device)
    assert res.status_code == 200 and res.json()["method"] == "open"
    assert not Rpc.objects.exists()  # a lightweight one-way call: done once delivered
    assert poll(device).status_code == 408


def test_a_persistent_call_sent_through_an_integration_is_never_polled(tenant, device):
    make_integration(tenant, "out", downlink_converter=make_downlink_converter(tenant, "enc"))
    rpc_id = str(uuid.uuid4())
    send(tenant, device, requestUUID=rpc_id, persistent="true", oneway="true",
         expirationTime=str(now_ms() + 600_000))
    assert Rpc.objects.get(pk=rpc_id).status == "SENT"
    assert poll(device).status_code == 408
    assert Rpc.objects.get(pk=rpc_id).status == "SENT"


def test_a_persistent_call_a_poll_took_first_is_not_sent_through_the_integration_too(tenant, device):
    """The API saves a persistent call QUEUED before the rule engine decides; a poll that takes it
    first is its one delivery."""
    make_integration(tenant, "out", downlink_converter=make_downlink_converter(tenant, "enc"))
    rpc_id = str(uuid.uuid4())
    expiration = now_ms() + 600_000
    rpc_calls.record(tenant.pk, device.pk, rpc_id, {"method": "open", "params": "{}"}, oneway=True, persistent=True,
                     expiration_time=expiration)
    assert poll(device).json()["method"] == "open"
    send(tenant, device, requestUUID=rpc_id, persistent="true", oneway="true", expirationTime=str(expiration))
    assert Rpc.objects.get(pk=rpc_id).status == "DELIVERED"
    assert not OutgoingDownlink.objects.exists()


def _row(tenant, device, *, persistent, status="QUEUED", expires_in=600_000, age_days=0, oneway=False):
    rpc = rpc_calls.record(tenant.pk, device.pk, str(uuid.uuid4()), {"method": "m", "params": "{}"}, oneway=oneway,
                           persistent=persistent, expiration_time=now_ms() + expires_in, status=status, nudge=False)
    if age_days:
        Rpc.objects.filter(pk=rpc.pk).update(created_time=now_ms() - age_days * DAY_MS)
    return uuid.UUID(str(rpc.pk))


def test_the_sweep_expires_open_calls_and_deletes_lightweight_ones(tenant, device):
    lightweight_due = _row(tenant, device, persistent=False, status="DELIVERED", expires_in=-1000)
    lightweight_open = _row(tenant, device, persistent=False)
    persistent_due = _row(tenant, device, persistent=True, expires_in=-1000)
    persistent_done = _row(tenant, device, persistent=True, status="SUCCESSFUL", expires_in=-1000)
    assert rpc_calls.sweep() == {"expired": 1, "lightweight_deleted": 1, "ttl_deleted": 0}
    left = dict(Rpc.objects.values_list("pk", "status"))
    assert lightweight_due not in left and left[lightweight_open] == "QUEUED"
    assert left[persistent_due] == "EXPIRED" and left[persistent_done] == "SUCCESSFUL"


def test_the_sweep_deletes_persistent_calls_past_the_tenant_profiles_rpc_ttl_days(tenant, other_tenant, device):
    from tenants.models import TenantProfile

    tenant.tenant_profile = TenantProfile.objects.create(
        name="RPC kept 3 days", profile_data={"configuration": {"type": "DEFAULT", "rpcTtlDays": 3}})
    tenant.save()
    old = _row(tenant, device, persistent=True, status="SUCCESSFUL", age_days=4)
    young = _row(tenant, device, persistent=True, status="SUCCESSFUL", age_days=2)
    theirs_device = make_device(other_tenant, "theirs")
    theirs_old = _row(other_tenant, theirs_device, persistent=True, status="SUCCESSFUL", age_days=400)
    assert rpc_calls.sweep()["ttl_deleted"] == 1
    assert set(Rpc.objects.values_list("pk", flat=True)) == {young, theirs_old}  # no rpcTtlDays: kept
    assert old not in set(Rpc.objects.values_list("pk", flat=True))


@pytest.mark.parametrize(("data", "days"), [
    ({"configuration": {"rpcTtlDays": 7}}, 7), ({"configuration": {"rpcTtlDays": "7"}}, 7),
    ({"configuration": {"rpcTtlDays": 0}}, 0), ({"configuration": {"rpcTtlDays": -3}}, 0),
    ({"configuration": {"rpcTtlDays": True}}, 0), ({"configuration": {}}, 0), (None, 0), ({"configuration": 5}, 0),
])
def test_rpc_ttl_days_is_read_leniently(data, days):
    assert rpc_calls.ttl_days(data) == days


def test_the_sweep_is_a_periodic_job_and_a_celery_task():
    from rulechains.tasks import sweep_rpcs

    assert "rulechains.tasks.sweep_rpcs" in {job.path for job in JOBS}
    assert beat_schedule()["rulechains.tasks.sweep_rpcs"]["task"] == sweep_rpcs.name == "rulechains.tasks.sweep_rpcs"
    assert sweep_rpcs() == {"expired": 0, "lightweight_deleted": 0, "ttl_deleted": 0}
