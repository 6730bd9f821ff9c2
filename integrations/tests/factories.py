"""Small factories for integration tests: converters and integrations with sensible defaults."""

from converters.models import Converter
from integrations.models import Integration

__all__ = ["DECODER", "ENCODER", "make_uplink_converter", "make_downlink_converter", "make_integration",
           "MQTT_CONFIG"]

DECODER = """
var data = JSON.parse(String.fromCharCode.apply(null, payload));
return {deviceName: data.id, deviceType: 'meter', telemetry: {t: data.t}};
"""
ENCODER = "return {contentType: 'JSON', data: JSON.stringify(msg), metadata: {}};"

MQTT_CONFIG = {
    "clientConfiguration": {"host": "broker.local", "port": 1883,
                            "credentials": {"type": "basic", "username": "u", "password": "broker-pass"}},
    "topicFilters": [{"filter": "sensors/+", "qos": 1}],
}


def make_uplink_converter(tenant, name="uplink", decoder=DECODER) -> Converter:
    return Converter.objects.create(tenant=tenant, name=name, type="UPLINK",
                                    configuration={"scriptLang": "JS", "decoder": decoder})


def make_downlink_converter(tenant, name="downlink") -> Converter:
    return Converter.objects.create(tenant=tenant, name=name, type="DOWNLINK",
                                    configuration={"scriptLang": "JS", "encoder": ENCODER})


def make_integration(tenant, name="HTTP in", kind="HTTP", converter=None, **extra) -> Integration:
    converter = converter or make_uplink_converter(tenant, f"{name} decoder")
    extra.setdefault("configuration", {"baseUrl": "http://localhost:8080"} if kind == "HTTP" else MQTT_CONFIG)
    return Integration.objects.create(tenant=tenant, name=name, type=kind, default_converter=converter, **extra)
