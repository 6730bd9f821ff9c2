"""Enumerations of converters and events, with ThingsBoard's exact values (reference 1.1, 2.2, 3.5)."""

from django.db import models

__all__ = ["IntegrationType", "ConverterType", "ScriptLang", "EventType", "EventEntityType", "DebugKind"]


class IntegrationType(models.TextChoices):
    """ThingsBoard PE 4.4's IntegrationType (29 values); a converter may be dedicated to one."""

    OCEANCONNECT = "OCEANCONNECT", "OceanConnect"
    SIGFOX = "SIGFOX", "SigFox"
    THINGPARK = "THINGPARK", "ThingPark"
    TPE = "TPE", "ThingPark Enterprise"
    CHIRPSTACK = "CHIRPSTACK", "ChirpStack"
    PARTICLE = "PARTICLE", "Particle"
    TMOBILE_IOT_CDP = "TMOBILE_IOT_CDP", "T-Mobile IoT CDP"
    HTTP = "HTTP", "HTTP"
    MQTT = "MQTT", "MQTT"
    PUB_SUB = "PUB_SUB", "Google Pub/Sub"
    AWS_IOT = "AWS_IOT", "AWS IoT"
    AWS_SQS = "AWS_SQS", "AWS SQS"
    AWS_KINESIS = "AWS_KINESIS", "AWS Kinesis"
    TTN = "TTN", "The Things Stack Community"
    TTI = "TTI", "The Things Stack Industries"
    AZURE_EVENT_HUB = "AZURE_EVENT_HUB", "Azure Event Hub"
    OPC_UA = "OPC_UA", "OPC-UA"
    CUSTOM = "CUSTOM", "Custom"
    UDP = "UDP", "UDP"
    TCP = "TCP", "TCP"
    KAFKA = "KAFKA", "Kafka"
    AZURE_IOT_HUB = "AZURE_IOT_HUB", "Azure IoT Hub"
    APACHE_PULSAR = "APACHE_PULSAR", "Apache Pulsar"
    RABBITMQ = "RABBITMQ", "RabbitMQ"
    LORIOT = "LORIOT", "LORIOT"
    COAP = "COAP", "CoAP"
    TUYA = "TUYA", "Tuya"
    AZURE_SERVICE_BUS = "AZURE_SERVICE_BUS", "Azure Service Bus"
    KPN = "KPN", "KPN Things"


class ConverterType(models.TextChoices):
    UPLINK = "UPLINK", "Uplink"
    DOWNLINK = "DOWNLINK", "Downlink"


class ScriptLang(models.TextChoices):
    JS = "JS", "JavaScript"
    TBEL = "TBEL", "TBEL"


class EventType(models.TextChoices):
    """Event types this product stores (a subset of ThingsBoard's EventType)."""

    DEBUG_CONVERTER = "DEBUG_CONVERTER"
    DEBUG_INTEGRATION = "DEBUG_INTEGRATION"
    DEBUG_RULE_NODE = "DEBUG_RULE_NODE"
    ERROR = "ERROR"
    LC_EVENT = "LC_EVENT"
    STATS = "STATS"


#: ThingsBoard's full EventType enum: accepted in event URLs and filters, even where nothing is stored.
ALL_EVENT_TYPES = (
    "ERROR", "LC_EVENT", "STATS", "RAW_DATA", "DEBUG_RULE_NODE", "DEBUG_RULE_CHAIN", "DEBUG_CONVERTER",
    "DEBUG_INTEGRATION", "DEBUG_CALCULATED_FIELD",
)

#: Event types the debug-event TTL applies to (ThingsBoard's debug_events_ttl; the others never expire).
DEBUG_EVENT_TYPES = (EventType.DEBUG_CONVERTER, EventType.DEBUG_INTEGRATION, EventType.DEBUG_RULE_NODE)


class EventEntityType(models.TextChoices):
    """Entities that own events here."""

    CONVERTER = "CONVERTER"
    INTEGRATION = "INTEGRATION"
    RULE_NODE = "RULE_NODE"


class DebugKind(models.TextChoices):
    """The ``type`` of a converter debug event body, as ThingsBoard's event table shows it."""

    UPLINK = "Uplink"
    DOWNLINK = "Downlink"
