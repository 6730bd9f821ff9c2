"""The periodic job table and its in-process runner (embedded mode)."""

import logging

from tbproject import periodic
from tbproject.celery import app
from tbproject.periodic import JOBS, PeriodicJob, PeriodicRunner, beat_schedule

calls: list[str] = []


def ok_job():
    calls.append("ok")
    return "fine"


def failing_job():
    calls.append("failing")
    raise RuntimeError("boom")


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def test_it_runs_due_jobs_and_survives_failing_or_missing_ones(caplog):
    calls.clear()
    clock = Clock()
    runner = PeriodicRunner([PeriodicJob(f"{__name__}.ok_job", 10), PeriodicJob(f"{__name__}.failing_job", 10),
                             PeriodicJob("no_such_app.tasks.job", 10)], first_delay=5, clock=clock)
    assert runner.run_due() == []
    clock.now += 5
    with caplog.at_level(logging.INFO, logger=periodic.__name__):
        assert runner.run_due() == [f"{__name__}.ok_job"]
        clock.now += 10
        assert runner.run_due() == [f"{__name__}.ok_job"]
    assert calls == ["ok", "failing", "ok", "failing"]
    assert caplog.text.count(f"periodic job {__name__}.failing_job failed") == 2
    assert caplog.text.count("no_such_app.tasks.job is not available") == 1  # warned once


def test_it_starts_and_stops_a_daemon_thread():
    runner = PeriodicRunner([], first_delay=0)
    thread = runner.start()
    assert thread.daemon and thread.is_alive()
    runner.stop()
    assert not thread.is_alive()


def test_every_job_is_a_registered_celery_task_in_the_beat_schedule():
    schedule = beat_schedule()
    assert set(schedule) == {job.path for job in JOBS}
    app.loader.import_default_modules()
    for job in JOBS:
        assert job.path in app.tasks, f"{job.path} is not a Celery task named by its path"
    assert app.conf.beat_schedule == schedule
