"""ThingsBoard's generated client (tb-pe-client) assigning alarms and reading propagated ones on the
real server. Reuses the server and client fixtures of tests/test_tb_client.py."""

import pytest
from tb_pe_client.models import Alarm, EntityRelation
from tb_pe_client.models.asset import Asset

from tests.test_tb_client import client, device, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server


def new_alarm(device, alarm_type, **extra) -> Alarm:  # noqa: F811
    """What the client needs to build an Alarm (its model requires these fields)."""
    return Alarm.from_dict({"originator": {"entityType": "DEVICE", "id": str(device.id.id)}, "type": alarm_type,
                            "name": alarm_type, "severity": "MAJOR", "acknowledged": False, "cleared": False,
                            "status": "ACTIVE_UNACK", **extra})


def test_it_assigns_unassigns_and_filters_by_assignee(client, device):  # noqa: F811
    me = client.get_user()
    alarm = client.save_alarm(new_alarm(device, "Client assigned"))
    alarm_id = str(alarm.id.id)
    assigned = client.assign_alarm(alarm_id, str(me.id.id))
    assert str(assigned.assignee_id.id) == str(me.id.id) and assigned.assign_ts > 0
    info = client.get_alarm_info_by_id(alarm_id)
    assert info.assignee.email == me.email
    mine = client.get_alarms_by_entity("DEVICE", str(device.id.id), 10, 0, assignee_id=str(me.id.id))
    assert [str(a.id.id) for a in mine.data] == [alarm_id]
    users = client.get_users_for_assign(alarm_id, 10, 0)
    assert me.email in [u.email for u in users.data]
    unassigned = client.unassign_alarm(alarm_id)
    assert unassigned.assignee_id is None
    assert client.get_alarms_by_entity("DEVICE", str(device.id.id), 10, 0, assignee_id=str(me.id.id)).data == []


def test_an_alarm_propagated_to_a_parent_is_in_its_list(client, device):  # noqa: F811
    room = client.save_asset(Asset(name="client-room", type="room"))
    client.save_relation(EntityRelation.from_dict({
        "from": {"entityType": "ASSET", "id": str(room.id.id)}, "to": {"entityType": "DEVICE", "id": str(device.id.id)},
        "type": "Contains", "typeGroup": "COMMON"}))
    alarm = client.save_alarm(new_alarm(device, "Client propagated", propagate=True, propagateRelationTypes=[]))
    listed = client.get_alarms_by_entity("ASSET", str(room.id.id), 10, 0)
    assert [str(a.id.id) for a in listed.data] == [str(alarm.id.id)]
