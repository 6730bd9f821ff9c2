"""ThingsBoard's own generated client (tb-pe-client) driving the scheduler event endpoints on the real server.

Reuses the server and client fixtures of tests/test_tb_client.py (a fresh server for this module).
"""

import time

import pytest
from tb_pe_client.exceptions import ApiException
from tb_pe_client.models import Device, EntityId, SchedulerEvent

from tests.test_tb_client import client, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server
DAY = 86_400_000


def test_it_saves_reads_lists_toggles_and_deletes_scheduler_events(client):  # noqa: F811
    device = client.save_device(Device(name="sched-valve", type="valve"))
    start = int(time.time() * 1000) + DAY
    event = SchedulerEvent(
        name="Close valve", type="sendRpcRequest",
        schedule={"timezone": "Europe/Berlin", "startTime": start,
                  "repeat": {"type": "WEEKLY", "repeatOn": [1, 3, 5], "endsOn": 0}},
        configuration={"originatorId": {"entityType": "DEVICE", "id": str(device.id.id)},
                       "msgType": "RPC_CALL_FROM_SERVER_TO_DEVICE",
                       "msgBody": {"method": "close", "params": {}}, "metadata": {"oneway": "true"}})
    saved = client.save_scheduler_event(event)
    assert saved is not None and saved.id.entity_type == "SCHEDULER_EVENT" and saved.enabled is True
    assert saved.originator_id.id == device.id.id and saved.owner_id.entity_type == "TENANT"
    pk = str(saved.id.id)
    fetched = client.get_scheduler_event_by_id(pk)
    assert fetched.configuration["msgBody"] == {"method": "close", "params": {}}
    info = client.get_scheduler_event_info_by_id(pk)
    assert info.name == "Close valve" and info.customer_is_public is False
    assert [e.name for e in client.get_all_scheduler_events(type="sendRpcRequest")] == ["Close valve"]
    assert client.get_all_scheduler_events(type="generateReport") == []
    page = client.get_scheduler_events(page_size=10, page=0, text_search="valve")
    assert [e.name for e in page.data] == ["Close valve"] and page.total_elements == 1
    assert [e.name for e in client.get_scheduler_events_by_ids(scheduler_event_ids=[pk])] == ["Close valve"]
    in_range = client.get_scheduler_events_by_range(start_time=start, end_time=start + 7 * DAY - 1)
    assert len(in_range) == 1 and len(in_range[0].timestamps) == 3
    off = client.enable_scheduler_event(pk, False)
    assert off.enabled is False
    fetched.name = "Close valve v2"
    fetched.originator_id = EntityId(entity_type="DEVICE", id=device.id.id)
    assert client.save_scheduler_event(fetched).name == "Close valve v2"
    client.delete_scheduler_event(pk)
    with pytest.raises(ApiException) as caught:
        client.get_scheduler_event_by_id(pk)
    assert caught.value.status == 404


def test_the_client_sees_a_bad_schedule_as_a_400(client):  # noqa: F811
    with pytest.raises(ApiException) as caught:
        client.save_scheduler_event(SchedulerEvent(name="Bad", type="custom",
                                                   schedule={"timezone": "Atlantis/Capital", "startTime": 1}))
    assert caught.value.status == 400 and "Unknown time zone" in caught.value.body
