"""The Celery app shared by web, worker and beat; tasks are discovered from each Django app."""

import os

from celery import Celery
from celery.signals import (
    beat_init,
    worker_init,
    worker_process_init,
    worker_process_shutdown,
    worker_ready,
    worker_shutdown,
)

from tbproject.periodic import beat_schedule

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tbproject.settings")

app = Celery("tbproject")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# Periodic jobs come from one table (tbproject/periodic.py), shared with embedded mode.
app.conf.beat_schedule = beat_schedule()


@worker_init.connect
def _note_pool_size(sender=None, **kwargs) -> None:
    """The worker's pool processes (--concurrency), for its forked pool processes to read
    (PIPELINE_OVERLAP=auto, integrations/overlap.py)."""
    from integrations.overlap import POOL_PROCESSES_ENV  # Django is set up by now

    os.environ[POOL_PROCESSES_ENV] = str(getattr(sender, "concurrency", None) or 1)


@worker_process_init.connect
def _tune_gc(**kwargs) -> None:
    from tbproject.gc_tuning import tune

    tune()


_heartbeat = None


@worker_ready.connect
def _start_heartbeat(sender=None, **kwargs) -> None:
    """The worker's heartbeat for /readyz (tbproject/ops/heartbeat.py), from its main process."""
    global _heartbeat
    from django.conf import settings

    from tbproject.ops.heartbeat import Heartbeat

    if settings.REDIS_URL and _heartbeat is None:
        _heartbeat = Heartbeat(getattr(sender, "hostname", None) or f"worker-{os.getpid()}").start()


@beat_init.connect
def _start_beat_heartbeat(sender=None, **kwargs) -> None:
    """Beat's heartbeat for /readyz (EXPECT_BEAT); beat has no shutdown signal: removed at exit."""
    import atexit
    import socket

    from django.conf import settings

    from tbproject.ops.heartbeat import BEAT_KEY, Heartbeat

    if settings.REDIS_URL:
        atexit.register(Heartbeat(f"beat@{socket.gethostname()}-{os.getpid()}", key=BEAT_KEY).start().stop)


@worker_shutdown.connect
def _stop_heartbeat(**kwargs) -> None:
    global _heartbeat
    if _heartbeat is not None:
        _heartbeat.stop()
        _heartbeat = None


@worker_process_shutdown.connect
def _flush_metrics(**kwargs) -> None:
    """A pool process ends without atexit handlers: hand its last counts to Redis first."""
    from tbproject import metrics

    metrics.flush()
