from django.apps import AppConfig


class TransportsConfig(AppConfig):
    """ThingsBoard's device transports other than HTTP (the device MQTT API: transports/mqtt/)."""

    name = "transports"
    verbose_name = "Device transports"
