"""The uplink task's coalescing policy (integrations/coalesce.py), on a stand-in pool.

A real worker running the task is tested in test_queue.py (test_a_celery_worker_stores_what_was_queued)."""

from dataclasses import dataclass, field

import pytest

from integrations.coalesce import CoalescingTask


class _Task(CoalescingTask):
    name = "tests.coalesce"
    flush_every = 4

    def run(self, requests):
        return len(requests)


@dataclass
class _Pool:
    num_processes: int = 1
    jobs: list = field(default_factory=list)

    def apply_async(self, fn, args, callback, error_callback):
        self.jobs.append((args[1][0], callback, error_callback))


@dataclass
class _Request:
    """What celery-batches reads of a worker's Request."""

    id: str
    acked: bool = False
    requeued: bool = False
    eta = None
    name = "tests.coalesce"
    delivery_info: dict = field(default_factory=dict)
    hostname = "host"
    reply_to = correlation_id = None
    request_dict: dict = field(default_factory=dict)

    @property
    def _payload(self):
        return ((self.id,), {}, {})

    def acknowledge(self):
        self.acked = True

    def reject(self, requeue=False):
        self.requeued = requeue


def _task(processes=1):
    task = _Task()
    task._pool = _Pool(processes)
    return task


def _receive(task, *ids):
    requests = [_Request(i) for i in ids]
    for r in requests:
        task._buffer.put(r)
    return requests


def _ids(job):
    return [r.args[0] for r in job[0]]


def test_an_idle_worker_runs_what_it_has_and_a_busy_one_collects_until_a_process_is_free():
    task = _task()
    first = _receive(task, "a", "b")
    task._do_flush()
    assert [_ids(j) for j in task._pool.jobs] == [["a", "b"]]
    later = _receive(task, "c", "d", "e")
    task._do_flush()  # the timer fires while the only process is busy: nothing is handed over
    assert len(task._pool.jobs) == 1 and task._buffer.qsize() == 3
    task._pool.jobs[0][1](None)  # the batch finished: acknowledged, and the waiting ones go at once
    assert all(r.acked for r in first) and not any(r.acked for r in later)
    assert _ids(task._pool.jobs[1]) == ["c", "d", "e"]


def test_a_full_buffer_is_handed_over_even_when_busy():
    task = _task()
    _receive(task, "a")
    task._do_flush()
    _receive(task, "b", "c", "d", "e")  # flush_every = 4
    task._do_flush()
    assert [_ids(j) for j in task._pool.jobs] == [["a"], ["b", "c", "d", "e"]]


def test_two_processes_take_two_batches_before_collecting():
    task = _task(processes=2)
    _receive(task, "a")
    task._do_flush()
    _receive(task, "b")
    task._do_flush()
    _receive(task, "c")
    task._do_flush()
    assert [_ids(j) for j in task._pool.jobs] == [["a"], ["b"]]


def test_a_lost_pool_process_puts_its_messages_back_in_the_queue():
    task = _task()
    requests = _receive(task, "a", "b")
    task._do_flush()
    task._pool.jobs[0][2](RuntimeError("worker lost"))
    assert all(r.requeued and not r.acked for r in requests)
    _receive(task, "c")
    task._do_flush()  # the process slot is free again
    assert _ids(task._pool.jobs[1]) == ["c"]


def test_messages_wait_for_a_busy_process_at_most_max_hold(monkeypatch):
    """A batch whose end is never reported must not hold the next messages for good (tests/faults/)."""
    from integrations import coalesce

    clock = [100.0]
    monkeypatch.setattr(coalesce, "monotonic", lambda: clock[0])
    task = _task()
    _receive(task, "a")
    task._do_flush()  # "a" runs, and its callbacks never come
    _receive(task, "b")
    task._do_flush()
    clock[0] += task.max_hold / 2
    task._do_flush()
    assert [_ids(j) for j in task._pool.jobs] == [["a"]]
    clock[0] += task.max_hold
    task._do_flush()
    assert [_ids(j) for j in task._pool.jobs] == [["a"], ["b"]]


def test_a_batch_the_pool_refused_does_not_count_as_running():
    task = _task()

    def refuse(*args, **kwargs):
        raise RuntimeError("pool restarting")

    task._pool.apply_async = refuse
    _receive(task, "a")
    with pytest.raises(RuntimeError):
        task._do_flush()
    assert task._running == 0


def test_a_restarted_consumer_rearms_the_flush_timer_and_drops_what_came_on_the_lost_connection():
    """After a lost broker connection Celery clears the consumer's timer (tests/faults/, Redis kill)."""
    task = _task()

    class Entry:
        cancelled = False

        def cancel(self):
            self.cancelled = True

    stale = task._tref = Entry()
    _receive(task, "a", "b")
    task._consumer_started()
    assert stale.cancelled and task._tref is None  # the next message arms a timer of the new consumer
    assert task._buffer.empty() and task._pending.empty()


def _heavy(task, *ids, size=100_000):
    requests = [_Request(i) for i in ids]
    for r in requests:
        r.args = ({"v": 2, "u": "x" * size, "m": "[]"},)
        task._buffer.put(r)
    return requests


def test_a_heavy_flush_is_shared_among_the_processes_in_order():
    task = _task(processes=2)
    requests = _heavy(task, "a", "b", "c", "d", "e")  # 500,000 characters of rows: past SPLIT_WEIGHT
    task._do_flush()
    assert [[r.id for r in job[0]] for job in task._pool.jobs] == [["a", "b", "c"], ["d", "e"]]
    assert task._running == 2
    task._pool.jobs[1][1](None)  # each part acknowledges its own messages when it is done
    assert [r.acked for r in requests] == [False, False, False, True, True]


def test_light_flushes_and_a_single_process_take_the_batch_whole():
    light = _task(processes=2)
    _heavy(light, "a", "b", "c", size=1_000)
    light._do_flush()
    single = _task(processes=1)
    _heavy(single, "a", "b", "c", "d", "e")
    single._do_flush()
    assert [len(job[0]) for job in light._pool.jobs] == [3] and [len(job[0]) for job in single._pool.jobs] == [5]
