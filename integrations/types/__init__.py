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
    "KAFKA": "integrations.types.kafka.KafkaIntegration",
    "APACHE_PULSAR": "integrations.types.pulsar.ApachePulsarIntegration",
    "PUB_SUB": "integrations.types.pubsub.PubSubIntegration",
    "AWS_SQS": "integrations.types.aws.AwsSqsIntegration",
    "AWS_KINESIS": "integrations.types.aws.AwsKinesisIntegration",
    "SIGFOX": "integrations.types.platform_http.SigfoxIntegration",
    "THINGPARK": "integrations.types.lorawan_http.ThingParkIntegration",
    "TPE": "integrations.types.lorawan_http.TpeIntegration",
    "CHIRPSTACK": "integrations.types.lorawan_http.ChirpStackIntegration",
    "LORIOT": "integrations.types.lorawan_http.LoriotIntegration",
    "OCEANCONNECT": "integrations.types.platform_http.OceanConnectIntegration",
    "PARTICLE": "integrations.types.platform_http.ParticleIntegration",
    "TMOBILE_IOT_CDP": "integrations.types.platform_http.TMobileIotCdpIntegration",
    "KPN": "integrations.types.platform_http.KpnIntegration",
    "TTN": "integrations.types.tts.TtnIntegration",
    "TTI": "integrations.types.tts.TtiIntegration",
    "AWS_IOT": "integrations.types.aws_iot.AwsIotIntegration",
    "AZURE_IOT_HUB": "integrations.types.azure_iot_hub.AzureIotHubIntegration",
    "AZURE_EVENT_HUB": "integrations.types.azure_event_hub.AzureEventHubIntegration",
    "AZURE_SERVICE_BUS": "integrations.types.azure_service_bus.AzureServiceBusIntegration",
    "TUYA": "integrations.types.tuya.TuyaIntegration",
    "CUSTOM": "integrations.types.custom.CustomIntegration",
})
get_type = TYPES.load
