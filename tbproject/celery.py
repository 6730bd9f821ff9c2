"""The Celery app shared by web, worker and beat; tasks are discovered from each Django app."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tbproject.settings")

app = Celery("tbproject")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
