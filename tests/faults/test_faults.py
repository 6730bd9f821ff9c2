"""Faults against the production processes while uplinks stream in (issue 19).

Each test streams uniquely numbered uplinks over HTTP and MQTT QoS 1 (load.py) at a steady rate
into the production stack (stack.py), breaks one part of it, repairs it, and then checks that
every accepted message was stored or dead-lettered (none lost), that duplicates are explained
(runs the fault interrupted, or redeliveries after the visibility timeout: report.py), that the
system recovered, and that the web process refused what it could not queue with 503, never 500.
Any loss fails: a task message being received when the worker or Redis dies included (the worker
receives atomically, tbproject/broker.py). The figures go to the suite's report (report.py),
printed at the end of the run.
"""

import time

from tests.faults import report
from tests.faults.load import Stream, Watcher
from tests.faults.stack import LEASE_SECONDS, VISIBILITY_TIMEOUT

#: streaming before the fault, and after it was repaired
BEFORE, AFTER = 3.0, 5.0
#: after the stream stopped, the accepted messages must keep being stored: the longest wait for
#: the next one (a stall), and the longest wait in all (a worker restarted on a loaded machine may
#: take half a minute to start and as long again to drain its backlog)
SETTLE, SETTLE_CAP = 45.0, 180.0
#: what an HTTP sender may get besides 2xx: 503 (could not queue), or no answer (web process down)
NO_ANSWER = {"ConnectionRefusedError", "ConnectionResetError", "IncompleteReadError", "BrokenPipeError"}


def run(stack, fault: str, break_it, prepare=None) -> report.Figures:
    """Stream, call ``break_it()`` (breaks and repairs; returns notes), stream on, settle, measure.
    ``prepare()`` waits for the moment to break it (the fault's clock starts after it)."""
    stream = Stream(stack).start()
    watcher = Watcher(stack, stream).start()
    try:
        time.sleep(BEFORE)
        context = prepare() if prepare else None
        started = time.monotonic()
        notes = break_it(context) if prepare else break_it()
        repaired = time.monotonic()  # a fault may last (two terminations 2 s apart, a restart)
        time.sleep(AFTER)
    finally:
        stream.stop()
    if not watcher.settle(SETTLE, SETTLE_CAP):
        notes += (f" (not all stored: none for {SETTLE:.0f} s, or {SETTLE_CAP:.0f} s in all; "
                  f"broker: {stack.broker_state()})")
    time.sleep(1.0)  # the debug events of the last runs
    watcher.stop()
    watcher.poll()
    figures = report.measure(fault, stream, watcher, started, VISIBILITY_TIMEOUT, notes, repaired=repaired)
    report.record(figures)
    return figures


def check(figures: report.Figures, *, refusals: set[str] = frozenset()) -> None:
    assert figures.accepted > 0, figures
    assert figures.lost == 0, f"{figures.fault}: accepted and lost (seq, transport, sent after the fault began, " \
                              f"pipeline runs): {figures.lost_seqs} ({figures})"
    assert figures.duplicates == figures.duplicates_explained, f"duplicates the fault does not explain: {figures}"
    assert figures.recovery_s is not None, f"{figures.fault}: did not recover: {figures}"
    allowed = {f"HTTP {a}" for a in {503, *refusals}}
    unexpected = {k: v for k, v in figures.refused.items() if k not in allowed}
    assert not unexpected, f"{figures.fault}: answers other than 2xx or {sorted(allowed)}: {unexpected}"


def test_worker_killed_mid_batch(stack):
    def in_hand() -> int:
        deadline = time.monotonic() + 10
        while (unacked := stack.unacked()) == 0:  # a batch delivered to the worker and not yet done
            assert time.monotonic() < deadline, "the worker never had a batch in hand"
            time.sleep(0.001)
        return unacked

    def break_it(unacked: int) -> str:
        stack.worker.kill()
        time.sleep(1.0)
        stack.worker.start()
        return (f"SIGKILL with {unacked} task messages delivered and not acknowledged; Redis hands them out "
                f"again after the visibility timeout ({VISIBILITY_TIMEOUT} s here), to the restarted worker")

    check(run(stack, "worker SIGKILL mid-batch, restarted", break_it, in_hand))


def test_redis_killed_and_restarted(stack):
    def break_it() -> str:
        stack.redis.kill()
        time.sleep(3.0)
        stack.redis.start()
        return "Redis down 3 s (SIGKILL); restarted from its append-only file"

    figures = run(stack, "Redis SIGKILL, restarted after 3 s", break_it)
    assert figures.refused.get("HTTP 503"), f"the web process accepted uplinks while it could not queue: {figures}"
    check(figures)


def test_postgres_sessions_terminated_twice(stack):
    def break_it() -> str:
        first = stack.terminate_sessions()
        time.sleep(2.0)
        second = stack.terminate_sessions()
        return f"pg_terminate_backend on every session of the database: {first}, then 2 s later {second}"

    check(run(stack, "PostgreSQL sessions terminated, twice", break_it))


def test_web_process_killed_and_restarted(stack):
    def break_it() -> str:
        stack.web.kill()
        time.sleep(1.0)
        began = time.monotonic()
        stack.web.start()
        return f"SIGKILL; the new uvicorn listened {time.monotonic() - began:.1f} s after it was started"

    check(run(stack, "web process SIGKILL, restarted", break_it), refusals=NO_ANSWER)


def test_runintegrations_killed_and_the_other_takes_over(stack):
    def break_it() -> str:
        holder = stack.lease_holder()
        other = next(h for h in stack.hosts if h != holder)
        stack.hosts[holder].kill()
        took = stack.wait_connected(other, timeout=LEASE_SECONDS + 20)
        stack.hosts[holder].start()
        return f"SIGKILL of {holder}; {other} took the lease over and was connected {took:.1f} s later"

    check(run(stack, "runintegrations SIGKILL, the other host takes over", break_it))
