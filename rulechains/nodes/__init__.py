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
})
get_node = NODES.load
