"""Admin pages of integrations (secrets masked and kept) and dead letters (read-only, tenant-scoped)."""

import json

import pytest

from integrations.models import DeadLetter, Integration
from integrations.tests.factories import MQTT_CONFIG, make_integration, make_uplink_converter
from integrations.types.base import MASK


@pytest.fixture
def mqtt(tenant):
    return make_integration(tenant, "Broker", kind="MQTT", secret="remote-secret", configuration=MQTT_CONFIG)


def change_url(obj) -> str:
    return f"/admin/{obj._meta.app_label}/{obj._meta.model_name}/{obj.pk}/change/"


def form_data(integration, **changes) -> dict:
    data = {
        "name": integration.name, "type": integration.type, "enabled": "on", "allow_create_devices_or_assets": "on",
        "default_converter": str(integration.default_converter_id), "downlink_converter": "",
        "routing_key": integration.routing_key, "config_text": json.dumps(integration.configuration),
        "secret_text": MASK, "additional_info": "{}",
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def test_the_change_page_never_shows_a_secret(client, tenant_admin, mqtt):
    client.force_login(tenant_admin)
    html = client.get(change_url(mqtt)).content.decode()
    assert "broker-pass" not in html and "remote-secret" not in html
    assert MASK in html and 'type="password"' in html
    assert "broker-pass" not in client.get("/admin/integrations/integration/").content.decode()


def test_saving_with_the_masks_keeps_the_stored_secrets(client, tenant_admin, mqtt):
    client.force_login(tenant_admin)
    config = {**MQTT_CONFIG, "clientConfiguration": {**MQTT_CONFIG["clientConfiguration"], "port": 8883,
                                                     "credentials": {"type": "basic", "username": "u",
                                                                     "password": MASK}}}
    res = client.post(change_url(mqtt), form_data(mqtt, config_text=json.dumps(config)))
    assert res.status_code == 302, res.content.decode()[:3000]
    stored = Integration.objects.get(pk=mqtt.pk)
    assert stored.configuration["clientConfiguration"]["port"] == 8883
    assert stored.configuration["clientConfiguration"]["credentials"]["password"] == "broker-pass"
    assert stored.secret == "remote-secret"

    res = client.post(change_url(mqtt), form_data(stored, secret_text="rotated"))
    assert res.status_code == 302
    assert Integration.objects.get(pk=mqtt.pk).secret == "rotated"


@pytest.mark.parametrize(("config_text", "message"), [
    ("{not json", "Not valid JSON"),
    ("[1]", "must be a JSON object"),
    (json.dumps({"topicFilters": []}), "configuration.clientConfiguration"),
])
def test_an_invalid_configuration_is_a_form_error(client, tenant_admin, mqtt, config_text, message):
    client.force_login(tenant_admin)
    res = client.post(change_url(mqtt), form_data(mqtt, config_text=config_text))
    assert res.status_code == 200 and message in res.content.decode()
    assert Integration.objects.get(pk=mqtt.pk).configuration == MQTT_CONFIG


def test_a_tenant_admin_adds_an_http_integration(client, tenant_admin, tenant):
    client.force_login(tenant_admin)
    converter = make_uplink_converter(tenant, "decoder")
    data = {"name": "Admin HTTP", "type": "HTTP", "enabled": "on", "default_converter": str(converter.pk),
            "routing_key": "admin-key", "config_text": '{"baseUrl": "http://x"}', "secret_text": "",
            "additional_info": "{}"}
    res = client.post("/admin/integrations/integration/add/", data)
    assert res.status_code == 302, res.content.decode()[:3000]
    created = Integration.objects.get(name="Admin HTTP")
    assert created.tenant == tenant and created.routing_key == "admin-key" and created.secret == ""
    html = client.get(change_url(created)).content.decode()
    assert "/api/v1/integrations/http/admin-key" in html


def test_dead_letters_are_read_only_and_scoped(client, tenant_admin, tenant, other_tenant):
    mine = DeadLetter.objects.create(tenant=tenant, integration=make_integration(tenant), payload=b"\xff\x01",
                                     metadata={"Header:authorization": "Bearer t0ken", "Header:x-a": "1"},
                                     error="mine failed", stage="convert")
    theirs = DeadLetter.objects.create(tenant=other_tenant, integration=make_integration(other_tenant, "alien"),
                                       payload=b"x", error="theirs failed", stage="convert")
    client.force_login(tenant_admin)
    html = client.get("/admin/integrations/deadletter/").content.decode()
    assert "mine failed" in html and "theirs failed" not in html
    page = client.get(change_url(mine)).content.decode()
    assert "ff 01" in page and "t0ken" not in page and MASK in page
    assert client.get(change_url(theirs)).status_code == 302  # "doesn't exist", as for every foreign row
    assert client.post(change_url(mine), {}).status_code == 403
