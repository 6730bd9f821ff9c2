"""The audit log (issue 21 item 6) through the API: who added, changed and deleted converters,
integrations and rule chains, the diff with secrets masked, ThingsBoard's paging and filters,
and tenancy (another tenant's log, entity, user or customer: 404)."""

import copy
import json

from audit.context import acting_as
from audit.models import AuditLog
from converters.models import Converter
from integrations.tests.factories import DECODER, MQTT_CONFIG, make_uplink_converter
from integrations.types.base import MASK
from rulechains.metadata import save_metadata
from rulechains.models import RuleChain
from tbproject.clock import now_ms
from tbproject.testing.api import assert_error
from tbproject.testing.fixtures import api_as
from tenants.choices import Authority
from tenants.models import User


def cid(converter) -> dict:
    return {"entityType": "CONVERTER", "id": str(converter.pk)}


def logs(api, path="/api/audit/logs", **params):
    res = api.get(path, {"pageSize": 100, "page": 0, **params})
    assert res.status_code == 200, res.content
    return res.json()


def test_a_converters_life_is_logged_with_who_and_the_diff(api, tenant_admin):
    body = {"name": "Meter decoder", "type": "UPLINK", "configuration": {"scriptLang": "JS", "decoder": DECODER}}
    created = api.post("/api/converter", body, format="json").json()
    changed = {**created, "name": "Meter decoder v2",
               "configuration": {**created["configuration"], "decoder": DECODER.replace("meter", "gauge")}}
    assert api.post("/api/converter", changed, format="json").status_code == 200
    assert api.delete(f"/api/converter/{created['id']['id']}").status_code == 200

    page = logs(api)
    assert page["totalElements"] == 3 and page["hasNext"] is False
    deleted, updated, added = page["data"]  # newest first
    assert [r["actionType"] for r in (added, updated, deleted)] == ["ADDED", "UPDATED", "DELETED"]
    for row in (added, updated, deleted):
        assert row["entityId"] == created["id"] and row["actionStatus"] == "SUCCESS"
        assert row["userId"] == {"entityType": "USER", "id": str(tenant_admin.pk)}
        assert row["userName"] == "alice@example.com" and row["id"]["entityType"] == "AUDIT_LOG"
        assert row["tenantId"]["id"] == str(tenant_admin.tenant_id) and isinstance(row["createdTime"], int)
    assert added["entityName"] == "Meter decoder" and added["actionData"]["entity"]["name"] == "Meter decoder"
    assert updated["entityName"] == "Meter decoder v2"
    diff = {d["path"]: d for d in updated["actionData"]["diff"]}
    assert diff["name"] == {"path": "name", "old": "Meter decoder", "new": "Meter decoder v2"}
    assert "gauge" in diff["configuration.decoder"]["new"] and "meter" in diff["configuration.decoder"]["old"]
    assert "version" not in diff  # bumped on every save: not the user's change
    assert deleted["actionData"] == {"entityId": created["id"]["id"]}


def test_a_changed_secret_shows_masked_and_is_never_stored(api, tenant):
    uplink = make_uplink_converter(tenant, "Meter decoder")
    body = {"name": "MQTT meters", "type": "MQTT", "defaultConverterId": cid(uplink), "configuration": MQTT_CONFIG}
    created = api.post("/api/integration", body, format="json").json()
    configuration = copy.deepcopy(created["configuration"])  # password comes back masked
    configuration["clientConfiguration"]["credentials"]["password"] = "rotated-pass-9"
    configuration["clientConfiguration"]["port"] = 1884
    assert api.post("/api/integration", {**created, "configuration": configuration}, format="json").status_code == 200
    # posting the masked configuration back changes nothing: no row
    again = api.get(f"/api/integration/{created['id']['id']}").json()
    assert api.post("/api/integration", again, format="json").status_code == 200

    rows = logs(api, actionTypes="UPDATED", textSearch="INTEGRATION")["data"]
    assert len(rows) == 1
    diff = {d["path"]: d for d in rows[0]["actionData"]["diff"]}
    assert diff["configuration.clientConfiguration.port"] == {
        "path": "configuration.clientConfiguration.port", "old": 1883, "new": 1884}
    assert diff["configuration.clientConfiguration.credentials.password"] == {
        "path": "configuration.clientConfiguration.credentials.password", "old": MASK, "new": MASK}
    stored = json.dumps(list(AuditLog.objects.values_list("action_data", flat=True)))
    assert "broker-pass" not in stored and "rotated-pass-9" not in stored

    # pinning the converter version (ours) is a change too
    pin = api.post(f"/api/integration/{created['id']['id']}/converterVersion", {"pinnedConverterVersion": 1},
                   format="json")
    assert pin.status_code == 200, pin.content
    latest = logs(api, actionTypes="UPDATED", textSearch="INTEGRATION")["data"][0]
    assert latest["actionData"]["diff"] == [{"path": "pinnedConverterVersion", "old": None, "new": 1}]


def test_a_rule_chain_metadata_save_is_one_update_with_the_node_diff(api, tenant):
    chain = api.post("/api/ruleChain", {"name": "Downlinks"}, format="json").json()
    node = {"type": "org.thingsboard.rule.engine.filter.TbJsFilterNode", "name": "hot?",
            "configuration": {"scriptLang": "JS", "jsScript": "return msg.t > 30;"}}
    meta = {"ruleChainId": chain["id"], "firstNodeIndex": 0, "nodes": [node], "connections": []}
    assert api.post("/api/ruleChain/metadata", meta, format="json").status_code == 200
    meta["nodes"][0]["name"] = "very hot?"
    assert api.post("/api/ruleChain/metadata", meta, format="json").status_code == 200

    rows = logs(api, f"/api/audit/logs/entity/RULE_CHAIN/{chain['id']['id']}")["data"]
    assert [r["actionType"] for r in rows] == ["UPDATED", "UPDATED", "ADDED"]
    assert rows[0]["actionData"]["metadata"] is True
    assert rows[0]["actionData"]["diff"] == [{"path": "nodes.0.name", "old": "hot?", "new": "very hot?"}]
    first = {d["path"] for d in rows[1]["actionData"]["diff"]}
    assert "nodes" in first and "firstNodeIndex" in first


def test_saves_without_a_user_are_not_audited_and_acting_as_names_one(tenant, tenant_admin):
    chain = RuleChain.objects.create(tenant=tenant, name="worker made")  # a worker, a migration: no one acting
    save_metadata(chain, {"firstNodeIndex": -1, "nodes": [], "connections": []}, check=False)
    assert not AuditLog.objects.exists()
    with acting_as(tenant_admin):
        Converter.objects.create(tenant=tenant, name="scripted", type="UPLINK", configuration={"decoder": "x"})
    row = AuditLog.objects.get()
    assert (row.user_name, row.action_type, row.entity_name) == ("alice@example.com", "ADDED", "scripted")


def test_paging_sorting_time_range_and_filters_follow_thingsboard(api, tenant, tenant_admin):
    with acting_as(tenant_admin):
        for name in ("b-conv", "a-conv", "c-conv"):
            make_uplink_converter(tenant, name)
    AuditLog.objects.filter(entity_name="c-conv").update(created_time=now_ms() - 40 * 24 * 3600 * 1000)

    page = logs(api, pageSize=1, page=0, sortProperty="entityName", sortOrder="ASC")
    assert page["totalElements"] == 2 and page["totalPages"] == 2 and page["hasNext"] is True  # last 30 days
    assert page["data"][0]["entityName"] == "a-conv"
    old = logs(api, startTime=0, endTime=now_ms() - 30 * 24 * 3600 * 1000)["data"]
    assert [r["entityName"] for r in old] == ["c-conv"]
    assert logs(api, textSearch="B-CO")["totalElements"] == 1  # substring, any case
    assert logs(api, textSearch="alice")["totalElements"] == 2
    assert logs(api, actionTypes="DELETED,LOGIN")["totalElements"] == 0
    assert_error(api.get("/api/audit/logs", {"pageSize": 10, "page": 0, "actionTypes": "drop table"}), 400,
                 "actionTypes")
    assert_error(api.get("/api/audit/logs", {"pageSize": 10, "page": 0, "sortProperty": "secret"}), 400,
                 "Unsupported sortProperty")
    assert_error(api.get("/api/audit/logs", {"page": 0}), 400, "pageSize")


def test_user_and_customer_routes(api, tenant, tenant_admin, customer):
    with acting_as(tenant_admin):
        make_uplink_converter(tenant, "mine")
    assert logs(api, f"/api/audit/logs/user/{tenant_admin.pk}")["totalElements"] == 1
    other = User.objects.create_user("bob@example.com", "x", authority=Authority.TENANT_ADMIN, tenant=tenant)
    assert logs(api, f"/api/audit/logs/user/{other.pk}")["totalElements"] == 0
    assert logs(api, f"/api/audit/logs/customer/{customer.pk}")["totalElements"] == 0
    # a deleted converter's log is still reached by its id
    converter = Converter.objects.get(name="mine")
    pk = converter.pk
    with acting_as(tenant_admin):
        converter.delete()
    assert logs(api, f"/api/audit/logs/entity/CONVERTER/{pk}")["totalElements"] == 2
    assert_error(api.get(f"/api/audit/logs/entity/NOPE/{pk}", {"pageSize": 1, "page": 0}), 400, "entity type")


def test_another_tenant_sees_none_of_it(api, mallory_api, mallory, tenant, tenant_admin, customer_user):
    with acting_as(tenant_admin):
        converter = make_uplink_converter(tenant, "alice-only")
    assert logs(mallory_api)["totalElements"] == 0
    for path in (f"/api/audit/logs/entity/CONVERTER/{converter.pk}", f"/api/audit/logs/user/{tenant_admin.pk}",
                 f"/api/audit/logs/customer/{customer_user.customer_id}"):
        res = mallory_api.get(path, {"pageSize": 10, "page": 0})
        assert res.status_code == 404, (path, res.content)
        assert "alice-only" not in res.content.decode()
    assert api.get(f"/api/audit/logs/user/{mallory.pk}", {"pageSize": 10, "page": 0}).status_code == 404
    assert api_as(customer_user).get("/api/audit/logs", {"pageSize": 10, "page": 0}).status_code == 403


def test_deleting_a_tenant_takes_its_log_and_records_nothing(tenant, tenant_admin):
    with acting_as(tenant_admin):
        make_uplink_converter(tenant, "gone")
        tenant.delete()
    assert not AuditLog.objects.exists()


def test_the_admin_lists_the_log_read_only(client, tenant, tenant_admin, mallory):
    client.force_login(tenant_admin)
    uplink = make_uplink_converter(tenant, "admin-made")
    with acting_as(tenant_admin):
        uplink.name = "renamed"
        uplink.save()
    with acting_as(mallory):
        make_uplink_converter(mallory.tenant, "mallory-made")
    row = AuditLog.objects.get(tenant=tenant, entity_type="CONVERTER")  # (the sign-in is a LOGIN row)
    listing = client.get("/admin/audit/auditlog/").content.decode()
    assert "renamed" in listing and "mallory-made" not in listing
    page = client.get(f"/admin/audit/auditlog/{row.pk}/change/").content.decode()
    assert "admin-made" in page and 'data-role="audit-diff"' in page
    assert client.post(f"/admin/audit/auditlog/{row.pk}/delete/").status_code == 403
    foreign = AuditLog.objects.get(tenant=mallory.tenant)
    assert client.get(f"/admin/audit/auditlog/{foreign.pk}/change/").status_code in (302, 404)


def test_refused_saves_and_deletes_are_failures_with_the_reason(api, tenant):
    bad = {"name": "Broken", "type": "UPLINK", "configuration": {"scriptLang": "JS", "decoder": "return {;"}}
    assert api.post("/api/converter", bad, format="json").status_code == 400
    uplink = make_uplink_converter(tenant, "In use")
    body = {"name": "MQTT meters", "type": "MQTT", "defaultConverterId": cid(uplink),
            "configuration": {**MQTT_CONFIG, "topicFilters": "not a list"}}
    assert api.post("/api/integration", body, format="json").status_code == 400
    integration = api.post("/api/integration", {**body, "configuration": MQTT_CONFIG}, format="json").json()
    assert api.delete(f"/api/converter/{uplink.pk}").status_code == 400  # the integration uses it

    failures = logs(api, textSearch="FAILURE")["data"]
    assert [(r["actionType"], r["entityId"]["entityType"], r["entityName"]) for r in failures] == [
        ("DELETED", "CONVERTER", "In use"), ("ADDED", "INTEGRATION", "MQTT meters"), ("ADDED", "CONVERTER", "Broken")]
    deleted, integration_failure, converter_failure = failures
    assert deleted["entityId"]["id"] == str(uplink.pk) and "MQTT meters" in deleted["actionFailureDetails"]
    assert "topicFilters" in integration_failure["actionFailureDetails"]
    assert converter_failure["actionFailureDetails"] and converter_failure["actionStatus"] == "FAILURE"
    assert "broker-pass" not in json.dumps(failures)  # what was posted is not kept
    assert logs(api, textSearch="SUCCESS")["totalElements"] == 1 and integration["name"] == "MQTT meters"


def test_old_rows_are_pruned_after_the_ttl(tenant, tenant_admin, settings):
    from audit.tasks import prune_audit_logs

    with acting_as(tenant_admin):
        make_uplink_converter(tenant, "old")
        make_uplink_converter(tenant, "new")
    AuditLog.objects.filter(entity_name="old").update(created_time=now_ms() - 11 * 24 * 3600 * 1000)
    assert prune_audit_logs() == 0  # 0 keeps everything
    settings.AUDIT_LOG_TTL_DAYS = 10
    assert prune_audit_logs() == 1
    assert list(AuditLog.objects.values_list("entity_name", flat=True)) == ["new"]


def test_a_refused_metadata_save_is_a_failure(api):
    chain = api.post("/api/ruleChain", {"name": "Strict"}, format="json").json()
    meta = {"ruleChainId": chain["id"], "firstNodeIndex": 0, "connections": [],
            "nodes": [{"type": "org.example.NoSuchNode", "name": "x", "configuration": {}}]}
    assert api.post("/api/ruleChain/metadata", meta, format="json").status_code == 400
    row = logs(api, textSearch="FAILURE")["data"][0]
    assert (row["entityName"], row["actionType"], row["entityId"]["id"]) == ("Strict", "UPDATED", chain["id"]["id"])
    assert "NoSuchNode" in row["actionFailureDetails"]
