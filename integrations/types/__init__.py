"""The table of integration types: ThingsBoard type name -> class (STYLE.md rule 1).

    get_type("MQTT") -> MqttIntegration, imported once and cached
"""

from tbproject.registry import TypeRegistry

__all__ = ["TYPES", "get_type"]

TYPES = TypeRegistry({
    "HTTP": "integrations.types.http.HttpIntegration",
    "MQTT": "integrations.types.mqtt.MqttIntegration",
    "TCP": "integrations.types.tcp.TcpIntegration",
    "UDP": "integrations.types.udp.UdpIntegration",
    "COAP": "integrations.types.coap.CoapIntegration",
    "OPC_UA": "integrations.types.opcua.OpcUaIntegration",
    "RABBITMQ": "integrations.types.rabbitmq.RabbitMqIntegration",
})
get_type = TYPES.load
