"""The table of integration types: ThingsBoard type name -> class (STYLE.md rule 1).

    get_type("MQTT") -> MqttIntegration, imported once and cached
"""

from tbproject.registry import TypeRegistry

__all__ = ["TYPES", "get_type"]

TYPES = TypeRegistry({
    "HTTP": "integrations.types.http.HttpIntegration",
    "MQTT": "integrations.types.mqtt.MqttIntegration",
})
get_type = TYPES.load
