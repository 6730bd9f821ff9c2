"""The entities of one tenant that tests/test_tenant_isolation.py calls every id route with: each named with a
marker that must never come back to another tenant."""

from calculated.models import CalculatedField, Job
from converters.models import Converter, ConverterTest
from dashboards.models import Dashboard, Resource, WidgetsBundle, WidgetType
from devices.choices import GroupType
from devices.models import DeviceGroupOtaPackage, EntityView, OtaPackage
from integrations.models import Integration
from roles.models import GroupPermission, Role
from rulechains.models import Alarm, AlarmComment, QueueStats, Rpc, RuleChain, RuleNode
from scheduler.models import SchedulerEvent
from tbproject.testing.factories import default_profile, make_asset, make_customer, make_device, make_group
from tbproject.testing.limits import limit_tenant
from tenants.choices import Authority
from tenants.models import ApiKey, User

__all__ = ["SECRET", "World"]

SECRET = "zz-foreign-marker"  # in every name of the foreign world: must never come back


class World:
    """One tenant's entities, each named with the marker."""

    def __init__(self, tenant, tag: str):
        self.tenant = tenant
        self.customer = make_customer(tenant, f"{SECRET}-{tag}-customer")
        self.device = make_device(tenant, f"{SECRET}-{tag}-device")
        self.asset = make_asset(tenant, f"{SECRET}-{tag}-asset")
        self.entity_view = EntityView.objects.create(tenant=tenant, name=f"{SECRET}-{tag}-view", type="v",
                                                     entity_type="DEVICE", entity_id=self.device.pk)
        self.group = make_group(tenant, f"{SECRET}-{tag}-group", GroupType.DEVICE, [self.device])
        self.queue_stats = QueueStats.objects.create(tenant=tenant, queue_name="Main", service_id=f"{SECRET}-{tag}")
        self.device_profile = default_profile(tenant)
        from devices.models import AssetProfile

        self.asset_profile = default_profile(tenant, AssetProfile)
        self.converter = Converter.objects.create(tenant=tenant, name=f"{SECRET}-{tag}-converter", type="UPLINK",
                                                  configuration={"scriptLang": "JS", "decoder": "return null;"})
        self.converter_test = ConverterTest.objects.create(tenant=tenant, converter=self.converter,
                                                           name=f"{SECRET}-{tag}-test", payload=b"{}")
        self.integration = Integration.objects.create(
            tenant=tenant, name=f"{SECRET}-{tag}-integration", type="HTTP", default_converter=self.converter,
            configuration={"baseUrl": "http://localhost"})
        self.rule_chain = RuleChain.objects.create(tenant=tenant, name=f"{SECRET}-{tag}-chain")
        self.rule_node = RuleNode.objects.create(tenant=tenant, rule_chain=self.rule_chain, index=0,
                                                 type="org.thingsboard.rule.engine.action.TbLogNode",
                                                 name=f"{SECRET}-{tag}-node")
        self.dashboard = Dashboard.objects.create(tenant=tenant, title=f"{SECRET}-{tag}-dashboard",
                                                  configuration_text=f'{{"description": "{SECRET}"}}')
        self.user = User.objects.create_user(f"{SECRET}-{tag}@example.com", authority=Authority.TENANT_ADMIN,
                                             tenant=tenant)
        self.api_key = ApiKey.objects.create(tenant=tenant, user=self.user, key_hash=f"{tag:0>64}"[-64:],
                                             description=f"{SECRET}-{tag}-api-key")
        self.alarm = Alarm.objects.create(tenant=tenant, originator_type="DEVICE", originator_id=self.device.pk,
                                          type=f"{SECRET}-{tag}-alarm")
        self.alarm_comment = AlarmComment.objects.create(tenant=tenant, alarm=self.alarm, user=self.user,
                                                         comment={"text": f"{SECRET}-{tag}-comment"})
        self.rpc = Rpc.objects.create(tenant=tenant, device=self.device, request_id=1, persistent=True,
                                      request={"method": f"{SECRET}-{tag}-rpc", "params": "{}"},
                                      expiration_time=2**62)
        self.scheduler_event = SchedulerEvent.objects.create(
            tenant=tenant, name=f"{SECRET}-{tag}-event", type="custom", originator_type="DEVICE",
            originator_id=self.device.pk, schedule={"timezone": "UTC", "startTime": 1},
            configuration={"msgBody": SECRET})
        self.calculated_field = CalculatedField.objects.create(
            tenant=tenant, entity_type="DEVICE", entity_id=self.device.pk, kind="SIMPLE", name=f"{SECRET}-{tag}-cf",
            configuration={"type": "SIMPLE", "expression": "a", "output": {"type": "TIME_SERIES", "name": SECRET},
                           "arguments": {"a": {"refEntityKey": {"key": SECRET, "type": "TS_LATEST"}}}})
        self.calculated_job = Job.objects.create(tenant=tenant, key=str(self.calculated_field.pk), status="FAILED",
                                                 entity_id=self.calculated_field.pk, entity_name=f"{SECRET}-{tag}-job",
                                                 result={"results": [{"key": str(self.device.pk), "success": False}]})
        # tenant profiles belong to the system administrator: nobody else reaches one by its id
        self.role = Role.objects.create(tenant=tenant, name=f"{SECRET}-{tag}-role", type="GENERIC",
                                        permissions={"ALL": ["READ"]})
        self.group_permission = GroupPermission.objects.create(
            tenant=tenant, role=self.role, user_group=make_group(tenant, f"{SECRET}-{tag}-users", GroupType.USER))
        self._notifications(tenant, tag)
        self._library(tenant, tag)
        self._reports(tenant, tag)
        self.ota_package = OtaPackage.objects.create(
            tenant=tenant, device_profile=self.device_profile, type="FIRMWARE", title=f"{SECRET}-{tag}-ota",
            package_version="1", url="https://example.com/fw.bin", has_data=True)
        self.group_ota_package = DeviceGroupOtaPackage.objects.create(
            tenant=tenant, group=self.group, ota_package_type="FIRMWARE", ota_package=self.ota_package)
        from transfer.models import VersionRequest

        self.version_request = VersionRequest.objects.create(tenant=tenant, kind="CREATE",
                                                             body={"versionName": SECRET}, result={"error": SECRET})
        from branding.models import CustomMenu

        self.custom_menu = CustomMenu.objects.create(tenant=tenant, name=f"{SECRET}-{tag}-menu", scope="TENANT",
                                                     config={"items": [{"type": "DEFAULT", "name": SECRET}]})
        from vault import services as secrets

        self.secret = secrets.save(tenant.pk, {"name": f"{SECRET}-{tag}-secret", "type": "TEXT", "value": SECRET,
                                               "description": SECRET})
        from ai.models import AiChat, AiModel

        self.ai_model = AiModel.objects.create(tenant=tenant, name=f"{SECRET}-{tag}-ai-model", provider="OLLAMA",
                                               model_id=SECRET, configuration={
                                                   "provider": "OLLAMA", "modelId": SECRET, "modelType": "CHAT",
                                                   "providerConfig": {"baseUrl": "http://127.0.0.1:9",
                                                                      "auth": {"type": "NONE"}}})
        self.ai_chat = AiChat.objects.create(tenant=tenant, user=self.user, model=self.ai_model,
                                             title=f"{SECRET}-{tag}-chat")
        self.tenant_profile = limit_tenant(tenant)
        self.tenant_profile.name = f"{SECRET}-{tag}-profile"
        self.tenant_profile.save()

    def _notifications(self, tenant, tag: str) -> None:
        from notifications.models import (
            Notification,
            NotificationRequest,
            NotificationRule,
            NotificationTarget,
            NotificationTemplate,
        )

        self.notification_target = NotificationTarget.objects.create(
            tenant=tenant, name=f"{SECRET}-{tag}-target",
            configuration={"type": "PLATFORM_USERS", "usersFilter": {"type": "ALL_USERS"}})
        self.notification_template = NotificationTemplate.objects.create(
            tenant=tenant, name=f"{SECRET}-{tag}-template", notification_type="ALARM", configuration={
                "deliveryMethodsTemplates": {"WEB": {"method": "WEB", "subject": SECRET, "body": SECRET}}})
        self.notification_rule = NotificationRule.objects.create(
            tenant=tenant, name=f"{SECRET}-{tag}-rule", template=self.notification_template, trigger_type="ALARM",
            trigger_config={"notifyOn": ["CREATED"]},
            recipients_config={"escalationTable": {"0": [str(self.notification_target.pk)]}})
        self.notification_request = NotificationRequest.objects.create(
            tenant=tenant, targets=[str(self.notification_target.pk)], template={"name": SECRET})
        self.notification = Notification.objects.create(request=self.notification_request, recipient=self.user,
                                                         type="GENERAL", subject=SECRET, text=SECRET)

    def _library(self, tenant, tag: str) -> None:
        self.widgets_bundle = WidgetsBundle.objects.create(tenant=tenant, alias=tag, title=f"{SECRET}-{tag}-bundle")
        self.widget_type = WidgetType.objects.create(tenant=tenant, fqn=f"{tag}.w", name=f"{SECRET}-{tag}-widget",
                                                     descriptor_text=f'{{"type":"latest","x":"{SECRET}"}}')
        self.widgets_bundle.rows.create(widget_type=self.widget_type)
        self.resource = Resource.objects.create(
            tenant=tenant, title=f"{SECRET}-{tag}-js", resource_type="JS_MODULE", resource_key=f"{tag}.js",
            file_name=f"{tag}.js", data=SECRET.encode(), etag="0" * 64, media_type="application/javascript")
        self.image = Resource.objects.create(
            tenant=tenant, title=f"{SECRET}-{tag}-image", resource_type="IMAGE", resource_key=f"{tag}.gif",
            file_name=f"{tag}.gif", data=b"GIF89a" + SECRET.encode(), etag="1" * 64, media_type="image/gif",
            public_resource_key=f"{tag}-public", is_public=False)

    def _reports(self, tenant, tag: str) -> None:
        from reports.models import BlobEntity, Report, ReportTemplate

        self.report_template = ReportTemplate.objects.create(
            tenant=tenant, name=f"{SECRET}-{tag}-report-template", format="CSV",
            configuration={"format": "CSV", "components": [{"type": "HEADING", "text": SECRET}]})
        self.report = Report.objects.create(tenant=tenant, template=self.report_template, name=f"{SECRET}-{tag}.csv",
                                            format="CSV", content_type="text/csv", data=SECRET.encode())
        self.blob_entity = BlobEntity.objects.create(tenant=tenant, name=f"{SECRET}-{tag}.pdf",
                                                     content_type="application/pdf", data=SECRET.encode())
        from edges.models import Edge

        self.edge = Edge.objects.create(tenant=tenant, name=f"{SECRET}-{tag}-edge", label=SECRET,
                                        routing_key=f"{SECRET}-{tag}-key", secret=f"{SECRET}-{tag}-secret")

    def id_of(self, owner: str) -> str:
        return str(getattr(self, owner).pk)
