"""Uplink and downlink converters: user scripts run in a sandboxed QuickJS-ng pool (issue 3)."""

from django.apps import AppConfig


class ConvertersConfig(AppConfig):
    name = "converters"
    verbose_name = "Data converters"

    def ready(self) -> None:
        from converters.models import Converter
        from tenants.limits import entities

        entities.guard(Converter, "CONVERTER")  # maxConverters (tenants/limits/entities.py)
