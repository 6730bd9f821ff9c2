"""Server-side RPC input a database (PostgreSQL's bigint, text and jsonb) cannot keep is a 400, never a
500 nor a failed rule-engine batch: expirationTime/timeout past a year, NUL characters and lone
surrogates, oversize calls. Also: rpcStatus=DELETED reads an empty page, the "rpc call request"
node writes a batch's rows in one INSERT, and empty device answers carry no Content-Type."""

import json
import uuid

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from devices.models import DeviceCredentials
from rulechains import device_rpc, nodes
from rulechains.models import Rpc
from rulechains.rpc_models import RpcStatus
from rulechains.tests.helpers import msg, run_node
from tbproject.clock import now_ms
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_device

RPC = "RPC_CALL_FROM_SERVER_TO_DEVICE"
YEAR_MS = 365 * 86_400_000

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def embedded(settings):
    settings.REDIS_URL = ""


@pytest.fixture
def device(tenant):
    return make_device(tenant, "rpc-bounds")


def token(device) -> str:
    return DeviceCredentials.objects.get(device=device).credentials_id


def call(api, device, kind="oneway", **body):
    return api.post(f"/api/rpc/{kind}/{device.pk}", json.dumps({"method": "m", "params": {}, **body}),
                    content_type="application/json")


@pytest.mark.parametrize("persistent", [True, False])
@pytest.mark.parametrize("field, value", [
    ("expirationTime", 2**63), ("expirationTime", 2**64 + 5), ("timeout", 2**63), ("timeout", -1),
    ("expirationTime", "soon"),
])
def test_it_refuses_times_a_long_column_cannot_keep_with_a_400(api, device, persistent, field, value):
    res = call(api, device, persistent=persistent, **{field: value})
    assert_error(res, 400, field)
    assert not Rpc.objects.exists()


def test_it_refuses_an_expiration_more_than_a_year_ahead_and_takes_one_within(api, device):
    assert_error(call(api, device, persistent=True, expirationTime=now_ms() + 2 * YEAR_MS), 400, "a year")
    assert_error(call(api, device, persistent=True, timeout=YEAR_MS + 1), 400, "timeout")
    assert call(api, device, persistent=True, expirationTime=now_ms() + YEAR_MS - 60_000).status_code == 200
    assert call(api, device, persistent=True, timeout=YEAR_MS).status_code == 200


@pytest.mark.parametrize("persistent", [True, False])
@pytest.mark.parametrize("field, body", [
    ("method", '"a\\u0000b"'), ("params", '{"x": "a\\u0000b"}'), ("params", '"\\u0000"'),
    ("additionalInfo", '{"k\\u0000": 1}'), ("params", '{"x": "a\\ud800b"}'),
])
def test_it_refuses_text_no_column_can_hold_with_a_400(api, device, persistent, field, body):
    fields = {"method": '"m"', "params": "{}", field: body}
    text = "{" + ", ".join(f'"{k}": {v}' for k, v in fields.items()) + f', "persistent": {str(persistent).lower()}}}'
    res = api.post(f"/api/rpc/oneway/{device.pk}", text, content_type="application/json")
    assert_error(res, 400, field)
    assert not Rpc.objects.exists()


def test_it_caps_the_size_of_a_call(api, device, settings):
    settings.RPC_MAX_PARAMS_BYTES = 10_000
    assert_error(call(api, device, persistent=True, params={"blob": "x" * 10_000}), 400, "RPC_MAX_PARAMS_BYTES")
    assert_error(call(api, device, persistent=True, additionalInfo={"blob": "x" * 10_000}), 400, "too large")
    assert_error(call(api, device, persistent=False, params="x" * 10_000), 400, "too large")
    assert call(api, device, persistent=True, params={"blob": "x" * 9_000}).status_code == 200
    assert Rpc.objects.count() == 1


def test_the_default_cap_refuses_the_200_kb_rows_a_customer_user_stored(api, device):
    assert_error(call(api, device, persistent=True, params={"blob": "x" * 200_000}), 400, "too large")


def test_a_device_reply_with_a_nul_character_is_a_400_and_the_call_stays_open(api, device):
    rpc_id = call(api, device, "twoway", persistent=True, timeout=600_000).json()["rpcId"]
    taken = Client().get(f"/api/v1/{token(device)}/rpc", {"timeout": 50})
    assert taken.status_code == 200
    res = Client().post(f"/api/v1/{token(device)}/rpc/{taken.json()['id']}", '{"r": "a\\u0000b"}',
                        content_type="application/json")
    assert res.status_code == 400
    assert Rpc.objects.get(pk=rpc_id).status == RpcStatus.DELIVERED


def test_rpc_status_deleted_is_an_empty_page_and_an_unknown_status_a_400(api, device):
    call(api, device, persistent=True)
    path = f"/api/rpc/persistent/device/{device.pk}"
    res = api.get(path, {"pageSize": 10, "page": 0, "rpcStatus": "DELETED"})
    assert res.status_code == 200
    assert res.json() == {"data": [], "totalPages": 0, "totalElements": 0, "hasNext": False}
    assert_error(api.get(path, {"pageSize": 10, "page": 0, "rpcStatus": "GONE"}), 400, "DELETED")


# --- the "rpc call request" node ------------------------------------------------------------------

def rpc_msg(tenant, device, data=None, **metadata):
    return msg(tenant, device, RPC, {"method": "open", "params": {}} if data is None else data, metadata=metadata)


def test_the_node_bounds_an_expiration_a_script_set_and_the_batch_goes_on(tenant, device):
    other = make_device(tenant, "rpc-bounds-2")
    outs = run_node(tenant, nodes.RPC_CALL_REQUEST, [rpc_msg(tenant, device, expirationTime="9" * 30),
                                                     rpc_msg(tenant, other, expirationTime="9" * 5000),
                                                     rpc_msg(tenant, other)], timeoutInSeconds=60)
    assert [out.relation for [out] in outs] == ["Success"] * 3
    assert Rpc.objects.count() == 3
    assert max(Rpc.objects.values_list("expiration_time", flat=True)) <= now_ms() + YEAR_MS


def test_the_node_fails_only_the_message_whose_text_cannot_be_kept(tenant, device):
    outs = run_node(tenant, nodes.RPC_CALL_REQUEST, [rpc_msg(tenant, device, {"method": "a\x00b", "params": {}}),
                                                     rpc_msg(tenant, device, {"method": "ok", "params": "\x00"}),
                                                     rpc_msg(tenant, device)], timeoutInSeconds=60)
    assert [out.relation for [out] in outs] == ["Failure", "Failure", "Success"]
    assert "NUL" in outs[0][0].error
    assert list(Rpc.objects.values_list("request__method", flat=True)) == ["open"]


def test_the_node_writes_a_batchs_calls_in_one_insert(tenant):
    devices = [make_device(tenant, f"bulk-{i}") for i in range(5)]
    with CaptureQueriesContext(connection) as queries:
        outs = run_node(tenant, nodes.RPC_CALL_REQUEST, [rpc_msg(tenant, d) for d in devices], timeoutInSeconds=60)
    assert [out.relation for [out] in outs] == ["Success"] * 5
    table = Rpc._meta.db_table
    inserts = [q["sql"] for q in queries.captured_queries
               if q["sql"].startswith("INSERT") and f'INTO "{table}"' in q["sql"]]
    assert len(inserts) == 1
    assert Rpc.objects.filter(status=RpcStatus.QUEUED).count() == 5


def test_the_node_keeps_a_call_the_api_saved_and_fails_an_id_of_another_tenant(tenant, other_tenant, device, api):
    rpc_id = call(api, device, persistent=True, timeout=600_000).json()["rpcId"]
    theirs = Rpc.objects.create(tenant=other_tenant, device=make_device(other_tenant, "theirs"), request_id=5,
                                request={"method": "x", "params": "{}"}, expiration_time=now_ms() + 60_000)
    outs = run_node(tenant, nodes.RPC_CALL_REQUEST, [
        rpc_msg(tenant, device, requestUUID=rpc_id, persistent="true"),
        rpc_msg(tenant, device, requestUUID=str(theirs.pk)),
        rpc_msg(tenant, device, requestUUID=str(uuid.uuid4()).upper())], timeoutInSeconds=60)
    assert [out.relation for [out] in outs] == ["Success", "Failure", "Success"]
    assert "in use" in outs[1][0].error
    assert Rpc.objects.get(pk=rpc_id).status == RpcStatus.QUEUED
    assert Rpc.objects.get(pk=theirs.pk).tenant == other_tenant
    assert Rpc.objects.filter(tenant=tenant).count() == 2


def test_the_device_list_has_its_own_index_and_the_device_no_plain_one():
    indexes = {tuple(index.fields) for index in Rpc._meta.indexes}
    assert ("device", "created_time") in indexes
    assert not Rpc._meta.get_field("device").db_index


# --- empty answers of the device API ------------------------------------------------------------------

def test_empty_device_answers_carry_no_content_type(device, monkeypatch):
    client, tok = Client(), token(device)
    poll = client.get(f"/api/v1/{tok}/rpc", {"timeout": 1})
    updates = client.get(f"/api/v1/{tok}/attributes/updates", {"timeout": 1})
    reply = client.post(f"/api/v1/{tok}/rpc/12345", {"r": 1}, content_type="application/json")
    monkeypatch.setattr(device_rpc, "CLIENT_RPC_TIMEOUT_MS", 1)
    client_rpc = client.post(f"/api/v1/{tok}/rpc", {"method": "getTime", "params": {}},
                             content_type="application/json")
    for res, status in ((poll, 408), (updates, 408), (reply, 200), (client_rpc, 408)):
        assert (res.status_code, res.content) == (status, b"")
        assert not res.has_header("Content-Type"), res.status_code
