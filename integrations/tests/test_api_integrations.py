"""`/api/integration...`: save with type, schema, converter and routing-key checks; secrets write-only;
get, delete, pages, infos, by ids, by routing key, check; tenant isolation and authorities."""

import uuid

import pytest
from tb_pe_client.models import Integration as TbIntegration
from tb_pe_client.models import IntegrationInfo as TbIntegrationInfo

from converters.models import DebugEvent
from integrations.api.serializers import HOUR_MS, recent_stats
from integrations.models import DeadLetter, Integration, IntegrationStats
from integrations.tests.factories import MQTT_CONFIG, make_downlink_converter, make_integration, make_uplink_converter
from integrations.types.base import MASK
from tbproject.clock import now_ms
from tbproject.testing.api import assert_error, assert_isolated, assert_unchanged, page_names, snapshot
from tbproject.testing.fixtures import api_as


@pytest.fixture
def uplink(tenant):
    return make_uplink_converter(tenant, "Meter decoder")


@pytest.fixture
def downlink(tenant):
    return make_downlink_converter(tenant, "Meter encoder")


def cid(converter) -> dict:
    return {"entityType": "CONVERTER", "id": str(converter.pk)}


def http_body(uplink, name="HTTP meters", **extra) -> dict:
    return {"name": name, "type": "HTTP", "defaultConverterId": cid(uplink),
            "configuration": {"baseUrl": "http://localhost:8080", "replaceNoContentToOk": False,
                              "metadata": {"site": "north"}}, **extra}


def mqtt_body(uplink, name="MQTT meters", **extra) -> dict:
    return {"name": name, "type": "MQTT", "defaultConverterId": cid(uplink), "configuration": MQTT_CONFIG, **extra}


def save(api, body):
    return api.post("/api/integration", body, format="json")


# --- save ----------------------------------------------------------------------------------------

def test_it_creates_an_http_integration_the_client_can_parse(api, tenant, uplink, downlink):
    res = save(api, http_body(uplink, downlinkConverterId=cid(downlink), additionalInfo={"description": "d"}))
    assert res.status_code == 200, res.content
    body = res.json()
    parsed = TbIntegration.from_dict(body)
    assert parsed.name == "HTTP meters" and parsed.type == "HTTP"
    assert str(parsed.default_converter_id.id) == str(uplink.pk)
    assert str(parsed.downlink_converter_id.id) == str(downlink.pk)
    assert body["id"]["entityType"] == "INTEGRATION" and body["tenantId"]["id"] == str(tenant.pk)
    assert uuid.UUID(body["routingKey"])  # generated
    assert body["enabled"] is True and body["allowCreateDevicesOrAssets"] is True and body["remote"] is False
    assert body["edgeTemplate"] is False and body["version"] == 1 and body["secret"] == ""
    assert body["debugSettings"] == {"failuresEnabled": False, "allEnabled": False, "allEnabledUntil": 0}
    assert body["configuration"]["metadata"] == {"site": "north"}
    assert body["additionalInfo"] == {"description": "d"}
    stored = Integration.objects.get()
    assert stored.tenant == tenant and stored.routing_key == body["routingKey"]
    assert stored.downlink_converter == downlink


def test_it_keeps_a_given_routing_key_and_refuses_a_taken_or_unsafe_one(api, mallory_api, uplink, other_tenant):
    assert save(api, http_body(uplink, routingKey="meters-1")).json()["routingKey"] == "meters-1"
    assert_error(save(api, http_body(uplink, name="other", routingKey="meters-1")), 400,
                 "Integration with such routing key already exists!")
    theirs = make_uplink_converter(other_tenant, "theirs")
    assert_error(save(mallory_api, http_body(theirs, routingKey="meters-1")), 400, "routing key already exists")
    assert_error(save(api, http_body(uplink, name="slash", routingKey="a/b")), 400, "routingKey")
    assert Integration.objects.count() == 1


def test_it_updates_by_id_and_accepts_the_whole_object_posted_back(api, uplink):
    created = save(api, http_body(uplink)).json()
    created.update(name="Renamed", enabled=False, createdTime=1, debugMode=False)
    res = save(api, created)
    assert res.status_code == 200, res.content
    body = res.json()
    assert body["name"] == "Renamed" and body["enabled"] is False and body["version"] == 2
    assert body["routingKey"] == created["routingKey"] and body["createdTime"] != 1
    assert Integration.objects.count() == 1


def test_saving_a_push_integration_records_created_then_updated_lifecycle_events(api, uplink):
    # HTTP has no listener host to report STARTED/UPDATED: the save is its lifecycle.
    created = save(api, http_body(uplink)).json()
    save(api, {**created, "name": "HTTP meters renamed"})
    lc = DebugEvent.objects.filter(entity_id=created["id"]["id"], event_type="LC_EVENT").order_by("created_time", "id")
    assert [(e.body["event"], e.body["status"]) for e in lc] == [("CREATED", "Success"), ("UPDATED", "Success")]


def test_saving_a_listener_integration_leaves_its_lifecycle_to_the_host(api, uplink):
    created = save(api, mqtt_body(uplink)).json()
    assert not DebugEvent.objects.filter(entity_id=created["id"]["id"], event_type="LC_EVENT").exists()


def test_it_keeps_fields_an_update_leaves_out(api, uplink, downlink):
    created = save(api, http_body(uplink, downlinkConverterId=cid(downlink), secret="s3")).json()
    res = save(api, {"id": created["id"], "name": "Only the name"})
    assert res.status_code == 200, res.content
    stored = Integration.objects.get()
    assert stored.name == "Only the name" and stored.type == "HTTP" and stored.downlink_converter == downlink
    assert stored.secret == "s3" and stored.configuration["metadata"] == {"site": "north"}
    assert stored.routing_key == created["routingKey"]
    cleared = save(api, {**res.json(), "downlinkConverterId": None})
    assert cleared.json()["downlinkConverterId"] is None and Integration.objects.get().downlink_converter is None


@pytest.mark.parametrize(("change", "message"), [
    ({"name": ""}, "Integration name should be specified!"),
    ({"name": None}, "Integration name should be specified!"),
    ({"type": None}, "Integration type should be specified!"),
    ({"type": "BOGUS"}, "Integration type BOGUS is not supported yet"),
    ({"defaultConverterId": None}, "Integration default converter should be specified!"),
    ({"configuration": [1]}, "configuration: must be a JSON object"),
    ({"configuration": {"enableSecurity": "maybe"}}, "configuration.enableSecurity"),
    ({"configuration": {"headersFilter": {"X-Key": 5}}}, "configuration.headersFilter.X-Key"),
    ({"configuration": {"metadata": {"site": {"nested": 1}}}}, "configuration.metadata.site"),
    ({"enabled": "sometimes"}, "enabled"),
    ({"debugSettings": {"failuresEnabled": "yes"}}, "failuresEnabled must be true or false"),
    ({"additionalInfo": [1]}, "additionalInfo"),
    ({"defaultConverterId": {"id": "not-a-uuid"}}, "Invalid UUID string"),
])
def test_it_refuses_invalid_http_integrations(api, uplink, change, message):
    assert_error(save(api, {**http_body(uplink), **change}), 400, message)
    assert Integration.objects.count() == 0


@pytest.mark.parametrize(("configuration", "message"), [
    ({"topicFilters": [{"filter": "a", "qos": 0}]}, "configuration.clientConfiguration: Field required"),
    ({**MQTT_CONFIG, "topicFilters": []}, "configuration.topicFilters"),
    ({**MQTT_CONFIG, "clientConfiguration": {"host": "h", "port": 70000}}, "configuration.clientConfiguration.port"),
    ({**MQTT_CONFIG, "topicFilters": [{"filter": "a", "qos": 3}]}, "configuration.topicFilters.0.qos"),
])
def test_it_validates_the_configuration_by_the_types_schema(api, uplink, configuration, message):
    assert_error(save(api, mqtt_body(uplink, configuration=configuration)), 400, message)


def test_it_checks_the_converters_directions(api, uplink, downlink):
    assert_error(save(api, http_body(downlink)), 400, "defaultConverterId: converter 'Meter encoder' is not a UPLINK")
    assert_error(save(api, http_body(uplink, downlinkConverterId=cid(uplink))), 400,
                 "downlinkConverterId: converter 'Meter decoder' is not a DOWNLINK")
    unknown = {"entityType": "CONVERTER", "id": str(uuid.uuid4())}
    assert_error(save(api, http_body(uplink, defaultConverterId=unknown)), 404)


def test_it_refuses_a_duplicate_name_in_the_same_tenant_only(api, mallory_api, uplink, other_tenant):
    assert save(api, http_body(uplink)).status_code == 200
    assert_error(save(api, http_body(uplink)), 400, "Integration with such name already exists!")
    theirs = make_uplink_converter(other_tenant, "theirs")
    assert save(mallory_api, http_body(theirs)).status_code == 200


# --- secrets --------------------------------------------------------------------------------------

def test_it_masks_secrets_and_keeps_them_when_the_mask_comes_back(api, uplink):
    created = save(api, mqtt_body(uplink, secret="remote-secret")).json()
    credentials = created["configuration"]["clientConfiguration"]["credentials"]
    assert credentials == {"type": "basic", "username": "u", "password": MASK}
    assert created["secret"] == MASK
    fetched = api.get(f"/api/integration/{created['id']['id']}").json()
    assert fetched["configuration"] == created["configuration"] and fetched["secret"] == MASK
    assert "broker-pass" not in str(api.get("/api/integrations?pageSize=10&page=0").content)

    fetched["configuration"]["clientConfiguration"]["port"] = 1884
    assert save(api, fetched).status_code == 200
    stored = Integration.objects.get()
    assert stored.configuration["clientConfiguration"]["credentials"]["password"] == "broker-pass"
    assert stored.configuration["clientConfiguration"]["port"] == 1884 and stored.secret == "remote-secret"

    fetched["configuration"]["clientConfiguration"]["credentials"]["password"] = "new-pass"
    fetched["secret"] = "new-secret"
    assert save(api, fetched).status_code == 200
    stored = Integration.objects.get()
    assert stored.configuration["clientConfiguration"]["credentials"]["password"] == "new-pass"
    assert stored.secret == "new-secret"


def test_it_refuses_a_mask_where_no_secret_is_stored(api, uplink):
    config = {**MQTT_CONFIG, "clientConfiguration": {
        **MQTT_CONFIG["clientConfiguration"], "credentials": {"type": "basic", "username": "u", "password": MASK}}}
    assert_error(save(api, mqtt_body(uplink, configuration=config)), 400,
                 "configuration.clientConfiguration.credentials.password: no secret is stored")


# --- debug settings -------------------------------------------------------------------------------

def test_it_turns_all_enabled_into_a_window_as_converters_do(api, uplink, settings):
    settings.DEBUG_ALL_DURATION_MINUTES = 10
    before = now_ms()
    body = save(api, http_body(uplink, debugSettings={"failuresEnabled": True, "allEnabled": True})).json()
    debug = body["debugSettings"]
    assert debug["failuresEnabled"] is True and debug["allEnabled"] is False
    assert before + 600_000 <= debug["allEnabledUntil"] <= now_ms() + 600_000 and body["debugMode"] is True
    off = save(api, {**body, "debugSettings": {"failuresEnabled": False, "allEnabled": False, "allEnabledUntil": 0}})
    assert off.json()["debugSettings"]["allEnabledUntil"] == 0


# --- get, delete, lists --------------------------------------------------------------------------

def test_it_gets_and_deletes_an_integration_with_its_events_and_dead_letters(api, tenant):
    integration = make_integration(tenant)
    DebugEvent.objects.create(tenant=tenant, entity_type="INTEGRATION", entity_id=integration.pk,
                              event_type="DEBUG_INTEGRATION", body={})
    DeadLetter.objects.create(tenant=tenant, integration=integration, payload=b"x", error="e", stage="convert")
    assert api.get(f"/api/integration/{integration.pk}").json()["name"] == "HTTP in"
    assert_error(api.get("/api/integration/not-a-uuid"), 400, "Invalid UUID string")
    assert api.delete(f"/api/integration/{integration.pk}").status_code == 200
    assert not Integration.objects.exists() and not DebugEvent.objects.exists() and not DeadLetter.objects.exists()
    assert_error(api.get(f"/api/integration/{integration.pk}"), 404)


def test_a_converter_in_use_cannot_be_deleted(api, tenant):
    integration = make_integration(tenant)
    assert_error(api.delete(f"/api/converter/{integration.default_converter_id}"), 400, "integration 'HTTP in")


def test_it_pages_searches_and_sorts(api, tenant, other_tenant):
    for i, name in enumerate(("beta", "alpha", "alpine", "gamma")):
        make_integration(tenant, name, created_time=1000 + i)
    make_integration(tenant, "edge", edge_template=True)
    make_integration(other_tenant, "alien")
    base = "/api/integrations?pageSize=10&page=0"
    assert page_names(api.get(base + "&sortProperty=name&sortOrder=ASC")) == ["alpha", "alpine", "beta", "gamma"]
    assert page_names(api.get(base + "&textSearch=AL&sortProperty=name")) == ["alpha", "alpine"]
    assert page_names(api.get(base + "&isEdgeTemplate=true")) == ["edge"]
    res = api.get("/api/integrations?pageSize=3&page=1&sortProperty=createdTime&sortOrder=DESC")
    assert res.json()["totalElements"] == 4 and res.json()["hasNext"] is False
    assert_error(api.get("/api/integrations?pageSize=10&page=0&sortProperty=secret"), 400, "sortProperty")


def test_it_lists_infos_with_status_and_stats(api, tenant):
    quiet = make_integration(tenant, "quiet")
    busy = make_integration(tenant, "busy", last_message_ts=now_ms(), service_id="web-1")
    make_integration(tenant, "failing", last_message_ts=1, last_error="Connection refused", last_error_ts=2)
    hour = now_ms() - now_ms() % HOUR_MS
    IntegrationStats.objects.create(integration=busy, period_ts=hour - 2 * HOUR_MS, messages_processed=5)
    IntegrationStats.objects.create(integration=busy, period_ts=hour, messages_processed=7)
    IntegrationStats.objects.create(integration=busy, period_ts=hour - 30 * HOUR_MS, messages_processed=99)
    res = api.get("/api/integrationInfos?pageSize=10&page=0&sortProperty=name")
    assert res.status_code == 200, res.content
    rows = {row["name"]: row for row in res.json()["data"]}
    for row in rows.values():
        TbIntegrationInfo.from_dict(row)
        assert "configuration" not in row and "routingKey" not in row
    assert rows["quiet"]["status"] is None and rows["quiet"]["stats"] == []
    assert rows["busy"]["status"] == {"success": True, "serviceId": "web-1"}
    assert rows["busy"]["stats"] == [5, 0, 7]
    assert rows["failing"]["status"] == {"success": False, "serviceId": None, "error": "Connection refused"}
    assert recent_stats([quiet]) == {quiet.pk: []}


def test_it_lists_by_ids_and_finds_by_routing_key(api, tenant, other_tenant):
    a, b = make_integration(tenant, "a"), make_integration(tenant, "b")
    alien = make_integration(other_tenant, "alien", routing_key="alien-key")
    res = api.get(f"/api/integrations/list?integrationIds={b.pk},{alien.pk},{a.pk}")
    assert [row["name"] for row in res.json()] == ["b", "a"]
    assert api.get(f"/api/integration/routingKey/{a.routing_key}").json()["id"]["id"] == str(a.pk)
    assert_error(api.get("/api/integration/routingKey/alien-key"), 404)
    assert_error(api.get("/api/integration/routingKey/nothing"), 404)


# --- check ----------------------------------------------------------------------------------------

def test_check_validates_an_http_configuration(api, uplink):
    assert api.post("/api/integration/check", http_body(uplink), format="json").status_code == 200
    bad = http_body(uplink, configuration={"headersFilter": []})
    assert_error(api.post("/api/integration/check", bad, format="json"), 400, "configuration.headersFilter")
    assert_error(api.post("/api/integration/check", {**bad, "type": "BOGUS"}, format="json"), 400,
                 "Integration type BOGUS is not supported yet")
    assert not Integration.objects.exists()


def test_check_reports_the_types_failure_text(api, uplink, monkeypatch):
    from integrations.types.base import IntegrationError
    from integrations.types.http import HttpIntegration

    def refuse(self):
        raise IntegrationError(f"Failed to reach {self.config.baseUrl}")

    monkeypatch.setattr(HttpIntegration, "check", refuse)
    assert_error(api.post("/api/integration/check", http_body(uplink), format="json"), 400,
                 "Failed to reach http://localhost:8080")


def test_check_uses_stored_secrets_for_a_masked_body(api, tenant, uplink, monkeypatch):
    from integrations.types.mqtt import MqttIntegration

    seen = []
    monkeypatch.setattr(MqttIntegration, "check",
                        lambda self: seen.append(self.config.clientConfiguration.credentials.password))
    body = save(api, mqtt_body(uplink)).json()
    assert api.post("/api/integration/check", body, format="json").status_code == 200
    assert seen == ["broker-pass"]


# --- who may call ---------------------------------------------------------------------------------

def test_another_tenants_integration_is_not_found(api, other_tenant, uplink):
    alien = make_integration(other_tenant, "alien")
    assert_isolated(api, alien, single="integration", update=http_body(uplink))
    assert api.get(f"/api/integrations/list?integrationIds={alien.pk}").json() == []
    assert page_names(api.get("/api/integrationInfos?pageSize=10&page=0")) == []


def test_another_tenants_converter_is_not_found(api, tenant, other_tenant, uplink):
    theirs = make_uplink_converter(other_tenant, "theirs")
    assert_error(save(api, http_body(theirs)), 404)
    mine = make_integration(tenant, converter=uplink)
    before = snapshot(mine)
    body = api.get(f"/api/integration/{mine.pk}").json()
    assert_error(save(api, {**body, "defaultConverterId": cid(theirs)}), 404)
    assert_error(save(api, {**body, "downlinkConverterId": cid(make_downlink_converter(other_tenant))}), 404)
    assert_unchanged(mine, before)


@pytest.mark.parametrize("who", ["customer_user", "sysadmin"])
def test_customer_users_and_the_sysadmin_are_refused(request, who, tenant, uplink):
    client = api_as(request.getfixturevalue(who))
    integration = make_integration(tenant)
    for res in (client.get(f"/api/integration/{integration.pk}"), client.get("/api/integrations?pageSize=1&page=0"),
                client.get("/api/integrationInfos?pageSize=1&page=0"),
                client.get(f"/api/integration/routingKey/{integration.routing_key}"),
                client.get(f"/api/integrations/list?integrationIds={integration.pk}"),
                save(client, http_body(uplink, name="x")),
                client.post("/api/integration/check", http_body(uplink), format="json"),
                client.delete(f"/api/integration/{integration.pk}")):
        assert_error(res, 403)
    assert Integration.objects.count() == 1


def test_anonymous_callers_are_refused(anon, tenant):
    integration = make_integration(tenant)
    assert_error(anon.get(f"/api/integration/{integration.pk}"), 401)
