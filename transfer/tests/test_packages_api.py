"""Export and import of an integration package (issue 21 item 7) through the API: the round trip
into another tenant, secrets never in the export, missing secrets refused with their paths, name
clashes, one transaction, and tenancy (another tenant's integration: 404)."""

import json

import pytest

from audit.models import AuditLog
from converters.models import Converter
from integrations.models import Integration
from integrations.tests.factories import MQTT_CONFIG, make_downlink_converter, make_uplink_converter
from rulechains.metadata import save_metadata
from rulechains.models import RuleChain
from rulechains.nodes import INTEGRATION_DOWNLINK, REST_API_CALL
from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as

KAFKA_JAAS = 'org.apache.kafka.common.security.plain.PlainLoginModule required username="u" password="kafka-pw";'
PASSWORD = "integration.configuration.clientConfiguration.credentials.password"
REST_PASSWORD = "ruleChains.0.metadata.nodes.0.configuration.credentials.password"


@pytest.fixture
def stored(tenant):
    """An MQTT integration with a password, both converters, and a chain sending to it that also
    calls a REST API with basic credentials; and a chain that does not reference it."""
    uplink, downlink = make_uplink_converter(tenant, "Meter decoder"), make_downlink_converter(tenant, "Meter encoder")
    integration = Integration.objects.create(tenant=tenant, name="MQTT meters", type="MQTT", enabled=False,
                                             default_converter=uplink, downlink_converter=downlink,
                                             configuration=MQTT_CONFIG)
    chain = RuleChain.objects.create(tenant=tenant, name="To meters")
    save_metadata(chain, {"firstNodeIndex": 0, "connections": [{"fromIndex": 0, "toIndex": 1, "type": "Success"}],
                          "nodes": [
                              {"type": REST_API_CALL, "name": "notify", "configuration": {
                                  "restEndpointUrlPattern": "http://127.0.0.1:9/hook", "requestMethod": "POST",
                                  "credentials": {"type": "basic", "username": "hook", "password": "rest-pw"}}},
                              {"type": INTEGRATION_DOWNLINK, "name": "to device",
                               "configuration": {"integrationId": str(integration.pk)}}]}, check=False)
    RuleChain.objects.create(tenant=tenant, name="Unrelated")
    return integration


def export(api, integration):
    res = api.get(f"/api/integration/{integration.pk}/export")
    assert res.status_code == 200, res.content
    return res.json()


def test_the_export_holds_everything_but_the_secrets(api, stored):
    package = export(api, stored)
    text = json.dumps(package)
    assert "broker-pass" not in text and "rest-pw" not in text and "******" not in text
    assert package["packageVersion"] == 1 and package["integration"]["name"] == "MQTT meters"
    assert package["integration"]["configuration"]["clientConfiguration"]["credentials"]["password"] is None
    assert "routingKey" not in package["integration"]
    assert sorted(c["name"] for c in package["converters"]) == ["Meter decoder", "Meter encoder"]
    assert [c["ruleChain"]["name"] for c in package["ruleChains"]] == ["To meters"]
    assert sorted(package["requiredSecrets"]) == sorted([PASSWORD, REST_PASSWORD])


def test_a_round_trip_into_another_tenant(api, mallory_api, mallory, stored):
    package = export(api, stored)
    secrets = {PASSWORD: "other-broker-pass", REST_PASSWORD: "other-rest-pw"}
    res = mallory_api.post("/api/integration/import", {**package, "secrets": secrets}, format="json")
    assert res.status_code == 200, res.content
    body = res.json()
    new = Integration.objects.get(tenant=mallory.tenant)
    assert str(new.pk) == body["integration"]["id"]["id"] != str(stored.pk)
    assert new.name == "MQTT meters" and new.routing_key != stored.routing_key
    assert new.configuration["clientConfiguration"]["credentials"]["password"] == "other-broker-pass"
    assert new.configuration["topicFilters"] == MQTT_CONFIG["topicFilters"]
    assert new.default_converter.tenant_id == new.downlink_converter.tenant_id == mallory.tenant_id
    assert new.default_converter.configuration["decoder"] == stored.default_converter.configuration["decoder"]
    chain = RuleChain.objects.get(tenant=mallory.tenant, name="To meters")
    nodes = {n.type: n for n in chain.nodes.all()}
    assert nodes[INTEGRATION_DOWNLINK].configuration["integrationId"] == str(new.pk)
    assert nodes[REST_API_CALL].configuration["credentials"]["password"] == "other-rest-pw"
    assert chain.connections.count() == 1 and not chain.root
    assert "other-broker-pass" not in res.content.decode()  # the answer masks them as usual
    # the original is untouched, and the import is in the importer's audit log, not ours
    assert stored.configuration["clientConfiguration"]["credentials"]["password"] == "broker-pass"
    assert set(AuditLog.objects.filter(tenant=mallory.tenant).values_list("entity_type", flat=True)) == {
        "CONVERTER", "INTEGRATION", "RULE_CHAIN"}


def test_missing_secrets_are_refused_by_path_and_nothing_is_created(api, mallory_api, mallory, stored):
    package = export(api, stored)
    res = mallory_api.post("/api/integration/import", {**package, "secrets": {PASSWORD: "x"}}, format="json")
    assert_error(res, 400, f"Missing secrets: {REST_PASSWORD}")
    res = mallory_api.post("/api/integration/import", package, format="json")
    assert_error(res, 400, PASSWORD)
    res = mallory_api.post("/api/integration/import",
                           {**package, "secrets": {PASSWORD: "x", REST_PASSWORD: "y", "integration.name": "z"}},
                           format="json")
    assert_error(res, 400, "Not a secret of this package: integration.name")
    assert not Converter.objects.filter(tenant=mallory.tenant).exists()
    assert not Integration.objects.filter(tenant=mallory.tenant).exists()


def test_a_failure_late_in_the_import_rolls_everything_back(api, mallory_api, mallory, stored):
    package = export(api, stored)
    package["ruleChains"][0]["metadata"]["connections"] = [{"fromIndex": 0, "toIndex": 7, "type": "Success"}]
    secrets = {PASSWORD: "p", REST_PASSWORD: "r"}
    res = mallory_api.post("/api/integration/import", {**package, "secrets": secrets}, format="json")
    assert res.status_code == 400 and "ruleChains.0.metadata" in res.json()["message"], res.content
    assert not Converter.objects.filter(tenant=mallory.tenant).exists()
    assert not Integration.objects.filter(tenant=mallory.tenant).exists()
    assert not RuleChain.objects.filter(tenant=mallory.tenant, name="To meters").exists()


def test_importing_into_the_same_tenant_suffixes_taken_names(api, tenant, stored):
    package = export(api, stored)
    secrets = {PASSWORD: "p", REST_PASSWORD: "r"}
    for _ in range(2):
        assert api.post("/api/integration/import", {**package, "secrets": secrets}, format="json").status_code == 200
    assert sorted(Integration.objects.filter(tenant=tenant).values_list("name", flat=True)) == [
        "MQTT meters", "MQTT meters (1)", "MQTT meters (2)"]
    assert Converter.objects.filter(tenant=tenant, name="Meter decoder (2)").exists()
    assert RuleChain.objects.filter(tenant=tenant, name="To meters").count() == 3


def test_a_dotted_secret_key_round_trips(api, mallory_api, mallory, tenant):
    uplink = make_uplink_converter(tenant, "Kafka decoder")
    configuration = {"clientConfiguration": {"groupId": "g", "clientId": "c", "topics": "t",
                                             "bootstrapServers": "127.0.0.1:9092",
                                             "otherProperties": {"sasl.jaas.config": KAFKA_JAAS}}}
    kafka = Integration.objects.create(tenant=tenant, name="Kafka in", type="KAFKA", enabled=False,
                                       default_converter=uplink, configuration=configuration)
    package = export(api, kafka)
    path = "integration.configuration.clientConfiguration.otherProperties[sasl.jaas.config]"
    assert package["requiredSecrets"] == [path] and "kafka-pw" not in json.dumps(package)
    res = mallory_api.post("/api/integration/import", {**package, "secrets": {path: KAFKA_JAAS}}, format="json")
    assert res.status_code == 200, res.content
    new = Integration.objects.get(tenant=mallory.tenant)
    assert new.configuration["clientConfiguration"]["otherProperties"]["sasl.jaas.config"] == KAFKA_JAAS


def test_bad_packages_are_refused_clearly(mallory_api):
    cases = [([], "must be an integration package"), ({"packageVersion": 9, "integration": {}}, "packageVersion"),
             ({"packageVersion": 1}, "no integration"),
             ({"packageVersion": 1, "integration": {}, "converters": "x"}, "converters must be a list"),
             ({"packageVersion": 1, "integration": {}, "ruleChains": [{"ruleChain": {}}]}, "ruleChains must be"),
             ({"packageVersion": 1, "integration": {"name": "x", "type": "HTTP", "defaultConverterId": {
                 "entityType": "CONVERTER", "id": "7c9e6679-7425-40de-944b-e07fc1f90ae7"}}},
              "is not in the package")]
    for body, message in cases:
        assert_error(mallory_api.post("/api/integration/import", body, format="json"), 400, message)


def test_another_tenants_integration_is_a_404_and_customers_are_refused(mallory_api, customer_user, stored):
    res = mallory_api.get(f"/api/integration/{stored.pk}/export")
    assert res.status_code == 404 and "MQTT meters" not in res.content.decode()
    assert api_as(customer_user).get(f"/api/integration/{stored.pk}/export").status_code == 403
    assert api_as(customer_user).post("/api/integration/import", {}, format="json").status_code == 403


def test_a_remote_integrations_secret_is_asked_for_too(api, mallory_api, mallory, tenant):
    uplink = make_uplink_converter(tenant, "Remote decoder")
    remote = Integration.objects.create(tenant=tenant, name="Remote HTTP", type="HTTP", remote=True,
                                        secret="remote-s3cret", default_converter=uplink,
                                        configuration={"baseUrl": "http://localhost"})
    package = export(api, remote)
    assert package["requiredSecrets"] == ["integration.secret"] and "remote-s3cret" not in json.dumps(package)
    assert package["ruleChains"] == [] and len(package["converters"]) == 1
    assert_error(mallory_api.post("/api/integration/import", package, format="json"), 400, "integration.secret")
    res = mallory_api.post("/api/integration/import", {**package, "secrets": {"integration.secret": "new-s3cret"}},
                           format="json")
    assert res.status_code == 200, res.content
    new = Integration.objects.get(tenant=mallory.tenant)
    assert new.remote and new.secret == "new-s3cret"
