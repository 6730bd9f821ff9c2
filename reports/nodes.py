"""The reporting rule nodes of ThingsBoard PE, joined to rulechains' node table by reports/apps.py.

``generate report`` (TbGenerateReportV2Node): makes a report of a report template as a user, in a
time zone; configuration ``{"useConfigFromMessage", "config": {"reportTemplateId", "userId",
"timezone", "targets", "notificationTemplateId"}}``; with ``useConfigFromMessage`` the same keys come
from the message data (as a scheduled report's event sends them). It runs as a report job (listed in
/api/jobs; reports/jobs.py run_now), whose ``targets`` (notification target ids) are notified with the
notification template ``notificationTemplateId`` (or a plain one) once the report is made. The report's id
is added to the metadata key ``reports`` (comma-separated when there is one already); Failure when the
template or user is not the tenant's or rendering fails; a notification that cannot be sent is logged on the
job and never fails the message.

``generate dashboard report`` (TbGenerateReportNode): renders a dashboard (DashboardReportConfig in
``reportConfig``, or ``reportConfig`` of the message data with ``useReportConfigFromMessage``) and
stores it as a blob entity, whose id is added to the metadata key ``attachments``. The page rendered
is always this server's: ``useSystemReportsServer``/``reportsServerEndpointUrl`` and ``baseUrl`` are
read and ignored, so that no configuration makes the server fetch another host.

Both run where the rule engine runs (a worker, or in-process in embedded mode), never on a request thread.
"""

import json

from django.contrib.auth import get_user_model
from rest_framework.exceptions import APIException

from reports import jobs, rendering, services
from reports.models import ReportTemplate
from rulechains.messages import SUCCESS, changed
from rulechains.nodes.base import BaseNode, ConfigError, NodeError, Out, bool_option, field

__all__ = ["GenerateReportNode", "GenerateDashboardReportNode", "NODE_TYPES", "GENERATE_REPORT",
           "GENERATE_DASHBOARD_REPORT"]

_TB = "org.thingsboard.rule.engine.report."
GENERATE_REPORT = _TB + "TbGenerateReportV2Node"
GENERATE_DASHBOARD_REPORT = _TB + "TbGenerateReportNode"
NODE_TYPES = {GENERATE_REPORT: "reports.nodes.GenerateReportNode",
              GENERATE_DASHBOARD_REPORT: "reports.nodes.GenerateDashboardReportNode"}


def _object(value, key: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{key} must be a JSON object")
    return value


def _data_of(msg) -> dict:
    data = msg.data
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except ValueError:
            data = None
    if not isinstance(data, dict):
        raise NodeError("Report config from message: the message data must be a JSON object")
    return data


def _append(msg, key: str, value: str):
    current = msg.metadata.get(key)
    return changed(msg, metadata={**msg.metadata, key: f"{current},{value}" if current else value})


def _user(tenant_id, value):
    raw = value.get("id") if isinstance(value, dict) else value
    user = get_user_model().objects.filter(tenant_id=tenant_id, is_active=True, pk=_uuid(raw, "userId")).first()
    if user is None:
        raise NodeError(f"User with id [{raw}] is not found")
    return user


def _uuid(raw, what: str):
    import uuid

    try:
        return uuid.UUID(str(raw))
    except (TypeError, ValueError, AttributeError):
        raise NodeError(f"{what} is not a valid id: {str(raw)[:64]}") from None


class GenerateReportNode(BaseNode):
    label = "generate report"
    side_effects = True
    #: ThingsBoard's form starts with static settings to fill in; a node dragged in here reads the message
    #: (as a scheduled generateReport sends it), so that it runs as it comes
    defaults = {"useConfigFromMessage": True, "config": None}
    fields = (field("useConfigFromMessage", "bool", "Use report config from message"),
              field("config", "json", "Report config",
                    help='{"reportTemplateId": {"entityType": "REPORT_TEMPLATE", "id": ...}, '
                         '"userId": {"entityType": "USER", "id": ...}, "timezone": "Europe/Berlin", '
                         '"targets": [notification target ids], "notificationTemplateId": ...}'))

    @classmethod
    def clean_config(cls, configuration: dict) -> dict:
        from_message = bool_option(configuration, "useConfigFromMessage")
        config = _object(configuration.get("config"), "config")
        if not from_message:
            for key in ("reportTemplateId", "userId"):
                if not config.get(key):
                    raise ConfigError(f"config.{key} should be specified!")
            jobs.notify_options(config, ConfigError)
        return {"useConfigFromMessage": from_message, "config": config}

    def process(self, ctx, msg) -> list[Out]:
        config = _data_of(msg) if self.config["useConfigFromMessage"] else self.config["config"]
        raw = config.get("reportTemplateId")
        raw = raw.get("id") if isinstance(raw, dict) else raw
        template = ReportTemplate.objects.filter(tenant_id=ctx.tenant_id, pk=_uuid(raw, "reportTemplateId")).first()
        if template is None:
            raise NodeError(f"Report template with id [{raw}] is not found")
        user = _user(ctx.tenant_id, config.get("userId"))
        options = jobs.notify_options(config, NodeError)
        try:
            tz = services.check_dashboard_config({"timezone": config.get("timezone")})["timezone"]
        except APIException as e:
            raise NodeError(str(e.detail if not isinstance(e.detail, list) else e.detail[0])) from None
        origin = {"originator": {"entityType": msg.originator_type, "id": str(msg.originator_id)}}
        job = jobs.run_now(template, user, tz, bool(config.get("makePublic")), options, origin)
        if job is None:
            raise NodeError("Report job was deleted while it ran")
        if job.report_id is None:
            raise NodeError(job.error or f"Report job is {job.status.lower()}")
        return [Out(SUCCESS, _append(msg, "reports", str(job.report_id)))]


class GenerateDashboardReportNode(BaseNode):
    label = "generate dashboard report"
    side_effects = True
    defaults = {"useSystemReportsServer": True, "reportsServerEndpointUrl": None, "useReportConfigFromMessage": True,
                "reportConfig": None}
    fields = (field("useReportConfigFromMessage", "bool", "Use report config from message"),
              field("reportConfig", "json", "Report config",
                    help='{"dashboardId": ..., "userId": ..., "timezone": "UTC", "type": "PDF", "namePattern": ...}'))

    @classmethod
    def clean_config(cls, configuration: dict) -> dict:
        from_message = bool_option(configuration, "useReportConfigFromMessage", True)
        bool_option(configuration, "useSystemReportsServer", True)
        config = _object(configuration.get("reportConfig"), "reportConfig")
        if not from_message:
            if not config.get("dashboardId") or not config.get("userId"):
                raise ConfigError("reportConfig.dashboardId and reportConfig.userId should be specified!")
            try:
                config = services.check_dashboard_config(config)
            except APIException as e:
                raise ConfigError(str(e.detail[0] if isinstance(e.detail, list) else e.detail)) from None
        return {"useReportConfigFromMessage": from_message, "reportConfig": config}

    def process(self, ctx, msg) -> list[Out]:
        if self.config["useReportConfigFromMessage"]:
            config = _data_of(msg).get("reportConfig")
            if not isinstance(config, dict):
                raise NodeError("Report config from message: reportConfig must be a JSON object")
        else:
            config = self.config["reportConfig"]
        user = _user(ctx.tenant_id, config.get("userId"))
        try:
            name, content_type, data = services.dashboard_report(user, config.get("dashboardId"), config)
        except rendering.ReportServerError as e:
            raise NodeError(e.message) from None
        except APIException as e:
            raise NodeError(str(e.detail[0] if isinstance(e.detail, list) else e.detail)) from None
        blob = services.save_blob(user, name, content_type, data)
        return [Out(SUCCESS, _append(msg, "attachments", str(blob.pk)))]
