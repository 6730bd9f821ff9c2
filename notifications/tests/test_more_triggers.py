"""The triggers the first set left out, through their real paths: ENTITY_ACTION for what an integration's
auto-provisioning creates (one signal per batch, no query without a rule), RESOURCES_SHORTAGE from the periodic
job (once per crossing), and EDGE_* / NEW_PLATFORM_VERSION rules, which are accepted and never fire."""

import uuid

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from devices.provisioning import Provisioner, entities_provisioned
from integrations import pipeline
from integrations.tests.uplinks import integration, json_uplink
from notifications import resources, tasks, triggers
from notifications.models import NotificationRequest
from notifications.tests.helpers import template, users_target
from notifications.tests.test_triggers import ADMINS, inbox, make_rule
from tbproject.testing.factories import make_device
from tbproject.testing.fixtures import api_as

pytestmark = pytest.mark.django_db

SYSADMINS = {"type": "SYSTEM_ADMINISTRATORS"}


def test_auto_provisioning_fires_entity_action_added_for_what_it_creates(
        api, tenant, tenant_admin, other_tenant, mallory, django_capture_on_commit_callbacks):
    integ, theirs = integration(tenant), integration(other_tenant)  # before the rule: no event of theirs waits
    make_rule(api, "ENTITY_ACTION", {"entityTypes": ["DEVICE", "CUSTOMER", "ENTITY_GROUP"], "created": True},
              ADMINS, "${entityType} ${actionType}", "${entityType} '${entityName}' was ${actionType}")
    sent = []
    entities_provisioned.connect(lambda sender, **kw: sent.append(kw), weak=False, dispatch_uid="test.provisioned")
    try:
        batch = [json_uplink(integ, {"name": f"th-{i}", "customer": "Acme", "group": "Floor 3"}) for i in (1, 2)]
        with django_capture_on_commit_callbacks(execute=True):
            pipeline.process(batch)
            pipeline.process([json_uplink(theirs, {"name": "their-1"})])
        with django_capture_on_commit_callbacks(execute=True):
            pipeline.process(batch)  # known devices: nothing created, nothing told
    finally:
        entities_provisioned.disconnect(dispatch_uid="test.provisioned")
    assert sorted(inbox(tenant_admin)) == [
        ("Customer added", "Customer 'Acme' was added"), ("Device added", "Device 'th-1' was added"),
        ("Device added", "Device 'th-2' was added"), ("Entity group added", "Entity group 'Floor 3' was added")]
    assert [len(s["entities"]) for s in sent if s["tenant_id"] == tenant.pk] == [2]  # one signal for the batch
    assert inbox(mallory) == []


def test_a_provisioned_batch_costs_no_query_without_an_entity_action_rule(tenant):
    device = make_device(tenant, "quiet")
    triggers.wanted("ENTITY_ACTION", tenant.pk)  # the cache of rule owners is loaded once
    with CaptureQueriesContext(connection) as queries:
        entities_provisioned.send(Provisioner, tenant_id=tenant.pk, entities=[device])
    assert len(queries) == 0 and NotificationRequest.objects.count() == 0


def test_resources_shortage_fires_once_per_crossing(sysadmin, monkeypatch, django_capture_on_commit_callbacks):
    cache.clear()  # the readings kept by an earlier check
    monkeypatch.setattr(resources, "read", lambda previous: pytest.fail("read without a rule"))
    assert tasks.check_resources() == 0
    make_rule(api_as(sysadmin), "RESOURCES_SHORTAGE", {"ramThreshold": 0.8, "cpuThreshold": 0.9}, SYSADMINS,
              "Warning: ${resource} shortage", "${resource} usage at ${usage}% on ${serviceType}")
    readings = iter([{"CPU": None, "RAM": 50, "STORAGE": 10}, {"CPU": 40, "RAM": 85, "STORAGE": 10},
                     {"CPU": 40, "RAM": 90, "STORAGE": 10}, {"CPU": 40, "RAM": 60, "STORAGE": 10},
                     {"CPU": 95, "RAM": 81, "STORAGE": 99}])
    monkeypatch.setattr(resources, "read", lambda previous: (next(readings), [100, 50]))
    for _ in range(5):
        with django_capture_on_commit_callbacks(execute=True):
            tasks.check_resources()
    assert sorted(text for _, text in inbox(sysadmin)) == [  # STORAGE: the threshold unset is 0.8
        "CPU usage at 95% on MONOLITH", "RAM usage at 81% on MONOLITH", "RAM usage at 85% on MONOLITH",
        "STORAGE usage at 99% on MONOLITH"]
    cache.clear()


def test_the_host_readings_are_percents():
    usage, sample = resources.read(None)
    assert usage["CPU"] is None and sample  # the first check has nothing to compare the CPU time with
    assert all(0 <= usage[r] <= 100 for r in ("RAM", "STORAGE"))


def test_edge_and_new_version_rules_are_accepted_and_never_fire(api, sysadmin, tenant, tenant_admin):
    make_rule(api, "EDGE_CONNECTION", {"edges": [str(uuid.uuid4())], "notifyOn": ["CONNECTED", "DISCONNECTED"]},
              ADMINS, "Edge ${edgeName}", "${eventType}", name="edge")
    make_rule(api, "EDGE_COMMUNICATION_FAILURE", {"edges": []}, ADMINS, "Edge", "${failureMsg}", name="failure")
    make_rule(api_as(sysadmin), "NEW_PLATFORM_VERSION", {}, SYSADMINS, "New version", "${latestVersion}")
    for kind, owner in (("EDGE_CONNECTION", tenant.pk), ("EDGE_COMMUNICATION_FAILURE", tenant.pk),
                        ("NEW_PLATFORM_VERSION", None)):
        assert triggers.wanted(kind, owner)  # stored and enabled ...
        assert triggers.handle([triggers.TriggerEvent(kind, owner, {})]) == 0  # ... and nothing fires them
    assert api.get("/api/notification/rules?pageSize=10&page=0").json()["totalElements"] == 2


@pytest.mark.parametrize("trigger, config", [
    ("EDGE_CONNECTION", {"notifyOn": ["ONLINE"]}), ("EDGE_CONNECTION", {"edges": "x"}),
    ("RESOURCES_SHORTAGE", {"cpuThreshold": 1.5}), ("RESOURCES_SHORTAGE", {"ramThreshold": "high"}),
])
def test_bad_edge_and_resource_configs_are_400(api, sysadmin, trigger, config):
    client = api_as(sysadmin) if trigger == "RESOURCES_SHORTAGE" else api
    tpl = template(client, "t", trigger, {"deliveryMethodsTemplates": {"WEB": {"method": "WEB", "subject": "s",
                                                                               "body": "b"}}})
    target = users_target(client, "to", SYSADMINS if client is not api else ADMINS)
    res = client.post("/api/notification/rule", {"name": "bad", "templateId": tpl["id"], "triggerType": trigger,
                                                  "triggerConfig": config,
                                                  "recipientsConfig": {"targets": [target["id"]["id"]]}},
                      format="json")
    assert res.status_code == 400 and "triggerConfig." in res.json()["message"], res.content
