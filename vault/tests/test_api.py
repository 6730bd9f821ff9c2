"""The secret controller as ThingsBoard's clients call it: SecretInfo JSON back, the value never."""

import json
import logging

import pytest

from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as
from vault import services
from vault.crypto import decrypt
from vault.models import Secret

VALUE = "s3cret-value-never-shown"


def create(api, name="mqttPass", value=VALUE, kind="TEXT", **extra):
    res = api.post("/api/secret", {"name": name, "type": kind, "value": value, **extra}, format="json")
    assert res.status_code == 200, res.content
    return res.json()


def stored_value(secret_id) -> str:
    secret = Secret.objects.get(pk=secret_id)
    return decrypt(secret.encrypted_value, secret.pk)


def test_it_saves_and_answers_secret_info_without_the_value(api, tenant, caplog):
    with caplog.at_level(logging.DEBUG):
        info = create(api, description="broker password")
    assert set(info) == {"id", "createdTime", "tenantId", "name", "type", "description"}
    assert info["id"]["entityType"] == "SECRET" and info["tenantId"] == {"entityType": "TENANT", "id": str(tenant.pk)}
    assert (info["name"], info["type"], info["description"]) == ("mqttPass", "TEXT", "broker password")
    assert isinstance(info["createdTime"], int)
    assert stored_value(info["id"]["id"]) == VALUE
    assert VALUE.encode() not in bytes(Secret.objects.get(pk=info["id"]["id"]).encrypted_value)
    assert VALUE not in caplog.text


def test_no_read_answers_the_value(api):
    info = create(api)
    pk = info["id"]["id"]
    answers = [api.get(f"/api/secret/{pk}/info"), api.get("/api/secret", {"name": "mqttPass"}),
               api.get("/api/secrets", {"pageSize": 10, "page": 0}), api.get("/api/secret/names"),
               api.put(f"/api/secret/{pk}/description", json.dumps("new"), content_type="application/json")]
    for res in answers:
        assert res.status_code == 200, res.content
        assert VALUE not in res.content.decode() and "encryptedValue" not in res.content.decode()
    assert answers[0].json() == info
    assert answers[1].json()["id"] == info["id"]
    page = answers[2].json()
    assert (page["totalElements"], page["totalPages"], page["hasNext"]) == (1, 1, False)
    assert page["data"][0]["name"] == "mqttPass"
    assert answers[3].json() == ["mqttPass"]
    assert answers[4].json()["description"] == "new"


def test_the_value_changes_through_the_value_path_and_an_update(api):
    pk = create(api)["id"]["id"]
    res = api.put(f"/api/secret/{pk}/value", json.dumps("second"), content_type="application/json")
    assert res.status_code == 200 and "second" not in res.content.decode()
    assert stored_value(pk) == "second"
    res = api.put(f"/api/secret/{pk}/value", "third as plain text", content_type="text/plain")
    assert res.status_code == 200 and stored_value(pk) == "third as plain text"
    body = {"id": {"entityType": "SECRET", "id": pk}, "name": "mqttPass", "type": "TEXT", "value": "fourth",
            "description": "rotated"}
    res = api.post("/api/secret", body, format="json")
    assert res.status_code == 200 and res.json()["description"] == "rotated" and stored_value(pk) == "fourth"
    # posting the info back without a value keeps the value
    res = api.post("/api/secret", {**res.json(), "description": "kept"}, format="json")
    assert res.status_code == 200 and stored_value(pk) == "fourth"


def test_pages_search_name_and_description_and_sort(api):
    create(api, "alpha", description="MQTT broker")
    create(api, "beta", description="REST token")
    create(api, "gamma-mqtt")
    res = api.get("/api/secrets", {"pageSize": 10, "page": 0, "textSearch": "mqtt", "sortProperty": "name",
                                   "sortOrder": "DESC"})
    assert [s["name"] for s in res.json()["data"]] == ["gamma-mqtt", "alpha"]
    res = api.get("/api/secrets", {"pageSize": 2, "page": 0, "sortProperty": "name"})
    assert [s["name"] for s in res.json()["data"]] == ["alpha", "beta"] and res.json()["hasNext"] is True
    assert_error(api.get("/api/secrets", {"pageSize": 2, "page": 0, "sortProperty": "value"}), 400, "sortProperty")
    assert_error(api.get("/api/secrets", {"page": 0}), 400, "pageSize")


def test_a_file_secret_keeps_the_files_text(api):
    pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"
    info = create(api, "caCert", pem, kind="TEXT_FILE")
    assert info["type"] == "TEXT_FILE" and stored_value(info["id"]["id"]) == pem


@pytest.mark.parametrize("body, message", [
    ({"type": "TEXT", "value": "v"}, "name should be specified"),
    ({"name": "", "type": "TEXT", "value": "v"}, "name should be specified"),
    ({"name": "a{b}", "type": "TEXT", "value": "v"}, "must not contain"),
    ({"name": "a;b", "type": "TEXT", "value": "v"}, "must not contain"),
    ({"name": "x", "type": "KEY_FILE", "value": "v"}, "TEXT or TEXT_FILE"),
    ({"name": "x", "value": "v"}, "TEXT or TEXT_FILE"),
    ({"name": "x", "type": "TEXT"}, "value should be specified"),
    ({"name": "x", "type": "TEXT", "value": ""}, "value should be specified"),
    ({"name": "x", "type": "TEXT", "value": 42}, "value should be specified"),
    ({"name": "x", "type": "TEXT", "value": "v", "description": ["no"]}, "description must be a string"),
])
def test_bad_input_is_a_400_and_stores_nothing(api, body, message):
    assert_error(api.post("/api/secret", body, format="json"), 400, message)
    assert not Secret.objects.exists()


def test_name_and_type_are_fixed_and_names_unique(api):
    info = create(api)
    pk = info["id"]["id"]
    assert_error(api.post("/api/secret", {**info, "name": "other"}, format="json"), 400, "name cannot be changed")
    assert_error(api.post("/api/secret", {**info, "type": "TEXT_FILE"}, format="json"), 400, "type cannot be changed")
    assert_error(api.post("/api/secret", {"name": "mqttPass", "type": "TEXT", "value": "x"}, format="json"), 400,
                 "already exists")
    assert_error(api.put(f"/api/secret/{pk}/value", json.dumps(""), content_type="application/json"), 400,
                 "value should be specified")
    assert_error(api.put(f"/api/secret/{pk}/value", json.dumps({"a": 1}), content_type="application/json"), 400,
                 "JSON string")
    assert_error(api.post("/api/secret", "[1]", content_type="application/json"), 400, "JSON object")
    assert stored_value(pk) == VALUE and Secret.objects.count() == 1


def test_missing_ids_and_names_are_404_and_bad_ids_400(api):
    missing = "784f394c-42b6-435a-983c-b7beff2784f9"
    assert_error(api.get(f"/api/secret/{missing}/info"), 404)
    assert_error(api.delete(f"/api/secret/{missing}"), 404)
    assert_error(api.get("/api/secret", {"name": "nope"}), 404)
    assert_error(api.get("/api/secret"), 400, "name")
    assert_error(api.get("/api/secret/not-a-uuid/info"), 400, "Invalid UUID")


def test_another_tenants_secret_is_404_everywhere_and_unchanged(api, mallory_api):
    info = create(api)
    pk = info["id"]["id"]
    assert_error(mallory_api.get(f"/api/secret/{pk}/info"), 404)
    assert_error(mallory_api.get("/api/secret", {"name": "mqttPass"}), 404)
    assert_error(mallory_api.put(f"/api/secret/{pk}/value", json.dumps("stolen"), content_type="application/json"),
                 404)
    assert_error(mallory_api.put(f"/api/secret/{pk}/description", json.dumps("x"), content_type="application/json"),
                 404)
    assert_error(mallory_api.delete(f"/api/secret/{pk}"), 404)
    assert_error(mallory_api.post("/api/secret", {**info, "value": "stolen"}, format="json"), 404)
    assert mallory_api.get("/api/secret/names").json() == []
    assert mallory_api.get("/api/secrets", {"pageSize": 10, "page": 0}).json()["totalElements"] == 0
    assert stored_value(pk) == VALUE and Secret.objects.get(pk=pk).description == ""
    # the same name in another tenant is another secret
    assert mallory_api.post("/api/secret", {"name": "mqttPass", "type": "TEXT", "value": "m"},
                            format="json").status_code == 200


def test_only_tenant_administrators_reach_secrets(api, customer_api, sysadmin, anon):
    pk = create(api)["id"]["id"]
    for client, status in ((customer_api, 403), (api_as(sysadmin), 403), (anon, 401)):
        assert_error(client.get("/api/secret/names"), status)
        assert_error(client.get(f"/api/secret/{pk}/info"), status)
        assert_error(client.post("/api/secret", {"name": "c", "type": "TEXT", "value": "v"}, format="json"), status)
        assert_error(client.delete(f"/api/secret/{pk}"), status)
    assert Secret.objects.count() == 1


def test_a_restricted_tenant_administrator_needs_the_secret_resource(tenant):
    from roles.enforcement import needs

    assert needs("secret-list", "GET", {}) == [("SECRET", "READ")]
    assert needs("secret-value", "PUT", {"pk": "x"}) == [("SECRET", "WRITE")]
    assert needs("secret-detail", "DELETE", {"pk": "x"}) == [("SECRET", "DELETE")]


def test_delete_answers_success_and_removes_it(api):
    pk = create(api)["id"]["id"]
    res = api.delete(f"/api/secret/{pk}")
    assert res.status_code == 200 and res.json() == {"success": True}
    assert not Secret.objects.exists()


def test_a_secret_in_use_is_not_deleted_and_its_users_are_listed(api, tenant):
    from converters.models import Converter
    from integrations.models import Integration
    from rulechains.models import RuleChain, RuleNode

    pk = create(api)["id"]["id"]
    other = services.save(tenant.pk, {"name": "unused", "type": "TEXT", "value": "x"})
    converter = Converter.objects.create(tenant=tenant, name="dec", type="UPLINK",
                                         configuration={"scriptLang": "JS", "decoder": "return null;"})
    integration = Integration.objects.create(
        tenant=tenant, name="Broker", type="MQTT", default_converter=converter, enabled=False,
        configuration={"clientConfiguration": {"host": "h", "credentials": {
            "type": "basic", "username": "u", "password": "${secret:mqttPass;type:TEXT}"}}})
    chain = RuleChain.objects.create(tenant=tenant, name="Calls out")
    RuleNode.objects.create(tenant=tenant, rule_chain=chain, index=0, name="rest",
                            type="org.thingsboard.rule.engine.rest.TbRestApiCallNode",
                            configuration={"headers": {"Authorization": "Bearer ${secret:mqttPass;type:TEXT}"}})
    res = api.delete(f"/api/secret/{pk}")
    body = assert_error(res, 400, "integration 'Broker'")
    assert "rule chain 'Calls out'" in body["message"]
    assert body["success"] is False
    assert body["references"] == {
        "INTEGRATION": [{"id": {"entityType": "INTEGRATION", "id": str(integration.pk)}, "name": "Broker"}],
        "RULE_CHAIN": [{"id": {"entityType": "RULE_CHAIN", "id": str(chain.pk)}, "name": "Calls out"}]}
    assert Secret.objects.filter(pk=pk).exists()
    assert api.delete(f"/api/secret/{other.pk}").json() == {"success": True}


def test_a_placeholder_in_a_write_only_field_is_shown_as_it_is_a_value_is_masked(api, tenant):
    from integrations.tests.factories import make_uplink_converter
    from rulechains.metadata import masked

    converter = make_uplink_converter(tenant, "dec")
    body = {"name": "Broker", "type": "MQTT", "enabled": False,
            "defaultConverterId": {"entityType": "CONVERTER", "id": str(converter.pk)},
            "configuration": {"clientConfiguration": {"host": "h", "port": 1883, "credentials": {
                "type": "basic", "username": "u", "password": "${secret:mqttPass;type:TEXT}"}},
                "topicFilters": [{"filter": "a/#", "qos": 0}]}}
    res = api.post("/api/integration", body, format="json")
    assert res.status_code == 200, res.content
    shown = api.get(f"/api/integration/{res.json()['id']['id']}").json()["configuration"]["clientConfiguration"]
    assert shown["credentials"]["password"] == "${secret:mqttPass;type:TEXT}"
    body["configuration"]["clientConfiguration"]["credentials"]["password"] = f"x{VALUE}"
    res = api.post("/api/integration", {**body, "name": "Plain"}, format="json")
    assert VALUE not in res.content.decode() and "******" in res.content.decode()
    rest = "org.thingsboard.rule.engine.rest.TbRestApiCallNode"
    assert masked(rest, {"credentials": {"password": "${secret:p;type:TEXT}"}})["credentials"]["password"] == \
        "${secret:p;type:TEXT}"
    assert masked(rest, {"credentials": {"password": "Bearer ${secret:p;type:TEXT}"}})["credentials"]["password"] == \
        "******"
