"""Server side of the integration-center pages (issue 5): sidebar, converter editor page,
integration page data, dead-letter replay from the admin. The browser side is tests/browser/."""

import json

import pytest

from devices.models import Device
from integrations.admin_pages import integration_page
from integrations.models import DeadLetter
from integrations.tests.factories import MQTT_CONFIG, make_integration, make_uplink_converter
from integrations.types.base import MASK
from tbproject.clock import now_ms

T0 = 1_767_000_000_000


def letter(integration, body: dict, ts: int = T0) -> DeadLetter:
    return DeadLetter.objects.create(tenant_id=integration.tenant_id, integration=integration, received_ts=ts,
                                     payload=json.dumps(body).encode(), metadata={}, content_type="JSON",
                                     error="Error: too hot (line 2)", stage="convert")


@pytest.fixture
def http(tenant):
    return make_integration(tenant, "HTTP in", converter=make_uplink_converter(tenant))


@pytest.fixture
def foreign(other_tenant):
    return make_integration(other_tenant, "Theirs", converter=make_uplink_converter(other_tenant, name="theirs"))


def test_the_sidebar_shows_the_integration_center_and_entities_by_authority(client, tenant_admin, sysadmin):
    client.force_login(tenant_admin)
    html = client.get("/admin/").content.decode()
    for link in ("/admin/integrations/integration/", "/admin/converters/converter/", "/admin/converters/debugevent/",
                 "/admin/integrations/deadletter/", "/admin/devices/device/", "/admin/devices/asset/",
                 "/admin/tenants/customer/", "/admin/devices/entitygroup/", "/admin/devices/deviceprofile/"):
        assert f'href="{link}"' in html, link
    assert "Integration center" in html and "Entities" in html
    assert 'href="/admin/tenants/tenant/"' not in html  # system administrators only
    client.force_login(sysadmin)
    assert 'href="/admin/tenants/tenant/"' in client.get("/admin/").content.decode()


def test_the_converter_editor_page_starts_with_a_decoder_and_carries_the_compile_error(client, tenant_admin):
    client.force_login(tenant_admin)
    add = client.get("/admin/converters/converter/add/").content.decode()
    assert "data-converter-test" in add and "ui/vendor/codemirror.js" in add and "JSON.parse(" in add
    res = client.post("/admin/converters/converter/add/", {
        "name": "broken", "type": "UPLINK", "converter_version": "1", "script_lang": "JS",
        "script": "var a = 1;\nvar b = ;\n", "additional_info": "{}"})
    assert res.status_code == 200
    node = res.content.decode().split('id="ui-script-error"', 1)[1]
    message = json.loads(node.split(">", 1)[1].split("</script>", 1)[0])
    assert "SyntaxError" in message and "(line 2)" in message


def test_the_integration_page_offers_each_types_schema_and_masks_secrets(client, tenant_admin, tenant):
    mqtt = make_integration(tenant, "Broker", kind="MQTT", configuration=MQTT_CONFIG)
    client.force_login(tenant_admin)
    html = client.get(f"/admin/integrations/integration/{mqtt.pk}/change/").content.decode()
    schemas = json.loads(html.split('id="ui-type-schemas"', 1)[1].split(">", 1)[1].split("</script>", 1)[0])
    assert {"HTTP", "MQTT"} <= set(schemas)
    assert "clientConfiguration.credentials.password" in schemas["MQTT"]["secrets"]
    assert "baseUrl" in schemas["HTTP"]["schema"]["properties"]
    assert "broker-pass" not in html and MASK in html
    assert 'data-role="endpoint-url"' not in html  # a listener type has no uplink URL


def test_the_http_integration_page_shows_its_absolute_uplink_url_and_status(client, tenant_admin, http):
    client.force_login(tenant_admin)
    html = client.get(f"/admin/integrations/integration/{http.pk}/change/").content.decode()
    assert f"http://testserver/api/v1/integrations/http/{http.routing_key}" in html
    assert 'data-state="idle"' in html and "ui-sparkline" in html


def test_the_status_summary_follows_errors_messages_and_the_switch(http):
    now = now_ms()
    assert integration_page.status_summary(http, now)["state"] == "idle"
    http.last_message_ts = now - 1000
    assert integration_page.status_summary(http, now)["state"] == "receiving"
    http.last_error, http.last_error_ts = "Error: too hot", now
    summary = integration_page.status_summary(http, now)
    assert summary["state"] == "failing" and "too hot" in summary["detail"]
    http.enabled = False
    assert integration_page.status_summary(http, now)["state"] == "disabled"


def test_replay_selected_reruns_the_tenants_own_letters_only(client, tenant_admin, http, foreign):
    mine, theirs = letter(http, {"id": "dl-1", "t": 5}), letter(foreign, {"id": "dl-2", "t": 6})
    client.force_login(tenant_admin)
    res = client.post("/admin/integrations/deadletter/", {
        "action": "replay_selected", "_selected_action": [str(mine.pk), str(theirs.pk)]}, follow=True)
    assert "HTTP in: 1 replayed, 0 failed again" in res.content.decode()
    mine.refresh_from_db()
    theirs.refresh_from_db()
    assert mine.replayed_ts and theirs.replayed_ts is None
    assert Device.objects.filter(name="dl-1").exists() and not Device.objects.filter(name="dl-2").exists()


def test_replay_by_time_range_takes_the_letters_received_in_it(client, tenant_admin, http):
    inside, outside = letter(http, {"id": "in", "t": 1}, T0), letter(http, {"id": "out", "t": 1}, T0 + 3_600_000)
    client.force_login(tenant_admin)
    page = client.get("/admin/integrations/deadletter/replay/")
    assert page.status_code == 200 and "HTTP in" in page.content.decode()
    res = client.post("/admin/integrations/deadletter/replay/", {
        "integration": str(http.pk), "start": "2025-12-29 09:00", "end": "2025-12-29 09:30"}, follow=True)
    assert "HTTP in: 1 replayed" in res.content.decode()
    inside.refresh_from_db()
    outside.refresh_from_db()
    assert inside.replayed_ts and outside.replayed_ts is None


def test_replay_by_time_range_refuses_another_tenants_integration_and_bad_ranges(client, tenant_admin, http, foreign):
    letter(foreign, {"id": "x", "t": 1})
    client.force_login(tenant_admin)
    assert "Theirs" not in client.get("/admin/integrations/deadletter/replay/").content.decode()
    res = client.post("/admin/integrations/deadletter/replay/", {"integration": str(foreign.pk), "start": "2020-01-01"})
    assert res.status_code == 200 and "Select a valid choice" in res.content.decode()
    assert not DeadLetter.objects.filter(replayed_ts__isnull=False).exists()
    res = client.post("/admin/integrations/deadletter/replay/", {
        "integration": str(http.pk), "start": "2026-01-02", "end": "2026-01-01"})
    assert "The end is before the start." in res.content.decode()
    res = client.post("/admin/integrations/deadletter/replay/", {"integration": str(http.pk), "start": "yesterday"})
    assert "Enter a valid date/time." in res.content.decode()


def test_the_device_page_carries_the_chart_of_its_telemetry(client, tenant_admin, tenant):
    from tbproject.testing.factories import make_device

    device = make_device(tenant, "charted")
    client.force_login(tenant_admin)
    html = client.get(f"/admin/devices/device/{device.pk}/change/").content.decode()
    assert f'data-entity-type="DEVICE" data-entity-id="{device.pk}"' in html and "ui/vendor/uplot.js" in html
