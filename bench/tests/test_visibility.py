"""bench.visibility: the watcher is a process of its own and reports times on the parent's clock."""

import subprocess
import sys
import time

import pytest

from bench.visibility import Visibility
from devices.telemetry import Point, write_points
from tbproject.testing.factories import make_device

T0 = 1_700_000_000_000


def test_perf_counter_of_another_process_is_the_same_clock():
    # CLOCK_MONOTONIC on Linux: a child's perf_counter() falls between two of the parent's
    before = time.perf_counter()
    child = float(subprocess.run([sys.executable, "-c", "import time; print(time.perf_counter())"],
                                 capture_output=True, text=True, check=True).stdout)
    after = time.perf_counter()
    assert before < child < after


def _dsn(connection) -> str:
    s = connection.settings_dict
    return f"postgresql://{s['USER']}:{s['PASSWORD'] or ''}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.mark.postgres
def test_the_watcher_process_sees_rows_when_they_are_written(transactional_db, tenant):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL")
    device = make_device(tenant, "vis-1")
    write_points([Point(device.pk, "t", T0, 1)])  # seen at once
    watch = Visibility(_dsn(connection), {T0: (0, "vis-1"), T0 + 1: (1, "vis-1"), T0 + 2: (2, "vis-1")}).start()
    written = time.perf_counter()
    write_points([Point(device.pk, "t", T0 + 1, 2)])
    seen = watch.stop(0.5)  # T0 + 2 is never written: the watcher gives up after the timeout
    assert set(seen) == {0, 1}
    assert seen[1] > written and seen[1] < time.perf_counter()
