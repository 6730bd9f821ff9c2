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

        # a scheduled report's notification targets: checked when its event is saved, as a request's are
        from reports import services
        from reports.api.scheduled import GENERATE_REPORT
        from scheduler import services as scheduler_services

        scheduler_services.register_check(GENERATE_REPORT, services.check_scheduled_report)
