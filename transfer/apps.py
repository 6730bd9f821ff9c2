"""The transfer app sits on top: it reads and writes converters, integrations and rule chains, and
versions entities in git (transfer/vc/)."""

from django.apps import AppConfig


class TransferConfig(AppConfig):
    name = "transfer"
    verbose_name = "Export and import"

    def ready(self) -> None:
        from transfer.vc import autocommit

        autocommit.connect()
