"""The root rule chain every tenant starts with, in ThingsBoard's export format.

As ThingsBoard's: a message type switch sending "Post telemetry" to a save-time-series node,
"Post attributes" to a save-attributes node, and RPC from devices and other types to log nodes.
"RPC Request to Device" goes to ThingsBoard's "RPC Call Request" node (a downlink through the
integration that serves the device, and the device's HTTP long poll); the device-profile node is
left out.

Integration uplinks are stored by the pipeline before they reach the chain, as ``stored``
messages that the save nodes pass on without writing again (integrations.handoff). So data keeps
flowing exactly as before rule chains existed, also when a tenant removes the save nodes; and
the save nodes still store what a transform or another producer made. The save-attributes node
uses SERVER_SCOPE, where the pipeline keeps integration attributes (ThingsBoard's default chain
saves client attributes, which devices report over their own transports).
"""

from rulechains import nodes

__all__ = ["ROOT_CHAIN"]

LOG_SCRIPT = ("return '\\nIncoming message:\\n' + JSON.stringify(msg) + "
              "'\\nIncoming metadata:\\n' + JSON.stringify(metadata);")

ROOT_CHAIN = {
    "ruleChain": {"name": "Root Rule Chain", "type": "CORE", "root": True, "debugMode": False,
                  "configuration": None, "additionalInfo": None},
    "metadata": {
        "firstNodeIndex": 2,
        "nodes": [
            {"type": nodes.SAVE_TIMESERIES, "name": "Save Timeseries", "debugMode": False,
             "configuration": {"defaultTTL": 0}, "additionalInfo": {"layoutX": 824, "layoutY": 156}},
            {"type": nodes.SAVE_ATTRIBUTES, "name": "Save Server Attributes", "debugMode": False,
             "configuration": {"scope": "SERVER_SCOPE", "notifyDevice": False},
             "additionalInfo": {"layoutX": 825, "layoutY": 52}},
            {"type": nodes.SWITCH, "name": "Message Type Switch", "debugMode": False,
             "configuration": {"version": 0}, "additionalInfo": {"layoutX": 347, "layoutY": 149}},
            {"type": nodes.LOG, "name": "Log RPC from Device", "debugMode": False,
             "configuration": {"scriptLang": "JS", "jsScript": LOG_SCRIPT},
             "additionalInfo": {"layoutX": 825, "layoutY": 266}},
            {"type": nodes.LOG, "name": "Log Other", "debugMode": False,
             "configuration": {"scriptLang": "JS", "jsScript": LOG_SCRIPT},
             "additionalInfo": {"layoutX": 825, "layoutY": 379}},
            {"type": nodes.RPC_CALL_REQUEST, "name": "RPC Call Request", "debugMode": False,
             "configuration": {"timeoutInSeconds": 60}, "additionalInfo": {"layoutX": 825, "layoutY": 468}},
        ],
        "connections": [
            {"fromIndex": 2, "toIndex": 4, "type": "Other"},
            {"fromIndex": 2, "toIndex": 1, "type": "Post attributes"},
            {"fromIndex": 2, "toIndex": 0, "type": "Post telemetry"},
            {"fromIndex": 2, "toIndex": 3, "type": "RPC Request from Device"},
            {"fromIndex": 2, "toIndex": 5, "type": "RPC Request to Device"},
        ],
        "ruleChainConnections": [],
    },
}
