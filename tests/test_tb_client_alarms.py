"""ThingsBoard's own generated client (tb-pe-client) on alarms (save, types, highest severity, the v2
lists, ack/clear) and on customer infos, short info and title.

Reuses the server and client fixtures of tests/test_tb_client.py (a fresh server for this module).
"""

import pytest
from tb_pe_client.models import Alarm, Customer, Device

from tests.test_tb_client import client, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server


def test_it_saves_lists_and_settles_alarms(client):  # noqa: F811
    device = client.save_device(Device(name="client-alarmed", type="meter"))
    device_id = str(device.id.id)
    assert client.get_highest_alarm_severity("DEVICE", device_id) is None
    saved = client.save_alarm(Alarm(originator=device.id, type="Overheat", severity="MAJOR", acknowledged=False,
                                    cleared=False, name="Overheat", status="ACTIVE_UNACK", details={"t": 90}))
    assert saved is not None and saved.status == "ACTIVE_UNACK" and saved.details == {"t": 90}
    client.save_alarm(Alarm(originator=device.id, type="Low battery", severity="MINOR", acknowledged=False,
                            cleared=False, name="Low battery", status="ACTIVE_UNACK"))
    types = client.get_alarm_types(page_size=10, page=0)
    assert [t.type for t in types.data] == ["Low battery", "Overheat"]
    assert client.get_highest_alarm_severity("DEVICE", device_id) == "MAJOR"
    page = client.get_alarms_v2("DEVICE", device_id, page_size=10, page=0, severity_list=["MINOR"])
    assert [a.type for a in page.data] == ["Low battery"]
    assert client.ack_alarm(str(saved.id.id)).status == "ACTIVE_ACK"
    assert client.clear_alarm(str(saved.id.id)).status == "CLEARED_ACK"
    active = client.get_all_alarms_v2(page_size=10, page=0, status_list=["ACTIVE"])
    assert [a.type for a in active.data] == ["Low battery"]
    assert client.get_highest_alarm_severity("DEVICE", device_id, search_status="ACTIVE") == "MINOR"


def test_it_reads_customer_infos_and_titles(client):  # noqa: F811
    customer = client.save_customer(Customer(title="Info Customer"))
    customer_id = str(customer.id.id)
    info = client.get_customer_info_by_id(customer_id)
    assert info.title == "Info Customer" and info.owner_name == "Client Test"
    assert [c.title for c in client.get_all_customer_infos(page_size=10, page=0, text_search="info").data] == [
        "Info Customer"]
    assert client.get_customer_title_by_id(customer_id) == "Info Customer"
    assert client.get_short_customer_info_by_id(customer_id) == {"title": "Info Customer", "isPublic": False}
    assert client.is_tbel_enabled() is True
    root = client.get_rule_chains(page_size=10, page=0).data[0]
    assert client.get_rule_chain_output_labels(str(root.id.id)) == []
