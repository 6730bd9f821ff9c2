"""ThingsBoard's own generated client (tb-pe-client) driving the dashboard and queue endpoints on the real server.

Reuses the server and client fixtures of tests/test_tb_client.py (a fresh server for this module).
"""

import json
from pathlib import Path

import pytest
from tb_pe_client.exceptions import ApiException
from tb_pe_client.models import Dashboard, EntityGroup, HomeDashboardInfo, Queue

from tests.test_tb_client import client, server_url  # noqa: F401  (fixtures)

pytestmark = pytest.mark.server
EXPORT = json.loads((Path(__file__).resolve().parent.parent / "dashboards" / "tests" / "data" /
                     "thermostats.json").read_text())


def test_it_imports_a_thingsboard_export_and_reads_it_back(client):  # noqa: F811
    saved = client.save_dashboard(Dashboard(title=EXPORT["title"], configuration=EXPORT["configuration"]))
    assert saved is not None and saved.title == saved.name == "Thermostats" and saved.version == 1
    dashboard_id = str(saved.id.id)
    fetched = client.get_dashboard_by_id(dashboard_id)
    assert fetched.configuration == EXPORT["configuration"]
    assert list(fetched.configuration["widgets"]) == list(EXPORT["configuration"]["widgets"])
    assert client.get_dashboard_info_by_id(dashboard_id).title == "Thermostats"
    page = client.get_tenant_dashboards(page_size=10, page=0, text_search="thermo")
    assert [d.title for d in page.data] == ["Thermostats"] and page.total_elements == 1
    assert [d.title for d in client.get_user_dashboards(page_size=10, page=0).data] == ["Thermostats"]
    assert [d.title for d in client.get_dashboards_by_ids(dashboard_ids=[dashboard_id])] == ["Thermostats"]
    fetched.title = "Thermostats v2"
    updated = client.save_dashboard(fetched)
    assert updated.version == 2 and updated.configuration == EXPORT["configuration"]
    fetched.title = "lost update"  # still at version 1
    with pytest.raises(ApiException) as caught:
        client.save_dashboard(fetched)
    assert caught.value.status == 409
    client.delete_dashboard(dashboard_id)
    with pytest.raises(ApiException) as caught:
        client.get_dashboard_by_id(dashboard_id)
    assert caught.value.status == 404


def test_the_home_dashboard(client):  # noqa: F811
    saved = client.save_dashboard(Dashboard(title="Home", configuration={"widgets": {}}))
    client.set_tenant_home_dashboard_info(HomeDashboardInfo(dashboard_id=saved.id, hide_dashboard_toolbar=False))
    info = client.get_home_dashboard_info()
    assert info.dashboard_id.id == saved.id.id and info.hide_dashboard_toolbar is False
    assert client.get_home_dashboard().title == "Home"
    assert isinstance(client.get_server_time(), int)


def test_dashboard_groups_and_the_users_dashboards(client):  # noqa: F811
    group = client.save_entity_group(EntityGroup(name="Client boards", type="DASHBOARD"))
    group_id = str(group.id.id)
    saved = client.save_dashboard(Dashboard(title="Grouped", configuration={"widgets": {}}),
                                  entity_group_ids=[group_id])
    page = client.get_dashboards_by_entity_group_id(group_id, page_size=10, page=0)
    assert [d.title for d in page.data] == ["Grouped"] and [g.name for g in page.data[0].groups] == ["Client boards"]
    exported = client.export_group_dashboards(group_id, limit=10)
    assert [d.title for d in exported] == ["Grouped"] and exported[0].configuration == {"widgets": {}}
    client.import_group_dashboards(group_id, [Dashboard(title="Imported", configuration={"widgets": {}})])
    assert client.get_dashboards_by_entity_group_id(group_id, page_size=10, page=0).total_elements == 2
    info = client.report_user_dashboard_action(str(saved.id.id), "star")
    assert [d.title for d in info.starred] == ["Grouped"] and info.last == []
    client.report_user_dashboard_action(str(saved.id.id), "visit")
    info = client.get_last_visited_dashboards()
    assert [(d.title, d.starred) for d in info.last] == [("Grouped", True)]


def test_the_rule_engine_queues(client):  # noqa: F811
    page = client.get_tenant_queues_by_service_type(service_type="TB_RULE_ENGINE", page_size=10, page=0,
                                                    sort_property="name", sort_order="ASC")
    assert [q.name for q in page.data] == ["HighPriority", "Main", "SequentialByOriginator"]
    main = client.get_queue_by_name("Main")
    assert main.submit_strategy.type == "BURST" and main.processing_strategy.type == "SKIP_ALL_FAILURES"
    assert client.get_queue_by_id(str(main.id.id)).name == "Main"
    with pytest.raises(ApiException) as caught:
        client.save_queue("TB_RULE_ENGINE", Queue(name="Mine", topic="tb_rule_engine.mine"))
    assert caught.value.status == 403
