"""The Celery app shared by web, worker and beat; tasks are discovered from each Django app."""

import os

from celery import Celery
from celery.signals import worker_process_init

from tbproject.periodic import beat_schedule

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tbproject.settings")

app = Celery("tbproject")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Periodic jobs come from one table (tbproject/periodic.py), shared with embedded mode.
app.conf.beat_schedule = beat_schedule()


@worker_process_init.connect
def _tune_gc(**kwargs) -> None:
    from tbproject.gc_tuning import tune

    tune()
