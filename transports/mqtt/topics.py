"""The topics of ThingsBoard's device MQTT API (thingsboard.io/docs/reference/mqtt-api/) and its gateway API."""

from typing import NamedTuple

__all__ = ["TELEMETRY", "ATTRIBUTES", "ATTRIBUTES_REQUEST", "ATTRIBUTES_RESPONSE", "RPC_REQUEST", "RPC_RESPONSE",
           "GATEWAY", "GATEWAY_TELEMETRY", "GATEWAY_ATTRIBUTES", "GATEWAY_CONNECT", "GATEWAY_DISCONNECT",
           "GATEWAY_ATTRIBUTES_REQUEST", "GATEWAY_ATTRIBUTES_RESPONSE", "GATEWAY_RPC", "GATEWAY_CLAIM",
           "SUBSCRIBABLE", "ATTRIBUTES_RESPONSE_FILTER", "RPC_REQUEST_FILTER", "RPC_RESPONSE_FILTER", "matches",
           "ProfileTopics", "profile_topics", "CLAIM", "PROVISION_REQUEST", "PROVISION_RESPONSE", "OTA_FILTERS"]

TELEMETRY = "v1/devices/me/telemetry"
ATTRIBUTES = "v1/devices/me/attributes"
ATTRIBUTES_REQUEST = "v1/devices/me/attributes/request/"
ATTRIBUTES_RESPONSE = "v1/devices/me/attributes/response/"
RPC_REQUEST = "v1/devices/me/rpc/request/"
RPC_RESPONSE = "v1/devices/me/rpc/response/"
ATTRIBUTES_RESPONSE_FILTER = ATTRIBUTES_RESPONSE + "+"
RPC_REQUEST_FILTER = RPC_REQUEST + "+"
RPC_RESPONSE_FILTER = RPC_RESPONSE + "+"

GATEWAY = "v1/gateway/"
GATEWAY_TELEMETRY = "v1/gateway/telemetry"
GATEWAY_ATTRIBUTES = "v1/gateway/attributes"
GATEWAY_CONNECT = "v1/gateway/connect"
GATEWAY_DISCONNECT = "v1/gateway/disconnect"
GATEWAY_ATTRIBUTES_REQUEST = "v1/gateway/attributes/request"
GATEWAY_ATTRIBUTES_RESPONSE = "v1/gateway/attributes/response"
GATEWAY_RPC = "v1/gateway/rpc"
GATEWAY_CLAIM = "v1/gateway/claim"

#: the filters a device may subscribe to (others get SUBACK's failure code, as ThingsBoard answers)
SUBSCRIBABLE = frozenset({ATTRIBUTES, ATTRIBUTES_RESPONSE_FILTER, RPC_REQUEST_FILTER, RPC_RESPONSE_FILTER,
                          GATEWAY_ATTRIBUTES, GATEWAY_ATTRIBUTES_RESPONSE, GATEWAY_RPC})

# claiming, provisioning (a session of its own, provision.py) and OTA downloads (ota.py)
CLAIM = "v1/devices/me/claim"
PROVISION_REQUEST, PROVISION_RESPONSE = "/provision/request", "/provision/response"
OTA_FILTERS = frozenset({"v2/fw/response/+/chunk/+", "v2/fw/error", "v2/sw/response/+/chunk/+", "v2/sw/error"})
SUBSCRIBABLE = SUBSCRIBABLE | OTA_FILTERS


def matches(topic_filter: str, topic: str) -> bool:
    """Whether ``topic`` matches ``topic_filter`` (MQTT 3.1.1 section 4.7: ``+`` one level, ``#`` the rest)."""
    wanted, given = topic_filter.split("/"), topic.split("/")
    for i, part in enumerate(wanted):
        if part == "#":
            return True
        if i >= len(given) or (part != "+" and part != given[i]):
            return False
    return len(wanted) == len(given)


class ProfileTopics(NamedTuple):
    """What a device profile's MQTT transport configuration (ThingsBoard's MqttDeviceProfileTransportConfiguration,
    kept in ``additional_info.profileData.transportConfiguration``) says of a device's uplinks: the topic filters
    its telemetry and client attributes are published to (``+`` and ``#`` as MQTT's; they replace the default
    topics, as in ThingsBoard) and the payload type (JSON or PROTOBUF)."""

    telemetry: str = TELEMETRY
    attributes: str = ATTRIBUTES
    payload_type: str = "JSON"


def profile_topics(additional_info) -> ProfileTopics:
    data = additional_info.get("profileData") if isinstance(additional_info, dict) else None
    config = data.get("transportConfiguration") if isinstance(data, dict) else None
    if not isinstance(config, dict) or config.get("type") != "MQTT":
        return ProfileTopics()
    payload = config.get("transportPayloadTypeConfiguration")
    kind = payload.get("transportPayloadType") if isinstance(payload, dict) else None

    def topic(name: str, default: str) -> str:
        value = config.get(name)
        return value.strip() if isinstance(value, str) and value.strip() else default

    return ProfileTopics(topic("deviceTelemetryTopic", TELEMETRY), topic("deviceAttributesTopic", ATTRIBUTES),
                         kind if isinstance(kind, str) and kind else "JSON")
