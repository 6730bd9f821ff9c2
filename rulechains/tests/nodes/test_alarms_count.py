"""ThingsBoard PE's alarms count node (V2): counts per originator and propagation entity."""

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from rulechains import engine, nodes
from rulechains.alarms import alarm_json
from rulechains.models import Alarm, EntityAlarm
from rulechains.nodes.base import ConfigError, NodeContext
from rulechains.tests.helpers import events_of, install_root, make_node, msg, node, run_node
from tbproject.testing.factories import make_asset, make_device

pytestmark = pytest.mark.django_db

COUNT = "org.thingsboard.rule.engine.analytics.latest.alarm.TbAlarmsCountNodeV2"
NOW = 1_700_000_000_000
MAPPINGS = [{"target": "active", "typesList": [], "severityList": [], "statusList": ["ACTIVE"], "latestInterval": 0},
            {"target": "criticalUnack", "typesList": ["High"], "severityList": ["CRITICAL"],
             "statusList": ["UNACK"], "latestInterval": 0},
            {"target": "lastHour", "statusList": [], "latestInterval": 3_600_000}]


def alarm(tenant, entity, alarm_type="High", severity="CRITICAL", cleared=False, acked=False, created=NOW):
    return Alarm.objects.create(tenant=tenant, originator_type="DEVICE", originator_id=entity.pk, type=alarm_type,
                                severity=severity, cleared=cleared, acknowledged=acked, created_time=created)


def test_counts_for_the_originator_and_the_entities_its_alarm_propagates_to(tenant, other_tenant):
    device, building = make_device(tenant, "d"), make_asset(tenant, "b")
    raised = alarm(tenant, device)
    alarm(tenant, device, cleared=True, created=NOW - 7_200_000)
    alarm(tenant, device, alarm_type="Low", severity="MINOR", acked=True)
    EntityAlarm.objects.create(tenant=tenant, alarm=raised, entity_type="ASSET", entity_id=building.pk)
    theirs = make_device(other_tenant, "x")
    Alarm.objects.create(tenant=other_tenant, originator_type="DEVICE", originator_id=device.pk, type="High")
    alarm(other_tenant, theirs)  # another tenant's alarms are never counted
    chain = install_root(tenant, [node(COUNT, "count", alarmsCountMappings=MAPPINGS,
                                       countAlarmsForPropagationEntities=True, propagationEntityTypes=[],
                                       outMsgType="POST_TELEMETRY_REQUEST"), node(nodes.LOG, "after", True)],
                         [(0, 1, "Success")])
    engine.process([msg(tenant, device, "ALARM", data=alarm_json(raised))], now=NOW)
    got = {e["entityId"]: json.loads(e["data"]) for e in events_of(chain.nodes.get(index=1), "IN")}
    assert got == {str(device.pk): {"active": 2, "criticalUnack": 2, "lastHour": 2},  # the cleared one is unacked too
                   str(building.pk): {"active": 1, "criticalUnack": 1, "lastHour": 1}}


def test_one_set_of_queries_per_batch(tenant):
    devices = [make_device(tenant, f"d{i}") for i in range(5)]
    for d in devices:
        alarm(tenant, d)
    msgs = [msg(tenant, d, "ALARM", data=alarm_json(alarm(tenant, d))) for d in devices]
    with CaptureQueriesContext(connection) as queries:
        outs = run_node(tenant, COUNT, msgs, alarmsCountMappings=MAPPINGS[:1], propagationEntityTypes=["ASSET"])
    assert len(queries) <= 3
    assert [o[0].msg.data for o in outs] == [{"active": 2}] * 5


@pytest.mark.parametrize("configuration, error", [
    ({"alarmsCountMappings": []}, "alarmsCountMappings"),
    ({"alarmsCountMappings": [{"target": ""}]}, "target"),
    ({"alarmsCountMappings": [{"target": "x", "statusList": ["OPEN"]}]}, "statusList"),
    ({"alarmsCountMappings": [{"target": "x", "severityList": "CRITICAL"}]}, "severityList"),
    ({"alarmsCountMappings": [{"target": "x", "latestInterval": -1}]}, "latestInterval"),
])
def test_bad_configurations_are_refused(configuration, error):
    with pytest.raises(ConfigError, match=error):
        nodes.get_node(COUNT).clean_config(configuration)


def test_the_database_counts_each_alarm_once_per_entity_without_reading_alarm_rows(tenant):
    device, building, other = make_device(tenant, "d"), make_asset(tenant, "b"), make_device(tenant, "o")
    own = [alarm(tenant, device), alarm(tenant, device, acked=True, created=NOW - 7_200_000),
           alarm(tenant, device, alarm_type="Low", severity="MINOR", cleared=True, acked=True)]
    for a in own:  # ThingsBoard also keeps a propagation row of an alarm to its own originator
        EntityAlarm.objects.create(tenant=tenant, alarm=a, entity_type="DEVICE", entity_id=device.pk)
    EntityAlarm.objects.create(tenant=tenant, alarm=own[0], entity_type="ASSET", entity_id=building.pk)
    EntityAlarm.objects.create(tenant=tenant, alarm=own[2], entity_type="ASSET", entity_id=building.pk)
    foreign = alarm(tenant, other, severity="MAJOR", cleared=True)
    EntityAlarm.objects.create(tenant=tenant, alarm=foreign, entity_type="ASSET", entity_id=building.pk)
    mappings = [*MAPPINGS, {"target": "any", "statusList": ["ANY"]},
                {"target": "ackOrCleared", "statusList": ["ACK", "CLEARED"], "severityList": ["MINOR", "MAJOR"]}]
    with CaptureQueriesContext(connection) as queries:
        [outs] = make_node(tenant, COUNT, alarmsCountMappings=mappings).process_batch(
            NodeContext(tenant.pk, NOW), [msg(tenant, device, "ALARM", data=alarm_json(own[0]))])
    got = {o.msg.originator_id: o.msg.data for o in outs}
    assert got == {device.pk: {"active": 2, "criticalUnack": 1, "lastHour": 2, "any": 3, "ackOrCleared": 1},
                   building.pk: {"active": 1, "criticalUnack": 1, "lastHour": 3, "any": 3, "ackOrCleared": 2}}
    counting = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert len(queries) == 3 and len(counting) == 2
    assert not any('"details"' in q["sql"] for q in queries)  # no alarm rows are loaded
