"""The transfer app sits on top: it reads and writes converters, integrations and rule chains."""

from django.apps import AppConfig


class TransferConfig(AppConfig):
    name = "transfer"
    verbose_name = "Export and import"
