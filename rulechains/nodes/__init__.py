"""The table of rule-node types, keyed by ThingsBoard's class names (STYLE.md rule 1).

An imported chain may only use these types; any other is refused with its name.
"""

from tbproject.registry import TypeRegistry

__all__ = ["NODES", "get_node", "SWITCH", "SCRIPT_FILTER", "SCRIPT_TRANSFORM", "ORIGINATOR_FIELDS",
           "ORIGINATOR_ATTRIBUTES", "SAVE_TIMESERIES", "SAVE_ATTRIBUTES", "LOG", "INTEGRATION_DOWNLINK",
           "REST_API_CALL"]

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
})
get_node = NODES.load
