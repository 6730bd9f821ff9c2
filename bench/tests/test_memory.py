"""bench.memory's process-group accounting: every process a service started is counted once."""

import os
import signal
import subprocess
import sys
import time

from bench.memory import group_memory, group_pids

# A parent in its own session (as bench/procs.py starts services) with one child, like the
# Celery worker and its prefork child; both print their pid so the test knows them.
_PARENT = ("import subprocess, sys, time; "
           "child = subprocess.Popen([sys.executable, '-c', 'import time; b = bytearray(32 << 20); time.sleep(60)']); "
           "print(child.pid, flush=True); time.sleep(60)")


def test_group_holds_the_leader_and_its_child_and_sums_their_memory():
    leader = subprocess.Popen([sys.executable, "-c", _PARENT], stdout=subprocess.PIPE, text=True,
                              start_new_session=True)
    child = int(leader.stdout.readline())
    try:
        time.sleep(0.3)  # let the child touch its 32 MB
        assert set(group_pids(leader.pid)) == {leader.pid, child}
        rss, pss, count = group_memory(leader.pid)
        assert count == 2
        assert rss > 32  # MB: the child's buffer alone
        assert 0 < pss <= rss
    finally:
        leader.kill()
        leader.wait()
        os.kill(child, signal.SIGKILL)


def test_a_group_that_does_not_exist_is_empty():
    assert group_pids(2**22 + 7) == []
    assert group_memory(2**22 + 7) == (0.0, 0.0, 0)
