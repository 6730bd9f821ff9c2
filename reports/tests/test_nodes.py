"""The reporting rule nodes, run directly (a node row, a context, a message)."""

import uuid
from types import SimpleNamespace

import pytest

from reports import nodes
from reports.models import BlobEntity, Report
from reports.tests.helpers import make_template
from rulechains.messages import Msg
from rulechains.nodes import NODES
from rulechains.nodes.base import ConfigError, NodeContext


def _node(cls, tenant, configuration):
    return cls(SimpleNamespace(pk=uuid.uuid4(), name="n", configuration=configuration, tenant_id=tenant.pk))


def _msg(tenant, data=None, metadata=None):
    return Msg("generateReport", tenant.pk, "TENANT", tenant.pk, data or {}, metadata or {})


def test_the_nodes_join_the_rule_node_table():
    assert NODES.load(nodes.GENERATE_REPORT) is nodes.GenerateReportNode
    assert NODES.load(nodes.GENERATE_DASHBOARD_REPORT) is nodes.GenerateDashboardReportNode


@pytest.mark.parametrize("cls, configuration", [
    (nodes.GenerateReportNode, {"useConfigFromMessage": False, "config": {"userId": "x"}}),
    (nodes.GenerateReportNode, {"config": [1]}),
    (nodes.GenerateReportNode, {"useConfigFromMessage": "perhaps"}),
    (nodes.GenerateDashboardReportNode, {"useReportConfigFromMessage": False, "reportConfig": {}}),
    (nodes.GenerateDashboardReportNode, {"useReportConfigFromMessage": False,
                                         "reportConfig": {"dashboardId": "d", "userId": "u", "type": "GIF"}}),
])
def test_bad_configurations_are_config_errors(cls, configuration):
    with pytest.raises(ConfigError):
        cls.clean_config(configuration)


def test_generate_report_adds_the_report_id_to_the_metadata(tenant, tenant_admin, other_tenant):
    template = make_template(tenant)
    config = {"reportTemplateId": {"entityType": "REPORT_TEMPLATE", "id": str(template.pk)},
              "userId": {"entityType": "USER", "id": str(tenant_admin.pk)}, "timezone": "UTC"}
    node = _node(nodes.GenerateReportNode, tenant, {"useConfigFromMessage": False, "config": config})
    [out] = node.process(NodeContext(tenant.pk, 0), _msg(tenant, metadata={"reports": "earlier"}))
    report = Report.objects.get()
    assert out.relation == "Success" and out.msg.metadata["reports"] == f"earlier,{report.pk}"
    from_message = _node(nodes.GenerateReportNode, tenant, {"useConfigFromMessage": True})
    [out] = from_message.process_batch(NodeContext(tenant.pk, 0), [_msg(tenant, data=config)])[0]
    assert out.relation == "Success" and Report.objects.count() == 2
    # another tenant's chain cannot use this template
    [out] = from_message.process_batch(NodeContext(other_tenant.pk, 0), [_msg(other_tenant, data=config)])[0]
    assert out.relation == "Failure" and "is not found" in out.error


def test_dashboard_report_without_chromium_fails_the_message(tenant, tenant_admin, settings):
    from dashboards.models import Dashboard

    settings.REPORTS_CHROMIUM_PATH = ""
    board = Dashboard.objects.create(tenant=tenant, title="Plant", configuration_text="{}")
    node = _node(nodes.GenerateDashboardReportNode, tenant, {"useReportConfigFromMessage": True})
    data = {"reportConfig": {"dashboardId": str(board.pk), "userId": str(tenant_admin.pk), "type": "PDF"}}
    [out] = node.process_batch(NodeContext(tenant.pk, 0), [_msg(tenant, data=data)])[0]
    assert out.relation == "Failure" and "report server" in out.error and not BlobEntity.objects.exists()
    [out] = node.process_batch(NodeContext(tenant.pk, 0), [_msg(tenant, data={"x": 1})])[0]
    assert out.relation == "Failure" and "reportConfig" in out.error
