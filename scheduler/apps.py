from django.apps import AppConfig


class SchedulerConfig(AppConfig):
    name = "scheduler"
    verbose_name = "Scheduler"

    def ready(self) -> None:
        from scheduler.models import SchedulerEvent
        from tenants.limits import entities

        entities.guard(SchedulerEvent, "SCHEDULER_EVENT")  # maxSchedulerEvents (tenants/limits/entities.py)
