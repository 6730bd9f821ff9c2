"""The worker's drain of a backlog, in process: serial pipeline batches against overlapped ones.

    python -m bench.drain [messages] [rounds]    (BENCH_REDIS_URL: Redis for dedup and limits)

Hands ``messages`` queued uplinks (task messages of UPLINK_BATCH_SIZE, as a listener queues them)
to integrations.tasks.process_uplinks at once, as a worker's coalesced task gets a backlog, and
times the drain: PIPELINE_OVERLAP off (one batch after another) and on (integrations/overlap.py),
alternating, because the machine's load swings. Per round: msg/s, and CPU per message of this
process (time.process_time: every thread), of its converter engine processes (children) and of
the PostgreSQL backends serving its database (/proc utime+stime). No broker, no listener: only
the pipeline's chain (pool -> engine -> pool -> PostgreSQL).
"""

import os
import sys
import time

REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")
HZ = os.sysconf("SC_CLK_TCK")


def _cpu(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / HZ


def _children() -> list[int]:
    me, out = str(os.getpid()), []
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/stat") as f:
                    if f.read().rsplit(")", 1)[1].split()[1] == me:
                        out.append(int(pid))
            except OSError:
                continue
    return out


def _backends() -> list[int]:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        return [row[0] for row in cur.fetchall()]


STAGES = {"begin": 0.0, "complete": 0.0}


def _timed(name, fn):
    def run(*args, **kwargs):
        started = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            STAGES[name] += time.perf_counter() - started
    return run


def _drain(uplinks, overlap: bool) -> dict:
    from django.conf import settings

    from integrations import queue, tasks

    class Request:
        def __init__(self, batch):
            self.args, self.delivery_info = [batch], {}

    size = settings.UPLINK_BATCH_SIZE
    requests = [Request(queue.encode(uplinks[i:i + size])) for i in range(0, len(uplinks), size)]
    settings.PIPELINE_OVERLAP = overlap
    pids = set(_children()) | set(_backends())
    before = {pid: _cpu(pid) for pid in pids}
    STAGES.update(begin=0.0, complete=0.0)
    cpu, wall = time.process_time(), time.perf_counter()
    tasks.process_uplinks.run(requests)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    stages = STAGES["begin"] + STAGES["complete"]
    engine = sum(_cpu(p) - before.get(p, 0.0) for p in _children())
    pg = sum(_cpu(p) - before.get(p, 0.0) for p in set(_backends()) | pids if p not in _children())
    n = len(uplinks)
    return {"overlap": overlap, "msg_per_s": round(n / wall), "worker_us_per_msg": round(cpu / n * 1e6, 1),
            "engine_us_per_msg": round(engine / n * 1e6, 1), "pg_us_per_msg": round(pg / n * 1e6, 1),
            "worker_cores": round(cpu / wall, 2), "engine_cores": round(engine / wall, 2),
            "pg_cores": round(pg / wall, 2),
            # wall seconds of the two halves over the drain's: 1 = one after another, 2 = fully overlapped
            "stages_over_wall": round(stages / wall, 2)}


def main(n: int, rounds: int) -> None:
    os.environ.update(REDIS_URL=REDIS_URL, CELERY_TASK_ALWAYS_EAGER="false", LOAD_DEMO_DATA="false")
    from bench.setup import bench_database

    with bench_database():
        import json

        import redis

        from bench import uplinks as bench_uplinks
        from integrations import pipeline
        from integrations.messages import RawUplink

        pipeline.begin = _timed("begin", pipeline.begin)  # (process() looks them up here too)
        pipeline.complete = _timed("complete", pipeline.complete)
        redis.Redis.from_url(REDIS_URL).flushdb()
        _, _, http = bench_uplinks._objects()
        clock = bench_uplinks._Clock()

        def backlog(count):
            first = clock.take(count)
            return [RawUplink(str(http.pk), json.dumps(bench_uplinks._reading(i, first + i)).encode(),
                              {"integrationName": http.name}, first + i, "JSON") for i in range(count)]

        _drain(backlog(bench_uplinks.DEVICES * 3), False)  # warm: devices provisioned, engine started
        for k in range(rounds):
            for overlap in ((False, True) if k % 2 == 0 else (True, False)):
                print(_drain(backlog(n), overlap), flush=True)


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 30000, int(sys.argv[2]) if len(sys.argv) > 2 else 3)
