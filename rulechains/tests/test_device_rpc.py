"""RPC over ThingsBoard's device HTTP API (rulechains/device_rpc.py) with the REST API's server-side
calls: a long poll takes a call sent while it waits, a two-way call gets the device's reply, a
client-side call is answered by the "rpc call reply" node, and each times out, refuses bad input and
unknown tokens as ThingsBoard's transport does. Threads stand in for the device; waits are bounded
by generous timeouts, never measured. Embedded (replies in memory) and, with REDIS_URL, over Redis."""

import json
import threading
import time

import pytest
from django.test import Client

from devices.models import DeviceCredentials
from rulechains import device_rpc, nodes, rpc_calls
from rulechains.models import Rpc
from rulechains.tests.helpers import install_root, msg, node, run_node
from tbproject import waits
from tbproject.clock import now_ms
from tbproject.testing.factories import make_asset, make_device

pytestmark = pytest.mark.django_db(transaction=True)  # the device's thread sees what the API committed

REPLY_NODE = "org.thingsboard.rule.engine.rpc.TbSendRPCReplyNode"
LONG = 30_000  # ms: a bound no passing test comes near


@pytest.fixture
def device(tenant):
    return make_device(tenant, "valve-7")


def token(device) -> str:
    return DeviceCredentials.objects.get(device=device).credentials_id


def in_thread(fn):
    """Start ``fn`` in a thread; returns (thread, result dict with 'res' or 'error')."""
    result = {}

    def run():
        try:
            result["res"] = fn()
        except BaseException as e:  # handed to the test
            result["error"] = e

    thread = threading.Thread(target=run)
    thread.start()
    return thread, result


def wait_until_polling(device, mode, rounds=3000):
    """In memory, until the device's poll waits (a bound on checks, not a time); over Redis the
    order does not matter (a call sent first is taken from the database)."""
    if mode == "redis":
        return
    for _ in range(rounds):
        if waits.waiting(rpc_calls.poll_key(device.pk)):
            return
        time.sleep(0.01)
    raise AssertionError("the device never polled")


def poll(device, timeout=LONG):
    return Client().get(f"/api/v1/{token(device)}/rpc", {"timeout": timeout})


def test_a_long_poll_gets_a_call_sent_while_it_waits(api, device, mode):
    thread, got = in_thread(lambda: poll(device))
    try:
        wait_until_polling(device, mode)
        res = api.post(f"/api/rpc/oneway/{device.pk}", {"method": "setGpio", "params": {"pin": 7}}, format="json")
        assert res.status_code == 200, res.content
    finally:
        thread.join(60)
    assert got["res"].status_code == 200
    call = got["res"].json()
    assert call["method"] == "setGpio" and call["params"] == {"pin": 7} and isinstance(call["id"], int)
    assert not Rpc.objects.exists()  # a lightweight one-way call is done once taken


def test_a_call_sent_before_the_poll_waits_for_it(api, device, mode):
    assert api.post(f"/api/rpc/oneway/{device.pk}", {"method": "reboot"}, format="json").status_code == 200
    res = poll(device, 1000)
    assert res.status_code == 200 and res.json()["method"] == "reboot" and res.json()["params"] == {}
    assert poll(device, 50).status_code == 408  # taken once only


@pytest.mark.parametrize("path", ["/api/rpc/twoway", "/api/plugins/rpc/twoway"])
def test_a_two_way_call_answers_with_the_devices_reply(api, device, mode, path):
    def act_as_device():
        call = poll(device).json()
        assert call["method"] == "getTemp"
        return Client().post(f"/api/v1/{token(device)}/rpc/{call['id']}", {"temp": 21.5},
                             content_type="application/json")

    thread, replied = in_thread(act_as_device)
    try:
        res = api.post(f"{path}/{device.pk}", {"method": "getTemp", "params": {}, "timeout": LONG}, format="json")
    finally:
        thread.join(60)
    assert "error" not in replied, replied.get("error")
    assert replied["res"].status_code == 200
    assert res.status_code == 200 and res.json() == {"temp": 21.5}
    assert not Rpc.objects.exists()


@pytest.mark.parametrize(("path", "status"), [("/api/rpc/twoway", 504), ("/api/plugins/rpc/twoway", 408)])
def test_a_two_way_call_nobody_answers_times_out_as_in_thingsboard(api, device, path, status):
    body = {"method": "getTemp", "params": {}, "expirationTime": now_ms() + 300}  # overrides the 5 s minimum
    res = api.post(f"{path}/{device.pk}", body, format="json")
    assert res.status_code == status and res.json()["status"] == status and "did not reply" in res.json()["message"]


def test_a_poll_without_a_call_is_a_408_with_an_empty_body(device):
    res = poll(device, 50)
    assert res.status_code == 408 and res.content == b""


def test_unknown_tokens_are_401_with_an_empty_body(db):
    client = Client()
    for res in (client.get("/api/v1/nobody/rpc", {"timeout": 10}),
                client.post("/api/v1/nobody/rpc", {"method": "m", "params": {}}, content_type="application/json"),
                client.post("/api/v1/nobody/rpc/1", {"r": 1}, content_type="application/json")):
        assert res.status_code == 401 and res.content == b""


@pytest.mark.parametrize(("method", "suffix", "body", "message"), [
    ("get", "rpc?timeout=soon", None, "Invalid timeout"),
    ("get", "rpc?timeout=-5", None, "Invalid timeout"),
    ("post", "rpc", "{not json", "Invalid JSON"),
    ("post", "rpc", "[1]", "JSON object"),
    ("post", "rpc", '{"params": {}}', "'method'"),
    ("post", "rpc", '{"method": "getTime"}', "'params'"),
    ("post", "rpc/seven", '{"r": 1}', "Invalid request id"),
    ("post", "rpc/7", "{not json", "Invalid JSON"),
])
def test_bad_requests_are_400s(device, method, suffix, body, message):
    url = f"/api/v1/{token(device)}/{suffix}"
    client = Client()
    res = client.get(url) if method == "get" else client.post(url, body, content_type="application/json")
    assert res.status_code == 400 and message in res.json()["message"], res.content


def test_a_reply_to_an_unknown_call_is_dropped(device):
    res = Client().post(f"/api/v1/{token(device)}/rpc/12345", {"late": True}, content_type="application/json")
    assert res.status_code == 200 and not Rpc.objects.exists()


def client_rpc_root(tenant, reply=True):
    """ThingsBoard's pieces: the switch's "RPC Request from Device", a script answering, and the rpc
    call reply node with its own default configuration JSON."""
    script = ("return {msg: {time: 1631881236974, asked: msg.method, params: msg.params, "
              "keys: Object.keys(metadata).sort()}, metadata: metadata, msgType: msgType};")
    node_list = [node(nodes.SWITCH, "Message Type Switch", version=0),
                 node(nodes.SCRIPT_TRANSFORM, "Answer", scriptLang="JS", jsScript=script)]
    connections = [(0, 1, "RPC Request from Device")]
    if reply:
        node_list.append(node(REPLY_NODE, "RPC Call Reply", serviceIdMetaDataAttribute="serviceId",
                              sessionIdMetaDataAttribute="sessionId", requestIdMetaDataAttribute="requestId"))
        connections.append((1, 2, "Success"))
    return install_root(tenant, node_list, connections)


def test_a_client_side_rpc_is_answered_by_the_rpc_call_reply_node(tenant, device, mode):
    client_rpc_root(tenant)
    res = Client().post(f"/api/v1/{token(device)}/rpc", {"method": "getCurrentTime", "params": {"tz": "UTC"}},
                        content_type="application/json")
    assert res.status_code == 200, res.content
    assert res.json() == {"time": 1631881236974, "asked": "getCurrentTime", "params": {"tz": "UTC"},
                          "keys": ["deviceName", "deviceType", "requestId", "serviceId", "sessionId"]}


def test_a_client_side_rpc_nobody_answers_is_a_408(tenant, device, monkeypatch):
    client_rpc_root(tenant, reply=False)
    monkeypatch.setattr(device_rpc, "CLIENT_RPC_TIMEOUT_MS", 50)
    res = Client().post(f"/api/v1/{token(device)}/rpc", {"method": "getCurrentTime", "params": {}},
                        content_type="application/json")
    assert res.status_code == 408 and res.content == b""


@pytest.mark.parametrize(("metadata", "reason"), [
    ({"serviceId": "s", "sessionId": "x"}, "Request id is not present in the metadata!"),
    ({"requestId": "1", "sessionId": "x"}, "Service id is not present in the metadata!"),
    ({"requestId": "1", "serviceId": "s"}, "Session id is not present in the metadata!"),
])
def test_the_reply_node_fails_with_thingsboards_reasons(tenant, device, metadata, reason):
    [out] = run_node(tenant, REPLY_NODE, [msg(tenant, device, "TO_SERVER_RPC_REQUEST", {"a": 1}, metadata)])[0]
    assert (out.relation, out.error) == ("Failure", reason)
    full = {"requestId": "1", "serviceId": "s", "sessionId": "x"}
    [out] = run_node(tenant, REPLY_NODE, [msg(tenant, device, "TO_SERVER_RPC_REQUEST", "", full)])[0]
    assert (out.relation, out.error) == ("Failure", "Request body is empty!")
    asset = make_asset(tenant, "pump")
    [out] = run_node(tenant, REPLY_NODE, [msg(tenant, asset, "TO_SERVER_RPC_REQUEST", {"a": 1}, full, kind="ASSET")])[0]
    assert (out.relation, out.error) == ("Failure", "Message originator is not a device entity!")
    [out] = run_node(tenant, REPLY_NODE, [msg(tenant, device, "TO_SERVER_RPC_REQUEST", {"a": 1}, full)])[0]
    assert out.relation == "Success"


def test_the_persistent_call_moves_queued_delivered_successful(api, device):
    res = api.post(f"/api/rpc/twoway/{device.pk}", {"method": "setMode", "params": {"m": 2}, "persistent": True,
                                                    "timeout": LONG, "additionalInfo": {"by": "test"}}, format="json")
    assert res.status_code == 200
    rpc_id = res.json()["rpcId"]
    state = api.get(f"/api/rpc/persistent/{rpc_id}").json()
    assert state["status"] == "QUEUED" and state["request"]["body"] == {"method": "setMode", "params": '{"m":2}'}
    assert state["id"] == {"entityType": "RPC", "id": rpc_id} and state["additionalInfo"] == {"by": "test"}
    call = poll(device, 1000).json()
    assert call["params"] == {"m": 2}
    assert api.get(f"/api/rpc/persistent/{rpc_id}").json()["status"] == "DELIVERED"
    reply = Client().post(f"/api/v1/{token(device)}/rpc/{call['id']}", {"done": True}, content_type="application/json")
    assert reply.status_code == 200
    state = api.get(f"/api/rpc/persistent/{rpc_id}").json()
    assert (state["status"], state["response"]) == ("SUCCESSFUL", {"done": True})


def test_json_of_a_device_call_keeps_params_as_given(device, tenant):
    rpc = Rpc(tenant=tenant, device=device, request_id=3, request={"method": "m", "params": "plain text"},
              expiration_time=now_ms())
    assert rpc_calls.device_call(rpc) == {"id": 3, "method": "m", "params": "plain text"}
    assert json.loads(json.dumps(rpc_calls.render(rpc)))["request"]["body"]["params"] == "plain text"
