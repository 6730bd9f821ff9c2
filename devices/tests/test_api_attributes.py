"""/api/plugins/telemetry attributes: saves by scope (three path forms), reads, key lists, deletes.

Every test runs twice: through Django (the reference view) and through the lean app the web process
answers JWT attribute saves with (devices/api/lean_app.py), which must give the same answers.
"""

import json

import pytest

from devices import services
from devices.attributes import get_attributes, save_attributes
from devices.choices import AttributeScope
from tbproject.testing import lean
from tbproject.testing.factories import make_asset, make_customer, make_device

# every test twice: through Django and through the lean app (tbproject/testing/lean.py)
served_by, api, mallory_api, customer_api = lean.served_by, lean.api, lean.mallory_api, lean.customer_api

BASE = "/api/plugins/telemetry"
SERVER, SHARED, CLIENT = AttributeScope.SERVER_SCOPE, AttributeScope.SHARED_SCOPE, AttributeScope.CLIENT_SCOPE
VALUES = {"model": "A", "on": False, "ratio": 42.2, "count": 73, "cfg": {"someArray": [1, 2, 3]}}


@pytest.fixture
def device(tenant, customer):
    return make_device(tenant, "thermo-1", customer=customer)


@pytest.fixture
def foreign_device(other_tenant):
    return make_device(other_tenant, "mallory-1")


@pytest.fixture
def saved(monkeypatch):
    """Calls of the on_attributes_saved hook."""
    calls = []
    monkeypatch.setattr(services, "on_attributes_saved", lambda *args: calls.append(args))
    return calls


def entity_url(entity, tail, entity_type="DEVICE") -> str:
    return f"{BASE}/{entity_type}/{entity.pk}/{tail}"


def post_text(client, path, body):
    return client.post(path, body if isinstance(body, str) else json.dumps(body), content_type="text/plain")


def assert_error(res, status):
    assert res.status_code == status, res.content
    body = res.json()
    assert body["status"] == status and body["message"] and isinstance(body["errorCode"], int)
    return body["message"]


def stored(entity, scope=None) -> dict:
    return {(a["scope"], a["key"]): a["value"] for a in get_attributes(entity.pk, scope)}


# --- saves ------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["attributes/{scope}", "{scope}", "device"])
@pytest.mark.parametrize("scope", [SERVER, SHARED])
def test_it_saves_attributes_through_each_path_form_with_text_plain(api, device, saved, form, scope):
    path = f"{BASE}/{device.pk}/{scope}" if form == "device" else entity_url(device, form.format(scope=scope))
    res = post_text(api, path, VALUES)
    assert res.status_code == 200 and res.content == b""
    assert stored(device) == {(scope, k): v for k, v in VALUES.items()}
    assert len(saved) == 1
    assert getattr(api, "served", 1) == 1  # the lean variant answered it itself
    entity, hook_scope, values = saved[0]
    assert entity.pk == device.pk and hook_scope == scope and values == VALUES


def test_it_saves_with_application_json_and_overwrites_keys(api, device):
    save_attributes(device.pk, SERVER, {"model": "old", "keep": 1}, ts=1)
    res = api.post(entity_url(device, f"attributes/{SERVER}"), {"model": "new"}, format="json")
    assert res.status_code == 200
    attrs = {a["key"]: a for a in get_attributes(device.pk, SERVER)}
    assert attrs["model"]["value"] == "new" and attrs["model"]["lastUpdateTs"] > 1
    assert attrs["keep"]["value"] == 1


def test_it_saves_server_attributes_on_assets_and_customers(api, tenant, customer):
    asset = make_asset(tenant)
    assert post_text(api, entity_url(asset, f"attributes/{SERVER}", "ASSET"), {"floor": 3}).status_code == 200
    assert post_text(api, entity_url(customer, f"{SERVER}", "CUSTOMER"), {"tier": "gold"}).status_code == 200
    assert stored(asset) == {(SERVER, "floor"): 3} and stored(customer) == {(SERVER, "tier"): "gold"}


def test_it_keeps_shared_attributes_to_devices_and_client_attributes_to_the_device(api, tenant, device, saved):
    asset = make_asset(tenant)
    assert "devices only" in assert_error(post_text(api, entity_url(asset, f"attributes/{SHARED}", "ASSET"),
                                                    {"a": 1}), 400)
    assert "CLIENT_SCOPE" in assert_error(post_text(api, entity_url(device, f"attributes/{CLIENT}"), {"a": 1}), 400)
    assert "CLIENT_SCOPE" in assert_error(post_text(api, f"{BASE}/{device.pk}/{CLIENT}", {"a": 1}), 400)
    assert stored(asset) == {} and stored(device) == {} and saved == []


@pytest.mark.parametrize("body, fragment", [
    ("{oops", "Invalid request body"),
    ("[]", "must be a JSON object"),
    ('[{"a": 1}]', "must be a JSON object"),
    ("7", "must be a JSON object"),
    ("{}", "No attributes data"),
    ('{"": 1}', "Key must not be empty"),
    ('{"a": 1, " ": 2}', "Key must not be empty"),
    ('{"a": null}', "must not be null"),
    ('{"a": "x\\u0000"}', "NUL character"),
    ('{"a": {"b": "\\udfff"}}', "not valid Unicode"),
    ('{"a": 1e999}', "not a finite number"),
])
def test_it_refuses_bad_bodies_and_saves_nothing(api, device, saved, body, fragment):
    res = post_text(api, entity_url(device, f"attributes/{SERVER}"), body)
    assert fragment in assert_error(res, 400)
    assert stored(device) == {} and saved == []


def test_it_refuses_an_unknown_scope(api, device):
    for path in (entity_url(device, "attributes/PUBLIC_SCOPE"), entity_url(device, "PUBLIC_SCOPE"),
                 f"{BASE}/{device.pk}/PUBLIC_SCOPE"):
        assert "Invalid attribute scope" in assert_error(post_text(api, path, {"a": 1}), 400)
    assert "Invalid attribute scope" in assert_error(api.get(entity_url(device, "values/attributes/NOPE")), 400)
    assert "Invalid attribute scope" in assert_error(api.delete(f"{BASE}/{device.pk}/NOPE?keys=a"), 400)
    assert stored(device) == {}


def test_it_answers_413_for_an_oversize_body(api, device, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    res = post_text(api, entity_url(device, f"attributes/{SERVER}"), {"blob": "x" * 2000})
    assert_error(res, 413)
    assert stored(device) == {}


def test_it_answers_404_for_foreign_and_unknown_entities(api, mallory_api, device, foreign_device, saved):
    assert_error(post_text(api, entity_url(foreign_device, f"attributes/{SERVER}"), {"a": 1}), 404)
    assert_error(post_text(api, f"{BASE}/{foreign_device.pk}/{SERVER}", {"a": 1}), 404)
    assert_error(post_text(mallory_api, entity_url(device, SERVER), {"a": 1}), 404)
    assert_error(mallory_api.get(entity_url(device, "values/attributes")), 404)
    assert_error(mallory_api.delete(f"{BASE}/{device.pk}/{SERVER}?keys=a"), 404)
    assert_error(api.get(entity_url(device, "values/attributes", "CUSTOMER")), 404)
    assert stored(device) == {} and stored(foreign_device) == {} and saved == []


def test_a_customer_user_may_only_touch_their_own_customers_entities(customer_api, tenant, device, customer):
    assert post_text(customer_api, f"{BASE}/{device.pk}/{SHARED}", {"target": 21}).status_code == 200
    assert customer_api.get(entity_url(customer, "values/attributes", "CUSTOMER")).status_code == 200
    other = make_device(tenant, "other", customer=make_customer(tenant))
    assert_error(post_text(customer_api, f"{BASE}/{other.pk}/{SHARED}", {"target": 21}), 404)
    assert_error(customer_api.get(entity_url(other, "keys/attributes")), 404)
    assert stored(device) == {(SHARED, "target"): 21} and stored(other) == {}


def test_it_answers_400_for_a_bad_uuid_or_entity_type(api, device):
    assert "Invalid UUID" in assert_error(post_text(api, f"{BASE}/nope/{SERVER}", {"a": 1}), 400)
    assert "Unsupported entity type" in assert_error(api.get(entity_url(device, "values/attributes", "TENANT")), 400)


# --- reads ------------------------------------------------------------------------------------


@pytest.fixture
def with_attributes(device):
    save_attributes(device.pk, SERVER, {"model": "A", "active": True}, ts=1000)
    save_attributes(device.pk, SHARED, {"target": 21.5, "cfg": {"mode": "eco"}}, ts=2000)
    save_attributes(device.pk, CLIENT, {"fw": "1.0"}, ts=3000)
    return device


def test_it_reads_attributes_of_all_scopes_with_json_types(api, with_attributes):
    res = api.get(entity_url(with_attributes, "values/attributes"))
    assert res.status_code == 200
    assert res.json() == [
        {"key": "active", "value": True, "lastUpdateTs": 1000},
        {"key": "cfg", "value": {"mode": "eco"}, "lastUpdateTs": 2000},
        {"key": "fw", "value": "1.0", "lastUpdateTs": 3000},
        {"key": "model", "value": "A", "lastUpdateTs": 1000},
        {"key": "target", "value": 21.5, "lastUpdateTs": 2000},
    ]


def test_it_reads_attributes_by_scope_and_keys(api, with_attributes):
    res = api.get(entity_url(with_attributes, f"values/attributes/{SHARED}"), {"keys": "target,model"})
    assert res.json() == [{"key": "target", "value": 21.5, "lastUpdateTs": 2000}]
    res = api.get(entity_url(with_attributes, "values/attributes"), {"keys": "model,fw"})
    assert [a["key"] for a in res.json()] == ["fw", "model"]


def test_it_lists_attribute_keys_merged_and_by_scope(api, with_attributes):
    assert api.get(entity_url(with_attributes, "keys/attributes")).json() == ["active", "cfg", "fw", "model", "target"]
    assert api.get(entity_url(with_attributes, f"keys/attributes/{CLIENT}")).json() == ["fw"]


# --- deletes ----------------------------------------------------------------------------------


def test_it_deletes_attributes_by_keys_in_one_scope(api, with_attributes):
    res = api.delete(entity_url(with_attributes, f"{SERVER}") + "?keys=model,missing")
    assert res.status_code == 200
    res = api.delete(f"{BASE}/{with_attributes.pk}/{SHARED}?key=cfg")
    assert res.status_code == 200
    assert stored(with_attributes) == {(SERVER, "active"): True, (SHARED, "target"): 21.5, (CLIENT, "fw"): "1.0"}


def test_it_needs_keys_to_delete(api, with_attributes):
    assert "'keys'" in assert_error(api.delete(f"{BASE}/{with_attributes.pk}/{SERVER}"), 400)
    assert len(stored(with_attributes)) == 5


def test_it_publishes_saved_attributes_and_never_fails_on_a_subscriber(device):
    """devices/ publishes attributes_saved; whoever subscribes (the rule engine) cannot break a save."""
    seen = []

    def failing(sender, **kwargs):
        seen.append((sender, kwargs["entity"], kwargs["scope"], kwargs["values"]))
        raise RuntimeError("subscriber broke")

    services.attributes_saved.connect(failing, dispatch_uid="test.failing")
    try:
        services.on_attributes_saved(device, SHARED, {"a": 1})
    finally:
        services.attributes_saved.disconnect(dispatch_uid="test.failing")
    assert seen == [(type(device), device, SHARED, {"a": 1})]
