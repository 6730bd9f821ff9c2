from django.apps import AppConfig


class CalculatedConfig(AppConfig):
    name = "calculated"
    verbose_name = "Calculated fields"

    def ready(self) -> None:
        from calculated import receivers
        from calculated.node import TYPE
        from converters.api.events import register_entity
        from rulechains.nodes import NODES

        receivers.connect()
        NODES.register(TYPE, "calculated.node.CalculatedFieldsNode")  # rulechains sits below calculated
        register_entity("CALCULATED_FIELD", "calculated.CalculatedField", "calculated.CalculatedFieldEvent")
