"""The table of rule-node types, keyed by ThingsBoard's class names (STYLE.md rule 1).

An imported chain may only use these types; any other is refused with its name.
"""

from tbproject.registry import TypeRegistry

__all__ = ["NODES", "get_node", "SWITCH", "SCRIPT_FILTER", "SCRIPT_TRANSFORM", "ORIGINATOR_FIELDS",
           "ORIGINATOR_ATTRIBUTES", "SAVE_TIMESERIES", "SAVE_ATTRIBUTES", "LOG", "INTEGRATION_DOWNLINK",
           "REST_API_CALL", "SCRIPT_SWITCH", "RULE_CHAIN_INPUT", "RULE_CHAIN_OUTPUT", "ORIGINATOR_TELEMETRY",
           "CREATE_ALARM", "CLEAR_ALARM", "DELAY", "GENERATOR", "DEVICE_PROFILE", "MQTT", "KAFKA", "RABBITMQ",
           "RPC_CALL_REQUEST"]

_TB = "org.thingsboard.rule.engine."
SWITCH = _TB + "filter.TbMsgTypeSwitchNode"
SCRIPT_FILTER = _TB + "filter.TbJsFilterNode"
SCRIPT_TRANSFORM = _TB + "transform.TbTransformMsgNode"
ORIGINATOR_FIELDS = _TB + "metadata.TbGetOriginatorFieldsNode"
ORIGINATOR_ATTRIBUTES = _TB + "metadata.TbGetAttributesNode"
SAVE_TIMESERIES = _TB + "telemetry.TbMsgTimeseriesNode"
SAVE_ATTRIBUTES = _TB + "telemetry.TbMsgAttributesNode"
LOG = _TB + "action.TbLogNode"
INTEGRATION_DOWNLINK = _TB + "integration.TbIntegrationDownlinkNode"
REST_API_CALL = _TB + "rest.TbRestApiCallNode"
SCRIPT_SWITCH = _TB + "filter.TbJsSwitchNode"
RULE_CHAIN_INPUT = _TB + "flow.TbRuleChainInputNode"
RULE_CHAIN_OUTPUT = _TB + "flow.TbRuleChainOutputNode"
ORIGINATOR_TELEMETRY = _TB + "metadata.TbGetTelemetryNode"
CREATE_ALARM = _TB + "action.TbCreateAlarmNode"
CLEAR_ALARM = _TB + "action.TbClearAlarmNode"
DELAY = _TB + "delay.TbMsgDelayNode"
GENERATOR = _TB + "debug.TbMsgGeneratorNode"
DEVICE_PROFILE = _TB + "profile.TbDeviceProfileNode"
MQTT = _TB + "mqtt.TbMqttNode"
KAFKA = _TB + "kafka.TbKafkaNode"
RABBITMQ = _TB + "rabbitmq.TbRabbitMqNode"
RPC_CALL_REQUEST = _TB + "rpc.TbSendRPCRequestNode"

NODES = TypeRegistry({
    SWITCH: "rulechains.nodes.filters.MsgTypeSwitchNode",
    SCRIPT_FILTER: "rulechains.nodes.filters.ScriptFilterNode",
    SCRIPT_TRANSFORM: "rulechains.nodes.transforms.ScriptTransformNode",
    ORIGINATOR_FIELDS: "rulechains.nodes.enrichment.OriginatorFieldsNode",
    ORIGINATOR_ATTRIBUTES: "rulechains.nodes.enrichment.OriginatorAttributesNode",
    SAVE_TIMESERIES: "rulechains.nodes.actions.SaveTimeseriesNode",
    SAVE_ATTRIBUTES: "rulechains.nodes.actions.SaveAttributesNode",
    LOG: "rulechains.nodes.actions.LogNode",
    INTEGRATION_DOWNLINK: "rulechains.nodes.downlink.IntegrationDownlinkNode",
    REST_API_CALL: "rulechains.nodes.external.RestApiCallNode",
    SCRIPT_SWITCH: "rulechains.nodes.filters.ScriptSwitchNode",
    RULE_CHAIN_INPUT: "rulechains.nodes.flow.RuleChainInputNode",
    RULE_CHAIN_OUTPUT: "rulechains.nodes.flow.RuleChainOutputNode",
    ORIGINATOR_TELEMETRY: "rulechains.nodes.telemetry_fetch.OriginatorTelemetryNode",
    CREATE_ALARM: "rulechains.nodes.alarms.CreateAlarmNode",
    CLEAR_ALARM: "rulechains.nodes.alarms.ClearAlarmNode",
    DELAY: "rulechains.nodes.timers.MsgDelayNode",
    GENERATOR: "rulechains.nodes.timers.MsgGeneratorNode",
    DEVICE_PROFILE: "rulechains.nodes.actions.DeviceProfileNode",
    MQTT: "rulechains.nodes.brokers.MqttNode",
    KAFKA: "rulechains.nodes.brokers.KafkaNode",
    RABBITMQ: "rulechains.nodes.brokers.RabbitMqNode",
    RPC_CALL_REQUEST: "rulechains.nodes.rpc.RpcCallRequestNode",
    _TB + "filter.TbMsgTypeFilterNode": "rulechains.nodes.routing.MsgTypeFilterNode",
    _TB + "filter.TbOriginatorTypeFilterNode": "rulechains.nodes.routing.OriginatorTypeFilterNode",
    _TB + "filter.TbOriginatorTypeSwitchNode": "rulechains.nodes.routing.OriginatorTypeSwitchNode",
    _TB + "filter.TbCheckMessageNode": "rulechains.nodes.routing.CheckMessageNode",
    _TB + "filter.TbCheckRelationNode": "rulechains.nodes.routing.CheckRelationNode",
    _TB + "filter.TbCheckAlarmStatusNode": "rulechains.nodes.routing.CheckAlarmStatusNode",
    _TB + "filter.TbDeviceTypeSwitchNode": "rulechains.nodes.routing.DeviceTypeSwitchNode",
    _TB + "filter.TbAssetTypeSwitchNode": "rulechains.nodes.routing.AssetTypeSwitchNode",
    _TB + "flow.TbAckNode": "rulechains.nodes.flow.AckNode",
    _TB + "flow.TbCheckpointNode": "rulechains.nodes.flow.CheckpointNode",
    _TB + "metadata.TbGetCustomerAttributeNode": "rulechains.nodes.related.CustomerAttributesNode",
    _TB + "metadata.TbGetTenantAttributeNode": "rulechains.nodes.related.TenantAttributesNode",
    _TB + "metadata.TbGetRelatedAttributeNode": "rulechains.nodes.related.RelatedAttributesNode",
    _TB + "metadata.TbGetCustomerDetailsNode": "rulechains.nodes.related_details.CustomerDetailsNode",
    _TB + "metadata.TbGetTenantDetailsNode": "rulechains.nodes.related_details.TenantDetailsNode",
    _TB + "metadata.TbFetchDeviceCredentialsNode": "rulechains.nodes.related_details.DeviceCredentialsNode",
    _TB + "transform.TbChangeOriginatorNode": "rulechains.nodes.related_originator.ChangeOriginatorNode",
    _TB + "deduplication.TbMsgDeduplicationNode": "rulechains.nodes.dedup.MsgDeduplicationNode",
    _TB + "action.TbMsgCountNode": "rulechains.nodes.dedup.MsgCountNode",
    _TB + "mail.TbMsgToEmailNode": "rulechains.nodes.mail.MsgToEmailNode",
    _TB + "mail.TbSendEmailNode": "rulechains.nodes.mail.SendEmailNode",
    _TB + "action.TbCreateRelationNode": "rulechains.nodes.entities.CreateRelationNode",
    _TB + "action.TbDeleteRelationNode": "rulechains.nodes.entities.DeleteRelationNode",
    _TB + "action.TbAssignToCustomerNode": "rulechains.nodes.entity_owners.AssignToCustomerNode",
    _TB + "action.TbUnassignFromCustomerNode": "rulechains.nodes.entity_owners.UnassignFromCustomerNode",
    _TB + "action.TbAddToGroupNode": "rulechains.nodes.entity_owners.AddToGroupNode",
    _TB + "action.TbRemoveFromGroupNode": "rulechains.nodes.entity_owners.RemoveFromGroupNode",
    _TB + "telemetry.TbMsgDeleteAttributesNode": "rulechains.nodes.attribute_deletes.DeleteAttributesNode",
    _TB + "transform.TbCopyKeysNode": "rulechains.nodes.keys.CopyKeysNode",
    _TB + "transform.TbRenameKeysNode": "rulechains.nodes.keys.RenameKeysNode",
    _TB + "transform.TbDeleteKeysNode": "rulechains.nodes.keys.DeleteKeysNode",
    _TB + "transform.TbJsonPathNode": "rulechains.nodes.keys.JsonPathNode",
    _TB + "transform.TbSplitArrayMsgNode": "rulechains.nodes.keys.SplitArrayMsgNode",
    _TB + "math.TbMathNode": "rulechains.nodes.calc.MathNode",
    _TB + "metadata.CalculateDeltaNode": "rulechains.nodes.delta.CalculateDeltaNode",
    _TB + "metadata.TbGetDeviceAttrNode": "rulechains.nodes.device_attributes.DeviceAttributesNode",
    _TB + "geo.TbGpsGeofencingFilterNode": "rulechains.nodes.geo.GpsGeofencingFilterNode",
    _TB + "geo.TbGpsGeofencingActionNode": "rulechains.nodes.geo.GpsGeofencingActionNode",
    _TB + "aws.sns.TbSnsNode": "rulechains.nodes.clouds.SnsNode",
    _TB + "aws.sqs.TbSqsNode": "rulechains.nodes.clouds.SqsNode",
    _TB + "gcp.pubsub.TbPubSubNode": "rulechains.nodes.clouds.PubSubNode",
    _TB + "rest.TbSendRestApiCallReplyNode": "rulechains.nodes.rest_reply.RestCallReplyNode",
    _TB + "sms.TbSendSmsNode": "rulechains.nodes.notify.SendSmsNode",
    _TB + "notification.TbSlackNode": "rulechains.nodes.notify.SlackNode",
    _TB + "mqtt.azure.TbAzureIotHubNode": "rulechains.nodes.azure.AzureIotHubNode",
    _TB + "action.TbCopyAttributesToEntityViewNode": "rulechains.nodes.entity_views.CopyToEntityViewNode",
    _TB + "rpc.TbSendRPCReplyNode": "rulechains.nodes.rpc_reply.RpcCallReplyNode",
    _TB + "analytics.latest.telemetry.TbAggLatestTelemetryNode": "rulechains.nodes.analytics_latest.AggLatestNode",
    _TB + "analytics.incoming.TbSimpleAggMsgNode": "rulechains.nodes.analytics_stream.SimpleAggMsgNode",
    _TB + "analytics.latest.alarm.TbAlarmsCountNodeV2": "rulechains.nodes.alarms_count.AlarmsCountNode",
    _TB + "action.TbDeviceStateNode": "rulechains.nodes.device_state.DeviceStateNode",
    _TB + "transform.TbDuplicateMsgToGroupNode": "rulechains.nodes.duplicate.DuplicateToGroupNode",
    _TB + "transform.TbDuplicateMsgToRelatedNode": "rulechains.nodes.duplicate.DuplicateToRelatedNode",
    _TB + "transform.TbDuplicateMsgToGroupByNameNode": "rulechains.nodes.duplicate.DuplicateToGroupByNameNode",
    _TB + "action.TbChangeOwnerNode": "rulechains.nodes.owner.ChangeOwnerNode",
    _TB + "ai.TbAiNode": "rulechains.nodes.ai_request.AiRequestNode",
})
get_node = NODES.load
