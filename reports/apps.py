from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = "Reporting"

    def ready(self) -> None:
        # the rule nodes live here (above rulechains/); they join rulechains' table of node types
        from reports import nodes
        from rulechains.nodes import NODES

        for kind, path in nodes.NODE_TYPES.items():
            NODES.register(kind, path)
