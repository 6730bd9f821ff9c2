"""ThingsBoard's REST API to the rule engine (``POST /api/rule-engine/...``) through the root chain:
a rest call reply node's data is the answer, no reply is a 408 after the (short) timeout, and bad
input or another's entity is a 4xx. Each runs in embedded mode (replies in memory) and, where
REDIS_URL is set (the PostgreSQL/Redis leg of CI), with the replies crossing real Redis."""

import threading
import time
import uuid

import pytest

from rulechains import nodes, replies
from rulechains.api import rule_engine
from rulechains.tests.helpers import install_root, node
from tbproject import waits
from tbproject.testing.api import assert_error
from tbproject.testing.factories import make_asset, make_device, make_group
from tbproject.testing.fixtures import api_as

pytestmark = pytest.mark.django_db

REPLY = "org.thingsboard.rule.engine.rest.TbSendRestApiCallReplyNode"
ECHO = ("return {msg: {echo: msg, from: '%s', type: msgType, keys: Object.keys(metadata).sort()}, "
        "metadata: metadata, msgType: msgType};")


@pytest.fixture
def replying_root(tenant):
    """ThingsBoard's switch sends REST_API_REQUEST by "Other"; an entity type switch tells entity
    from user calls, a script answers what it got, and the rest call reply node sends it back."""
    return install_root(tenant, [
        node(nodes.SWITCH, "Message Type Switch", version=0),
        node("org.thingsboard.rule.engine.filter.TbOriginatorTypeSwitchNode", "Entity type switch"),
        node(nodes.SCRIPT_TRANSFORM, "Entity answer", scriptLang="JS", jsScript=ECHO % "entity"),
        node(nodes.SCRIPT_TRANSFORM, "User answer", scriptLang="JS", jsScript=ECHO % "user"),
        node(REPLY, "Reply", serviceIdMetaDataAttribute="serviceId", requestIdMetaDataAttribute="requestUUID"),
    ], [(0, 1, "Other"), *((1, 2, kind) for kind in ("Device", "Asset", "Customer", "Tenant", "Entity group")),
        (1, 3, "User"), (2, 4, "Success"), (3, 4, "Success")])


@pytest.fixture
def device(tenant):
    return make_device(tenant, "thermo-1")


def post(client, path, body='{"temp": 21.5}', content_type="application/json"):
    return client.post(path, body, content_type=content_type)


def test_the_reply_nodes_data_is_the_answer(api, device, replying_root, mode):
    res = post(api, f"/api/rule-engine/DEVICE/{device.pk}")
    assert res.status_code == 200, res.content
    assert res["Content-Type"] == "application/json"
    assert res.json() == {"echo": {"temp": 21.5}, "from": "entity", "type": "REST_API_REQUEST",
                          "keys": ["expirationTime", "requestUUID", "serviceId"]}


def test_the_calling_user_is_the_originator_of_a_call_without_an_entity(api, replying_root, mode):
    res = post(api, "/api/rule-engine/", "[1, 2]", "text/plain")  # the generated client's content type
    assert res.status_code == 200, res.content
    assert res.json()["from"] == "user" and res.json()["echo"] == [1, 2]
    assert post(api, "/api/rule-engine").json()["echo"] == {"temp": 21.5}  # without the trailing slash too


def test_a_timeout_and_a_queue_name_may_be_given(api, device, replying_root, mode):
    for path in (f"/api/rule-engine/DEVICE/{device.pk}/2000", f"/api/rule-engine/DEVICE/{device.pk}/Main/2000"):
        res = post(api, path)
        assert res.status_code == 200 and res.json()["echo"] == {"temp": 21.5}


def test_without_a_reply_node_the_call_answers_408_after_its_timeout(api, tenant, device, mode):
    install_root(tenant, [node(nodes.SWITCH, "Message Type Switch", version=0)], [])
    assert_error(post(api, f"/api/rule-engine/DEVICE/{device.pk}/100"), 408, "no reply within 100 ms")


def test_a_customer_user_calls_with_its_customers_entities_only(customer_api, tenant, customer, customer_user,
                                                                replying_root, mode):
    own = make_asset(tenant, "pump-1", customer=customer)
    res = post(customer_api, f"/api/rule-engine/ASSET/{own.pk}")
    assert res.status_code == 200 and res.json()["from"] == "entity"
    assert post(customer_api, f"/api/rule-engine/USER/{customer_user.pk}").json()["from"] == "user"
    for kind, pk in (("DEVICE", make_device(tenant, "not-theirs").pk), ("TENANT", tenant.pk),
                     ("ENTITY_GROUP", make_group(tenant, "g").pk), ("CUSTOMER", uuid.uuid4())):
        assert_error(post(customer_api, f"/api/rule-engine/{kind}/{pk}"), 404, "is not found")


def test_another_tenants_entities_are_not_found(mallory_api, tenant, tenant_admin, device, replying_root):
    for kind, pk in (("DEVICE", device.pk), ("USER", tenant_admin.pk), ("TENANT", tenant.pk),
                     ("ENTITY_GROUP", make_group(tenant, "g").pk)):
        assert_error(post(mallory_api, f"/api/rule-engine/{kind}/{pk}/1000"), 404, str(pk))


def test_a_tenant_admin_may_name_its_tenant_user_and_groups(api, tenant, tenant_admin, replying_root, mode):
    for kind, pk in (("TENANT", tenant.pk), ("USER", tenant_admin.pk), ("ENTITY_GROUP", make_group(tenant, "g").pk)):
        res = post(api, f"/api/rule-engine/{kind}/{pk}/2000")
        assert res.status_code == 200 and res.json()["echo"] == {"temp": 21.5}


@pytest.mark.parametrize(("body", "content_type", "message"), [
    ("{not json", "application/json", "not JSON"),
    ("", "application/json", "must be a JSON object or array"),
    ("42", "text/plain", "must be a JSON object or array"),
    ('"text"', "application/json", "must be a JSON object or array"),
    ('{"t": NaN}', "application/json", "NaN is not JSON"),
    (b"\xff\xfe", "text/plain", "not JSON"),
])
def test_a_body_that_is_not_a_json_message_is_a_400(api, device, replying_root, body, content_type, message):
    assert_error(post(api, f"/api/rule-engine/DEVICE/{device.pk}", body, content_type), 400, message)


@pytest.mark.parametrize("timeout", ["abc", "1.5", "2147483648", "1e3", "٣"])
def test_a_bad_timeout_is_a_400(api, device, timeout):
    assert_error(post(api, f"/api/rule-engine/DEVICE/{device.pk}/{timeout}"), 400, "Invalid timeout")


def test_an_unsupported_entity_type_or_a_bad_id_is_a_400(api, device):
    assert_error(post(api, f"/api/rule-engine/DASHBOARD/{device.pk}"), 400, "Unsupported entity type: DASHBOARD")
    assert_error(post(api, "/api/rule-engine/DEVICE/not-a-uuid"), 400, "Invalid UUID string")


def test_a_system_administrator_has_no_rule_engine_to_call(sysadmin, anon):
    assert post(api_as(sysadmin), "/api/rule-engine/").status_code == 403
    assert post(anon, "/api/rule-engine/").status_code == 401


def test_a_body_nested_past_the_parsers_stack_is_a_400_not_a_500(api, device):
    assert_error(post(api, f"/api/rule-engine/DEVICE/{device.pk}", "[" * 100_000), 400, "not JSON")


@pytest.mark.parametrize(("raw", "timeout_ms"), [
    (None, replies.DEFAULT_TIMEOUT_MS), ("1", 1), ("2000", 2000), ("+2000", 2000), ("60001", 60_001),
    ("300001", replies.MAX_TIMEOUT_MS), ("2147483647", replies.MAX_TIMEOUT_MS),  # ThingsBoard takes any int
    ("0", replies.DEFAULT_TIMEOUT_MS), ("-5", replies.DEFAULT_TIMEOUT_MS), ("-2147483648", replies.DEFAULT_TIMEOUT_MS),
])
def test_any_integer_timeout_is_taken_within_the_bounds(raw, timeout_ms):
    assert rule_engine._timeout(raw) == timeout_ms


@pytest.mark.parametrize("timeout", ["0", "-5", "300001"])
def test_a_timeout_out_of_bounds_still_gets_the_reply(api, device, replying_root, timeout):
    res = post(api, f"/api/rule-engine/DEVICE/{device.pk}/{timeout}")
    assert res.status_code == 200 and res.json()["echo"] == {"temp": 21.5}


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("cap", ["MAX_WAITING_REQUESTS_PER_TENANT", "MAX_WAITING_REQUESTS"])
def test_past_the_waiting_calls_cap_a_call_answers_429(api, tenant, tenant_admin, device, settings, cap):
    """With a cap at 1: while one call of the tenant waits (no reply node), another answers 429;
    once the first has its answer, a call goes through again."""
    settings.REDIS_URL = ""
    setattr(settings, cap, 1)
    install_root(tenant, [node(nodes.SWITCH, "Message Type Switch", version=0)], [])
    first, other_client = {}, api_as(tenant_admin)
    waiting = threading.Thread(target=lambda: first.update(
        res=post(other_client, f"/api/rule-engine/DEVICE/{device.pk}/60000")))
    waiting.start()
    try:
        key = wait_for_slot(tenant)
        res = post(api, f"/api/rule-engine/DEVICE/{device.pk}/100")
        assert_error(res, 429, "Too many requests for current tenant!")
        assert res.json()["errorCode"] == 33
    finally:
        waits.notify(key, '{"late": true}')
        waiting.join(60)
    assert first["res"].status_code == 200 and first["res"].json() == {"late": True}
    assert waits.count() == 0  # the count went back
    assert_error(post(api, f"/api/rule-engine/DEVICE/{device.pk}/10"), 408, "no reply within 10 ms")


def wait_for_slot(tenant, rounds=6000):
    """The key of the tenant's call waiting in memory, once it waits (a bound on polls, not a time)."""
    for _ in range(rounds):
        with waits._lock:
            found = [k for k in waits._waiters if k.startswith(f"reply:{tenant.pk}:")]
        if found and waits.count(tenant.pk):
            return found[0]
        time.sleep(0.01)
    raise AssertionError("the first call never waited")
